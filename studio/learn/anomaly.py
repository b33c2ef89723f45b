"""K-means anomaly detection on chosen features.

Features are standardised (training mean and spread), clustered with K-means; a window's score
is its distance to the nearest centre. The threshold is a percentile of the training windows'
scores, so "anomalous" means farther from every centre than almost all training data. The model
is plain data (centres, mean, scale, threshold, feature indices) that firmware can carry.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from studio.params import ParamError


@dataclass
class AnomalyModel:
    features: list[int]
    mean: list[float]
    scale: list[float]
    centres: list[list[float]]
    threshold: float

    def score(self, x: np.ndarray) -> np.ndarray:
        """Distance of each window (rows of flattened features) to its nearest centre."""
        flat = np.asarray(x, np.float64).reshape(len(x), -1)[:, self.features]
        z = (flat - np.asarray(self.mean)) / np.asarray(self.scale)
        c = np.asarray(self.centres)
        d2 = (z * z).sum(1)[:, None] - 2 * z @ c.T + (c * c).sum(1)[None, :]
        return np.sqrt(np.maximum(d2.min(axis=1), 0.0))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AnomalyModel:
        return cls(**d)


def fit(x: np.ndarray, params: dict[str, Any], seed: int) -> AnomalyModel:
    from sklearn.cluster import KMeans

    flat = np.asarray(x, np.float64).reshape(len(x), -1)
    chosen = [int(i) for i in params["features"]] or list(range(flat.shape[1]))
    bad = [i for i in chosen if i >= flat.shape[1]]
    if bad:
        raise ParamError(f"anomaly feature index {bad[0]} is out of range (the impulse has {flat.shape[1]} features)")
    k = params["clusters"]
    if len(flat) < k:
        raise ParamError(f"anomaly detection with {k} clusters needs at least {k} training windows (has {len(flat)})")
    sub = flat[:, chosen]
    mean, scale = sub.mean(0), sub.std(0)
    scale[scale < 1e-12] = 1.0  # a constant feature carries no distance
    km = KMeans(n_clusters=k, n_init=4, random_state=seed).fit((sub - mean) / scale)
    model = AnomalyModel(chosen, mean.tolist(), scale.tolist(), km.cluster_centers_.tolist(), 0.0)
    model.threshold = float(np.percentile(model.score(x), params["threshold_percentile"]))
    return model


def evaluate(model: AnomalyModel, x: np.ndarray, labels: list[str], known: list[str]) -> dict[str, Any]:
    """Per testing label: the share of windows flagged. Labels that are not classes should be flagged."""
    scores = model.score(x) if len(x) else np.zeros(0)
    flagged = scores > model.threshold
    arr = np.array(labels)
    per_label = {}
    for label in sorted(set(labels)):
        m = arr == label
        per_label[label] = {"windows": int(m.sum()), "flagged": round(float(flagged[m].mean()), 4),
                            "expected_anomaly": label not in known,
                            "mean_score": round(float(scores[m].mean()), 4)}
    expected = ~np.isin(arr, known) if len(arr) else np.zeros(0, bool)
    accuracy = float((flagged == expected).mean()) if len(arr) else 0.0
    return {"threshold": round(model.threshold, 4), "accuracy": round(accuracy, 4), "per_label": per_label}
