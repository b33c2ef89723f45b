"""Shared spectral math: framing, windows, power spectra, mel filterbanks, DCT, dB scaling.

Conventions (also in docs/dsp-blocks.md):
- Frames are ``frame`` samples long every ``stride`` samples; count = 1 + (n - frame) // stride.
- Power spectra are relative to full scale: |rfft(w * x, nfft)|^2 / (sum(w))^2, so a full-scale
  sine (amplitude 1) reads 0.25 (-6 dB) in its bin with a rectangular window.
- Mel scale (HTK): mel = 2595 log10(1 + f / 700).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from studio.dsp.params import DspError


def frame_count(n: int, frame: int, stride: int) -> int:
    return 0 if n < frame else 1 + (n - frame) // stride


def frames_of(x: np.ndarray, frame: int, stride: int) -> np.ndarray:
    """(count, frame) view of a 1-D signal; no copy."""
    count = frame_count(len(x), frame, stride)
    if count == 0:
        raise DspError(f"the window holds {len(x)} samples, fewer than one frame of {frame}")
    return np.lib.stride_tricks.sliding_window_view(x, frame)[: (count - 1) * stride + 1 : stride]


def _cosine_window(n: int, a0: float) -> np.ndarray:
    """a0 - (1 - a0) cos(2 pi i / (n - 1)): Hamming for a0 = 0.54, Hann for 0.5."""
    w = (a0 - (1 - a0) * np.cos(2 * np.pi * np.arange(n) / max(n - 1, 1))).astype(np.float32)
    if n == 1:
        w[:] = 1.0
    w.flags.writeable = False
    return w


@lru_cache(maxsize=32)
def hamming(n: int) -> np.ndarray:
    return _cosine_window(n, 0.54)


@lru_cache(maxsize=32)
def hann(n: int) -> np.ndarray:
    return _cosine_window(n, 0.5)


def power_spectrum(frames: np.ndarray, nfft: int, window: np.ndarray) -> np.ndarray:
    """(count, nfft/2+1) float32 power relative to full scale."""
    if frames.shape[1] > nfft:
        raise DspError(f"FFT length {nfft} is shorter than the frame ({frames.shape[1]} samples)")
    spec = np.fft.rfft(frames * window, n=nfft, axis=1)
    scale = np.float32(1.0 / float(window.sum()) ** 2)
    return ((spec.real ** 2 + spec.imag ** 2) * scale).astype(np.float32)


def hz_to_mel(f):
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def mel_to_hz(m):
    return 700.0 * (10.0 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)


@lru_cache(maxsize=32)
def mel_filterbank(n_filters: int, nfft: int, fs: float, low: float, high: float) -> np.ndarray:
    """(n_filters, nfft/2+1) triangular filters, equally spaced in mel between low and high Hz.

    Filter m rises linearly from edge m-1 to a peak of 1 at edge m and falls to 0 at edge m+1,
    evaluated at each bin's centre frequency k * fs / nfft. Every filter must cover a bin."""
    if not 0 <= low < high <= fs / 2 + 1e-9:
        raise DspError(f"mel range {low:g}..{high:g} Hz must lie within 0..{fs / 2:g} Hz (half the rate)")
    edges = mel_to_hz(np.linspace(hz_to_mel(low), hz_to_mel(high), n_filters + 2))
    freqs = np.arange(nfft // 2 + 1) * fs / nfft
    bank = np.zeros((n_filters, len(freqs)))
    for m in range(n_filters):
        lo, mid, hi = edges[m], edges[m + 1], edges[m + 2]
        up = (freqs - lo) / (mid - lo)
        down = (hi - freqs) / (hi - mid)
        bank[m] = np.clip(np.minimum(up, down), 0.0, None)
    empty = np.flatnonzero(bank.max(axis=1) <= 0)
    if empty.size:
        raise DspError(f"{n_filters} mel filters are too many for FFT length {nfft} at {fs:g} Hz: "
                       f"filter {int(empty[0]) + 1} covers no FFT bin (use fewer filters or a longer FFT)")
    out = bank.astype(np.float32)
    out.flags.writeable = False
    return out


@lru_cache(maxsize=32)
def dct_matrix(n_out: int, n_in: int) -> np.ndarray:
    """Orthonormal DCT-II rows: C[k, n] = s_k cos(pi k (2n + 1) / (2 N)), s_0 = sqrt(1/N), else sqrt(2/N)."""
    n = np.arange(n_in)
    k = np.arange(n_out)[:, None]
    c = np.cos(np.pi * k * (2 * n + 1) / (2 * n_in)) * np.sqrt(2.0 / n_in)
    c[0] *= np.sqrt(0.5)
    out = c.astype(np.float32)
    out.flags.writeable = False
    return out


def to_db(power: np.ndarray) -> np.ndarray:
    return (10.0 * np.log10(np.maximum(power, 1e-30))).astype(np.float32)


def floor_normalize(db: np.ndarray, floor_db: float) -> np.ndarray:
    """Map [floor, 0] dB onto [0, 1], clipping outside: silence reads 0, full scale 1."""
    return np.clip((db - floor_db) / -floor_db, 0.0, 1.0).astype(np.float32)
