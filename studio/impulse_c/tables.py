"""The constants each DSP block's C code needs, computed here with the Python block's own functions.

Every table (windows, filter sections, mel filterbank, DCT matrix, FFT twiddles, band bins) comes
from the same code the Python block runs, rounded once to float32, so C and Python use the same
numbers. Each builder returns the template's context for one block.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from studio.c_literals import CSourceError as ImpulseCError
from studio.dsp import blocks, spectra
from studio.dsp.registry import Configured, frame_samples

# the block versions whose formulas the C templates implement
C_VERSIONS = {"raw": 1, "flatten": 1, "spectral": 1, "mfcc": 1, "mfe": 1, "spectrogram": 1}


def _power_scale(window: np.ndarray) -> np.float32:
    """As spectra.power_spectrum: 1 / (sum w)^2, the window summed in float32."""
    return np.float32(1.0 / float(window.sum()) ** 2)


def _fft(nfft: int) -> dict[str, Any]:
    if nfft < 8 or nfft & (nfft - 1):
        raise ImpulseCError(f"FFT length {nfft} is not a power of two of at least 8; the C FFT needs one")
    k = np.arange(nfft // 2)
    return {"nfft": nfft, "tw_cos": np.cos(2 * np.pi * k / nfft), "tw_sin": np.sin(2 * np.pi * k / nfft)}


def _raw(c: Configured) -> dict[str, Any]:
    return {"template": "block_raw.c.j2", "scale": c.params["scale"]}


def _flatten(c: Configured) -> dict[str, Any]:
    return {"template": "block_flatten.c.j2", "scale": c.params["scale"],
            "stats": [s for s in blocks.STATS if c.params[s]]}


def _band_bins(edges: list[float], nbins: int, fs: float, nfft: int) -> list[tuple[int, int]]:
    """Bins with edge[i] <= f < edge[i+1] (as the Python mask), as [first, end) ranges."""
    freqs = np.arange(nbins) * fs / nfft
    out = []
    for lo, hi in zip(edges, edges[1:], strict=False):
        idx = np.flatnonzero((freqs >= lo) & (freqs < hi))
        out.append((int(idx[0]), int(idx[-1]) + 1) if idx.size else (0, 0))
    return out


def _spectral(c: Configured) -> dict[str, Any]:
    p, n = c.params, c.window_frames
    nfft = p["fft_length"]
    frame = min(nfft, n)
    hop = (nfft // 2 if p["overlap"] else nfft) if frame == nfft else frame
    window = spectra.hann(frame)
    sos = blocks._sos(p, c.fs)  # the very call the Python block makes
    nbins = nfft // 2 + 1
    ctx = {
        "template": "block_spectral.c.j2", "scale": p["scale"], "frame": frame, "hop": hop,
        "frames": spectra.frame_count(n, frame, hop), "window": window, "power_scale": _power_scale(window),
        "sos": None if sos is None else np.asarray(sos, np.float64), "features": p["features"],
        "log": bool(p["log_spectrum"]), "bin_hz": c.fs / nfft, "nbins": nbins, **_fft(nfft),
    }
    if p["features"] == "bands":
        ctx["bands"] = _band_bins(p["band_edges"], nbins, c.fs, nfft)
    elif p["features"] == "peaks":
        ctx["n_peaks"], ctx["peak_threshold"] = p["n_peaks"], p["peak_threshold"]
    return ctx


def _mel(p: dict[str, Any], fs: float) -> dict[str, Any]:
    high = p["high_frequency"] or fs / 2
    bank = spectra.mel_filterbank(p["num_filters"], p["fft_length"], fs, float(p["low_frequency"]), float(high))
    first, count, weights = [], [], []
    for row in bank:
        nz = np.flatnonzero(row)
        lo, hi = int(nz[0]), int(nz[-1]) + 1
        first.append(lo)
        count.append(hi - lo)
        weights.extend(row[lo:hi])
    return {"mel_filters": len(bank), "mel_first": first, "mel_count": count, "mel_weights": weights}


def _audio(c: Configured) -> dict[str, Any]:
    p, name = c.params, c.block.name
    frame = frame_samples(p["frame_length_ms"], c.fs, "frame")
    stride = frame_samples(p["frame_stride_ms"], c.fs, "stride")
    window = spectra.hamming(frame)
    nfft = p["fft_length"]
    ctx = {
        "template": "block_audio.c.j2", "kind": name, "frame": frame, "stride": stride,
        "frames": spectra.frame_count(c.window_frames, frame, stride), "window": window,
        "power_scale": _power_scale(window), "nbins": nfft // 2 + 1, "pre_emphasis": 0.0, "cmn_half": 0,
        **_fft(nfft),
    }
    if name != "spectrogram":
        ctx.update(_mel(p, c.fs))
    if name == "mfcc":
        ctx["pre_emphasis"] = p["pre_emphasis"]
        ctx["cepstral"] = p["num_cepstral"]
        ctx["dct"] = spectra.dct_matrix(p["num_cepstral"], p["num_filters"])
        ctx["cmn_half"] = p["cmn_window"] // 2 if p["cmn_window"] > 1 else 0
        ctx["columns"] = p["num_cepstral"]
    else:
        ctx["floor_db"] = p["noise_floor_db"]
        ctx["columns"] = ctx["mel_filters"] if name == "mfe" else ctx["nbins"]
    return ctx


BUILDERS = {"raw": _raw, "flatten": _flatten, "spectral": _spectral, "mfcc": _audio, "mfe": _audio,
            "spectrogram": _audio}


def block_context(c: Configured) -> dict[str, Any]:
    ctx = BUILDERS[c.block.name](c)
    ctx["feature_count"] = int(np.prod(c.shape))
    return ctx
