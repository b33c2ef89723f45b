"""The block registry: each block declares its schema and version and is configured once per
impulse (rate, window length, axes), which resolves defaults and checks every parameter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from studio.dsp.params import DspError, Param, next_pow2, resolve


@dataclass(frozen=True)
class Configured:
    """A block bound to an impulse: ``run(window) -> features`` of ``shape``."""

    block: Block
    params: dict[str, Any]
    fs: float
    window_frames: int
    axes: int
    shape: tuple[int, ...]
    notes: list[str] = field(default_factory=list)

    def run(self, window: np.ndarray) -> np.ndarray:
        out = self.block.compute(np.asarray(window, dtype=np.float32), self.fs, self.params)
        return out.reshape(self.shape).astype(np.float32, copy=False)


@dataclass(frozen=True)
class Block:
    name: str
    title: str
    version: int
    schema: tuple[Param, ...]
    compute: Callable[[np.ndarray, float, dict[str, Any]], np.ndarray]
    check: Callable[[dict[str, Any], float, int, int, set[str], list[str]], None]
    summary: str
    single_axis: bool = False

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.schema}

    def configure(self, given: dict[str, Any], fs: float, window_frames: int, axes: int) -> Configured:
        if not fs > 0:
            raise DspError(f"sampling frequency must be positive (got {fs:g} Hz)")
        if window_frames < 1:
            raise DspError("the window holds no samples")
        if self.single_axis and axes != 1:
            raise DspError(f"{self.title} takes one axis (audio); this data has {axes}")
        params = resolve(self.schema, given)
        notes: list[str] = []
        self.check(params, fs, window_frames, axes, set(given), notes)
        probe = self.compute(np.zeros((window_frames, axes), np.float32), fs, params)
        return Configured(self, params, fs, window_frames, axes, tuple(probe.shape), notes)


BLOCKS: dict[str, Block] = {}


def register(block: Block) -> Block:
    BLOCKS[block.name] = block
    return block


def get_block(name: str) -> Block:
    import studio.dsp.blocks  # noqa: F401 - fills the registry

    try:
        return BLOCKS[name]
    except KeyError:
        raise DspError(f"unknown DSP block {name!r} (one of {', '.join(sorted(BLOCKS))})") from None


def all_blocks() -> list[Block]:
    import studio.dsp.blocks  # noqa: F401

    return list(BLOCKS.values())


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
