"""2-D embeddings of feature windows for the feature explorer (scikit-learn)."""

from __future__ import annotations

import numpy as np

from studio.dsp.params import DspError

METHODS = ("pca", "tsne")


def embed(features: np.ndarray, method: str = "pca", seed: int = 0) -> np.ndarray:
    """(windows, 2) coordinates. Features are flattened and standardised first; t-SNE works on
    the first 30 principal components."""
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE
    from sklearn.preprocessing import StandardScaler

    if method not in METHODS:
        raise DspError(f"unknown embedding {method!r} (pca or tsne)")
    x = np.asarray(features, dtype=np.float64).reshape(len(features), -1)
    if len(x) < 3:
        raise DspError("the explorer needs at least 3 windows")
    x = StandardScaler().fit_transform(x)
    if method == "pca":
        out = PCA(n_components=2, random_state=seed).fit_transform(x) if x.shape[1] >= 2 else np.hstack(
            [x, np.zeros_like(x)])
        return out.astype(np.float32)
    reduced = PCA(n_components=min(30, x.shape[1], len(x)), random_state=seed).fit_transform(x)
    perplexity = float(min(30, max(2, (len(x) - 1) // 3)))
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(
        reduced).astype(np.float32)
