"""DSP blocks share the registry parameter schema; their errors are parameter errors. The helpers here are what
several blocks' checks do with their parameters."""

from __future__ import annotations

from typing import Any

from studio.params import Param, next_pow2, resolve
from studio.params import ParamError as DspError

__all__ = ["DspError", "Param", "fit_fft", "frame_samples", "next_pow2", "resolve"]


def frame_samples(ms: float, fs: float, what: str) -> int:
    n = int(round(ms * fs / 1000.0))
    if n < 1:
        raise DspError(f"{what} of {ms:g} ms is shorter than one sample at {fs:g} Hz")
    return n


def fit_fft(params: dict[str, Any], given: set[str], frame: int, notes: list[str]) -> None:
    """An FFT the user set shorter than the frame is an error; the default grows to fit it."""
    nfft = params["fft_length"]
    if frame <= nfft:
        return
    if "fft_length" in given:
        raise DspError(f"FFT length {nfft} is shorter than the frame ({frame} samples); "
                       f"use at least {next_pow2(frame)}")
    params["fft_length"] = next_pow2(frame)
    notes.append(f"FFT length raised from {nfft} to {params['fft_length']} to hold a {frame}-sample frame")
