"""The blocks. Formulas are in docs/dsp-blocks.md; each step maps to a loop in C."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import signal

from studio.dsp import spectra
from studio.dsp.params import DspError, Param
from studio.dsp.registry import Block, fit_fft, frame_samples, register

# ---------------------------------------------------------------- raw and flatten


def _raw(window: np.ndarray, fs: float, p: dict[str, Any]) -> np.ndarray:
    return (window * np.float32(p["scale"])).reshape(-1)


def _no_check(params, fs, frames, axes, given, notes) -> None:
    return None


register(Block(
    "raw", "Raw data", 1,
    (Param("scale", "float", 1.0, "Multiply every value by this"),),
    _raw, _no_check, "The window's values, frame by frame, times a scale.",
))

STATS = ("mean", "min", "max", "rms", "stdev", "skewness", "kurtosis")
STAT_NAMES = {"mean": "mean", "min": "minimum", "max": "maximum", "rms": "root mean square (RMS)",
              "stdev": "standard deviation", "skewness": "skewness", "kurtosis": "excess kurtosis"}


def _flatten(window: np.ndarray, fs: float, p: dict[str, Any]) -> np.ndarray:
    x = window.astype(np.float64) * p["scale"]
    mean = x.mean(axis=0)
    centered = x - mean
    var = (centered ** 2).mean(axis=0)
    std = np.sqrt(var)
    safe = np.where(std > 0, std, 1.0)
    columns = {
        "mean": mean, "min": x.min(axis=0), "max": x.max(axis=0), "rms": np.sqrt((x ** 2).mean(axis=0)),
        "stdev": std,
        "skewness": np.where(std > 0, (centered ** 3).mean(axis=0) / safe ** 3, 0.0),
        "kurtosis": np.where(std > 0, (centered ** 4).mean(axis=0) / safe ** 4 - 3.0, 0.0),
    }
    chosen = [columns[s] for s in STATS if p[s]]
    if not chosen:
        raise DspError("flatten needs at least one statistic")
    return np.stack(chosen, axis=1).reshape(-1).astype(np.float32)  # axis by axis


register(Block(
    "flatten", "Flatten", 1,
    (Param("scale", "float", 1.0, "Multiply every value by this first"),)
    + tuple(Param(s, "bool", True, f"Include the {STAT_NAMES[s]} of each axis") for s in STATS),
    _flatten, _no_check, "Per axis: mean, min, max, RMS, standard deviation, skewness, excess kurtosis.",
))

# ---------------------------------------------------------------- spectral analysis (motion)


def _sos(p: dict[str, Any], fs: float):
    if p["filter_type"] == "none":
        return None
    return signal.butter(p["filter_order"], p["filter_cutoff"], btype=p["filter_type"] + "pass", fs=fs,
                         output="sos")


def _spectral_check(p, fs, frames, axes, given, notes) -> None:
    if p["filter_type"] != "none" and not 0 < p["filter_cutoff"] < fs / 2:
        raise DspError(f"filter cutoff {p['filter_cutoff']:g} Hz must be between 0 and {fs / 2:g} Hz (half the rate)")
    if p["features"] == "bands":
        edges = p["band_edges"]
        if len(edges) < 2 or any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
            raise DspError("band_edges needs at least two increasing frequencies")
        if edges[-1] > fs / 2:
            raise DspError(f"band edge {edges[-1]:g} Hz is above half the rate ({fs / 2:g} Hz)")


def _spectral(window: np.ndarray, fs: float, p: dict[str, Any]) -> np.ndarray:
    nfft = p["fft_length"]
    sos = _sos(p, fs)
    out = []
    for a in range(window.shape[1]):
        x = window[:, a].astype(np.float64) * p["scale"]
        x = x - x.mean()
        if sos is not None:
            x = signal.sosfilt(sos, x)
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


register(Block(
    "spectral", "Spectral analysis", 1,
    (
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
    _spectral, _spectral_check,
    "Per axis: remove the mean, Butterworth filter, RMS, then a Welch power spectrum reduced to band "
    "powers, peaks or all bins.",
))

# ---------------------------------------------------------------- audio: MFCC, MFE, spectrogram


def _frames(window: np.ndarray, fs: float, p: dict[str, Any], pre_emphasis: float = 0.0) -> np.ndarray:
    x = window[:, 0]
    if pre_emphasis:
        x = np.concatenate((x[:1], x[1:] - np.float32(pre_emphasis) * x[:-1]))
    frame = frame_samples(p["frame_length_ms"], fs, "frame")
    stride = frame_samples(p["frame_stride_ms"], fs, "stride")
    return spectra.frames_of(x, frame, stride)


def _mel_energies(window: np.ndarray, fs: float, p: dict[str, Any], pre_emphasis: float = 0.0) -> np.ndarray:
    frames = _frames(window, fs, p, pre_emphasis)
    power = spectra.power_spectrum(frames, p["fft_length"], spectra.hamming(frames.shape[1]))
    high = p["high_frequency"] or fs / 2
    bank = spectra.mel_filterbank(p["num_filters"], p["fft_length"], fs, float(p["low_frequency"]), float(high))
    return power @ bank.T


def _audio_check(params, fs, frames, axes, given, notes) -> None:
    frame = frame_samples(params["frame_length_ms"], fs, "frame")
    frame_samples(params["frame_stride_ms"], fs, "stride")
    if frame > frames:
        raise DspError(f"frame of {params['frame_length_ms']:g} ms ({frame} samples) is longer than the window "
                       f"({frames} samples)")
    fit_fft(params, given, frame, notes)
    if "num_filters" in params:
        high = params["high_frequency"] or fs / 2
        if high > fs / 2:
            raise DspError(f"high frequency {high:g} Hz is above half the rate ({fs / 2:g} Hz)")
        spectra.mel_filterbank(params["num_filters"], params["fft_length"], fs, float(params["low_frequency"]),
                               float(high))
    if "num_cepstral" in params and params["num_cepstral"] > params["num_filters"]:
        raise DspError(f"{params['num_cepstral']} cepstral coefficients need at least as many filters "
                       f"(have {params['num_filters']})")


def _cmn(c: np.ndarray, window: int) -> np.ndarray:
    """Subtract a centred moving mean over ``window`` frames (fewer at the edges)."""
    if window <= 1 or len(c) == 0:
        return c
    half = window // 2
    csum = np.concatenate((np.zeros((1, c.shape[1]), np.float64), np.cumsum(c, axis=0, dtype=np.float64)))
    idx = np.arange(len(c))
    lo = np.maximum(idx - half, 0)
    hi = np.minimum(idx + half + 1, len(c))
    return (c - (csum[hi] - csum[lo]) / (hi - lo)[:, None]).astype(np.float32)


def _mfcc(window: np.ndarray, fs: float, p: dict[str, Any]) -> np.ndarray:
    energies = _mel_energies(window, fs, p, p["pre_emphasis"])
    logs = np.log(np.maximum(energies, np.float32(1e-10)))
    cep = logs @ spectra.dct_matrix(p["num_cepstral"], p["num_filters"]).T
    return _cmn(cep, p["cmn_window"])


def _mfe(window: np.ndarray, fs: float, p: dict[str, Any]) -> np.ndarray:
    return spectra.floor_normalize(spectra.to_db(_mel_energies(window, fs, p)), p["noise_floor_db"])


def _spectrogram(window: np.ndarray, fs: float, p: dict[str, Any]) -> np.ndarray:
    frames = _frames(window, fs, p)
    power = spectra.power_spectrum(frames, p["fft_length"], spectra.hamming(frames.shape[1]))
    return spectra.floor_normalize(spectra.to_db(power), p["noise_floor_db"])


def _framing(frame_ms: float, stride_ms: float) -> tuple[Param, ...]:
    return (
        Param("frame_length_ms", "float", frame_ms, "Length of each frame the window is cut into, in ms", minimum=0.1),
        Param("frame_stride_ms", "float", stride_ms, "Time from one frame's start to the next, in ms", minimum=0.1),
    )


def _mel(filters: int) -> tuple[Param, ...]:
    return (
        Param("num_filters", "int", filters, "Mel filters: frequency bands per frame", minimum=2, maximum=256),
        Param("fft_length", "int", 256, "FFT length (grown to fit the frame when left at its default)",
              minimum=16, maximum=16384),
        Param("low_frequency", "float", 0.0, "Lowest filter edge in Hz", minimum=0.0),
        Param("high_frequency", "float", 0.0, "Highest filter edge in Hz (0: half the rate)", minimum=0.0),
    )


register(Block(
    "mfcc", "MFCC", 1,
    (Param("num_cepstral", "int", 13, "Cepstral coefficients per frame", minimum=1, maximum=128),)
    + _framing(20.0, 20.0) + _mel(32)
    + (Param("pre_emphasis", "float", 0.98, "Pre-emphasis: x[n] - k*x[n-1] lifts high frequencies (0: off)",
             minimum=0.0, maximum=1.0),
       Param("cmn_window", "int", 101, "Cepstral mean normalisation window in frames (0: off)", minimum=0)),
    _mfcc, _audio_check,
    "Pre-emphasis, Hamming frames, power spectrum, mel filterbank, natural log, orthonormal DCT-II, "
    "moving cepstral mean normalisation.", single_axis=True,
))
register(Block(
    "mfe", "MFE", 1,
    _framing(20.0, 10.0) + _mel(40)
    + (Param("noise_floor_db", "float", -52.0, "Energies below this (dB re full scale) read 0", maximum=-1.0),),
    _mfe, _audio_check,
    "Hamming frames, power spectrum, mel filterbank, dB re full scale, floor to 0 dB mapped onto [0, 1].",
    single_axis=True,
))
register(Block(
    "spectrogram", "Spectrogram", 1,
    _framing(20.0, 10.0)
    + (Param("fft_length", "int", 128, "FFT length (grown to fit the frame when left at its default)",
             minimum=16, maximum=16384),
       Param("noise_floor_db", "float", -52.0, "Powers below this (dB re full scale) read 0", maximum=-1.0)),
    _spectrogram, _audio_check,
    "Hamming frames, power spectrum per bin, dB re full scale, floor to 0 dB mapped onto [0, 1].",
    single_axis=True,
))
