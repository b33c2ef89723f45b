"""Classification metrics: accuracy, per-class precision, recall and F1, confusion matrix."""

from __future__ import annotations

from typing import Any

import numpy as np


def confusion(y_true: np.ndarray, y_pred: np.ndarray, classes: int) -> np.ndarray:
    """Rows are the true class, columns the predicted one."""
    m = np.zeros((classes, classes), np.int64)
    np.add.at(m, (np.asarray(y_true, int), np.asarray(y_pred, int)), 1)
    return m


def report(y_true: np.ndarray, y_pred: np.ndarray, labels: list[str]) -> dict[str, Any]:
    m = confusion(y_true, y_pred, len(labels))
    total = int(m.sum())
    per_class = {}
    for i, label in enumerate(labels):
        tp, predicted, actual = m[i, i], m[:, i].sum(), m[i, :].sum()
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {"precision": round(float(precision), 4), "recall": round(float(recall), 4),
                            "f1": round(float(f1), 4), "support": int(actual)}
    return {"accuracy": round(float(np.trace(m) / total), 4) if total else None, "windows": total,
            "per_class": per_class, "confusion": m.tolist(), "labels": list(labels)}


def percent(v: float | None) -> str:
    """A share as a percentage with one decimal; ``-`` when there is none (an empty testing set)."""
    return "-" if v is None else f"{100 * v:.1f}%"
