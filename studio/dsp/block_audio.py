"""The audio blocks: MFCC, MFE and the spectrogram, frame by frame over one channel. Formulas in
docs/dsp-blocks.md; C in ``block_audio.c.j2`` (one template for the three), whose tables (window, mel
filterbank, DCT matrix, FFT twiddles) come from the functions below."""

from __future__ import annotations

from typing import Any

import numpy as np

from studio.dsp import spectra
from studio.dsp.c_tables import fft_tables, power_scale
from studio.dsp.params import DspError, Param, fit_fft, frame_samples
from studio.dsp.registry import Block, Configured, register


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


def _check(params, fs, frames, axes, given, notes) -> None:
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


def _names(c: Configured, axes: list[str]) -> list[str]:
    """Frame by frame: cepstral coefficients (MFCC), mel filters (MFE) or frequency bins (spectrogram)."""
    frames, columns = c.shape
    if c.block.name == "mfcc":
        column = [f"c{k}" for k in range(columns)]
    elif c.block.name == "mfe":
        column = [f"mel {k}" for k in range(columns)]
    else:
        column = [f"{k * c.fs / c.params['fft_length']:g} Hz" for k in range(columns)]
    return [f"frame {t} {name}" for t in range(frames) for name in column]


def _mel_tables(p: dict[str, Any], fs: float) -> dict[str, Any]:
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


def _tables(c: Configured) -> dict[str, Any]:
    p, name = c.params, c.block.name
    frame = frame_samples(p["frame_length_ms"], c.fs, "frame")
    stride = frame_samples(p["frame_stride_ms"], c.fs, "stride")
    window = spectra.hamming(frame)
    nfft = p["fft_length"]
    ctx = {
        "kind": name, "frame": frame, "stride": stride, "frames": spectra.frame_count(c.window_frames, frame, stride),
        "window": window, "power_scale": power_scale(window), "nbins": nfft // 2 + 1, "pre_emphasis": 0.0,
        "cmn_half": 0, **fft_tables(nfft),
    }
    if name != "spectrogram":
        ctx.update(_mel_tables(p, c.fs))
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


AUDIO = {"check": _check, "feature_names": _names, "c_template": "block_audio.c.j2", "c_tables": _tables,
         "c_version": 1, "single_axis": True}

register(Block(
    name="mfcc", title="MFCC", version=1,
    schema=(Param("num_cepstral", "int", 13, "Cepstral coefficients per frame", minimum=1, maximum=128),)
    + _framing(20.0, 20.0) + _mel(32)
    + (Param("pre_emphasis", "float", 0.98, "Pre-emphasis: x[n] - k*x[n-1] lifts high frequencies (0: off)",
             minimum=0.0, maximum=1.0),
       Param("cmn_window", "int", 101, "Cepstral mean normalisation window in frames (0: off)", minimum=0)),
    summary="Pre-emphasis, Hamming frames, power spectrum, mel filterbank, natural log, orthonormal DCT-II, "
            "moving cepstral mean normalisation.",
    compute=_mfcc, **AUDIO,
))
register(Block(
    name="mfe", title="MFE", version=1,
    schema=_framing(20.0, 10.0) + _mel(40)
    + (Param("noise_floor_db", "float", -52.0, "Energies below this (dB re full scale) read 0", maximum=-1.0),),
    summary="Hamming frames, power spectrum, mel filterbank, dB re full scale, floor to 0 dB mapped onto [0, 1].",
    compute=_mfe, **AUDIO,
))
register(Block(
    name="spectrogram", title="Spectrogram", version=1,
    schema=_framing(20.0, 10.0)
    + (Param("fft_length", "int", 128, "FFT length (grown to fit the frame when left at its default)",
             minimum=16, maximum=16384),
       Param("noise_floor_db", "float", -52.0, "Powers below this (dB re full scale) read 0", maximum=-1.0)),
    summary="Hamming frames, power spectrum per bin, dB re full scale, floor to 0 dB mapped onto [0, 1].",
    compute=_spectrogram, **AUDIO,
))
