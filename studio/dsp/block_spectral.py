"""Spectral analysis, for motion: per axis, the mean removed, a Butterworth filter, the RMS, then a Welch power
spectrum reduced to band powers, peaks or every bin. Formulas in docs/dsp-blocks.md; C in
``block_spectral.c.j2``, whose tables come from the very functions below."""

from __future__ import annotations

from typing import Any

import numpy as np

from studio.dsp import spectra
from studio.dsp.c_tables import band_bins, fft_tables, power_scale
from studio.dsp.params import DspError, Param
from studio.dsp.registry import Block, Configured, register


def sos(p: dict[str, Any], fs: float):
    """The Butterworth filter as second-order sections, or None."""
    if p["filter_type"] == "none":
        return None
    # scipy.signal takes over a second to import: --help and the first window must not wait
    from scipy import signal

    return signal.butter(p["filter_order"], p["filter_cutoff"], btype=p["filter_type"] + "pass", fs=fs,
                         output="sos")


def _check(p, fs, frames, axes, given, notes) -> None:
    if p["filter_type"] != "none" and not 0 < p["filter_cutoff"] < fs / 2:
        raise DspError(f"filter cutoff {p['filter_cutoff']:g} Hz must be between 0 and {fs / 2:g} Hz (half the rate)")
    if p["features"] == "bands":
        edges = p["band_edges"]
        if len(edges) < 2 or any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
            raise DspError("band_edges needs at least two increasing frequencies")
        if edges[-1] > fs / 2:
            raise DspError(f"band edge {edges[-1]:g} Hz is above half the rate ({fs / 2:g} Hz)")


def sosfilt(sos_sections: np.ndarray, x: np.ndarray) -> np.ndarray:
    # scipy.signal takes over a second to import: --help and the first window must not wait
    from scipy import signal

    return signal.sosfilt(sos_sections, x)


def _spectral(window: np.ndarray, fs: float, p: dict[str, Any]) -> np.ndarray:
    nfft = p["fft_length"]
    filt = sos(p, fs)
    out = []
    for a in range(window.shape[1]):
        x = window[:, a].astype(np.float64) * p["scale"]
        x = x - x.mean()
        if filt is not None:
            x = sosfilt(filt, x)
        rms = np.sqrt(np.mean(x ** 2))
        hop = nfft // 2 if p["overlap"] else nfft
        frame = min(nfft, len(x))
        frames = spectra.frames_of(x.astype(np.float32), frame, hop if frame == nfft else frame)
        power = spectra.power_spectrum(frames, nfft, spectra.hann(frame)).mean(axis=0)
        freqs = np.arange(len(power)) * fs / nfft
        if p["features"] == "bands":
            edges = p["band_edges"]
            feats = np.array([power[(freqs >= lo) & (freqs < hi)].sum() for lo, hi in zip(edges, edges[1:],
                                                                                           strict=False)])
        elif p["features"] == "peaks":
            feats = _peaks(power, freqs, p["n_peaks"], p["peak_threshold"], p["log_spectrum"])
        else:
            feats = power
        if p["log_spectrum"] and p["features"] != "peaks":
            feats = 10 * np.log10(np.maximum(feats, 1e-10))
        out.append(np.concatenate(([rms], feats)))
    return np.concatenate(out).astype(np.float32)


def _peaks(power: np.ndarray, freqs: np.ndarray, n: int, threshold: float, log: bool) -> np.ndarray:
    """The n highest local maxima (above threshold x the highest), as (frequency, height) pairs
    ordered by height; missing peaks are zeros."""
    inner = np.flatnonzero((power[1:-1] > power[:-2]) & (power[1:-1] >= power[2:])) + 1
    top = power.max() if power.size else 0.0
    inner = inner[power[inner] >= threshold * top] if top > 0 else inner[:0]
    order = inner[np.argsort(-power[inner], kind="stable")][:n]
    pairs = np.zeros((n, 2))
    heights = power[order]
    pairs[: len(order), 0] = freqs[order]
    pairs[: len(order), 1] = 10 * np.log10(np.maximum(heights, 1e-10)) if log else heights
    return pairs.reshape(-1)


def _names(c: Configured, axes: list[str]) -> list[str]:
    p = c.params
    if p["features"] == "bands":
        edges = p["band_edges"]
        per = [f"band {lo:g}-{hi:g} Hz" for lo, hi in zip(edges, edges[1:], strict=False)]
    elif p["features"] == "peaks":
        per = [f"peak {i + 1} {what}" for i in range(p["n_peaks"]) for what in ("Hz", "height")]
    else:
        per = [f"{k * c.fs / p['fft_length']:g} Hz" for k in range(p["fft_length"] // 2 + 1)]
    return [f"{axis} {name}" for axis in axes for name in ["rms", *per]]


def _tables(c: Configured) -> dict[str, Any]:
    p, n = c.params, c.window_frames
    nfft = p["fft_length"]
    frame = min(nfft, n)
    hop = (nfft // 2 if p["overlap"] else nfft) if frame == nfft else frame
    window = spectra.hann(frame)
    filt = sos(p, c.fs)  # the very call the Python block makes
    nbins = nfft // 2 + 1
    ctx = {
        "scale": p["scale"], "frame": frame, "hop": hop, "frames": spectra.frame_count(n, frame, hop),
        "window": window, "power_scale": power_scale(window),
        "sos": None if filt is None else np.asarray(filt, np.float64), "features": p["features"],
        "log": bool(p["log_spectrum"]), "bin_hz": c.fs / nfft, "nbins": nbins, **fft_tables(nfft),
    }
    if p["features"] == "bands":
        ctx["bands"] = band_bins(p["band_edges"], nbins, c.fs, nfft)
    elif p["features"] == "peaks":
        ctx["n_peaks"], ctx["peak_threshold"] = p["n_peaks"], p["peak_threshold"]
    return ctx


register(Block(
    name="spectral", title="Spectral analysis", version=1,
    schema=(
        Param("scale", "float", 1.0, "Multiply every value by this first"),
        Param("filter_type", "choice", "low", "Butterworth filter before the spectrum",
              choices=("none", "low", "high")),
        Param("filter_cutoff", "float", 3.0, "Filter cutoff in Hz (-3 dB point)", minimum=0.0),
        Param("filter_order", "int", 6, "Filter order: higher cuts off more steeply", minimum=1, maximum=12),
        Param("fft_length", "int", 128, "FFT length in samples", minimum=8, maximum=8192),
        Param("overlap", "bool", True, "Overlap FFT frames by half (Welch averaging)"),
        Param("log_spectrum", "bool", True, "Express powers in dB"),
        Param("features", "choice", "bands", "Band powers, spectral peaks, or the whole spectrum",
              choices=("bands", "peaks", "spectrum")),
        Param("band_edges", "floats", [0.1, 0.5, 1.0, 2.0, 5.0],
              "Band edges in Hz, rising: each neighbouring pair bounds one band", minimum=0.0),
        Param("n_peaks", "int", 3, "Spectral peaks kept per axis (features: peaks)", minimum=1, maximum=32),
        Param("peak_threshold", "float", 0.1, "Peaks below this share of the highest are ignored",
              minimum=0.0, maximum=1.0),
    ),
    summary="Per axis: remove the mean, Butterworth filter, RMS, then a Welch power spectrum reduced to band "
            "powers, peaks or all bins.",
    compute=_spectral, check=_check, feature_names=_names,
    c_template="block_spectral.c.j2", c_tables=_tables, c_version=1,
))
