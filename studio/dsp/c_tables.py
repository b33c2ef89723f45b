"""Tables several DSP blocks' C ports share (FFT twiddles, the power scale of a window, band bins), computed with
the same numbers the Python blocks use, rounded once to float32 by the C renderer, so C and Python agree."""

from __future__ import annotations

from typing import Any

import numpy as np

from studio.c_literals import CSourceError


def power_scale(window: np.ndarray) -> np.float32:
    """As spectra.power_spectrum: 1 / (sum w)^2, the window summed in float32."""
    return np.float32(1.0 / float(window.sum()) ** 2)


def fft_tables(nfft: int) -> dict[str, Any]:
    if nfft < 8 or nfft & (nfft - 1):
        raise CSourceError(f"FFT length {nfft} is not a power of two of at least 8; the C FFT needs one")
    k = np.arange(nfft // 2)
    return {"nfft": nfft, "tw_cos": np.cos(2 * np.pi * k / nfft), "tw_sin": np.sin(2 * np.pi * k / nfft)}


def band_bins(edges: list[float], nbins: int, fs: float, nfft: int) -> list[tuple[int, int]]:
    """Bins with edge[i] <= f < edge[i+1] (as the Python mask), as [first, end) ranges."""
    freqs = np.arange(nbins) * fs / nfft
    out = []
    for lo, hi in zip(edges, edges[1:], strict=False):
        idx = np.flatnonzero((freqs >= lo) & (freqs < hi))
        out.append((int(idx[0]), int(idx[-1]) + 1) if idx.size else (0, 0))
    return out
