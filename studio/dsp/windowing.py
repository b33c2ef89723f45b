"""Cut samples into impulse windows at one sampling frequency.

Window and stride are in ms. Samples recorded at another rate are resampled (polyphase,
scipy ``resample_poly``) and reported; samples shorter than a window are zero-padded to one
window, or dropped, as the impulse says. Audio (int16) is scaled to [-1, 1).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from fractions import Fraction
from typing import Any

import numpy as np

from studio.dsp.params import DspError
from studio.project import Sample


@dataclass
class ImpulseConfig:
    window_ms: float
    stride_ms: float
    block: str
    params: dict[str, Any] = field(default_factory=dict)
    frequency_hz: float | None = None  # None: the dataset's most common rate
    pad_short: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ImpulseConfig:
        return cls(**{f.name: d[f.name] for f in fields(cls) if f.name in d})


def frames_for(ms: float, fs: float) -> int:
    return max(1, int(round(ms * fs / 1000.0)))


def window_count(n: int, window: int, stride: int, pad_short: bool) -> int:
    if n < window:
        return 1 if pad_short and n > 0 else 0
    return 1 + (n - window) // stride


@dataclass(frozen=True)
class Framing:
    """What cutting one sample into windows needs (small: it is sent to worker processes)."""

    frequency_hz: float
    window_frames: int
    stride_frames: int
    kind: str


@dataclass
class Plan:
    """The dataset as the impulse sees it, before any feature is computed."""

    frequency_hz: float
    window_frames: int
    stride_frames: int
    axes: int
    kind: str
    windows: dict[int, int]  # sample id -> number of windows
    resampled: list[tuple[int, float]] = field(default_factory=list)  # (sample id, its rate)
    dropped: list[int] = field(default_factory=list)  # shorter than a window, pad_short off
    skipped: list[tuple[int, str]] = field(default_factory=list)  # other axes or kind
    balance: dict[str, dict[str, int]] = field(default_factory=dict)  # label -> category -> windows

    @property
    def framing(self) -> Framing:
        return Framing(self.frequency_hz, self.window_frames, self.stride_frames, self.kind)

    def report(self) -> list[str]:
        lines = []
        if self.resampled:
            rates = Counter(f"{hz:g} Hz" for _, hz in self.resampled)
            lines.append(f"{len(self.resampled)} sample(s) recorded at another rate are resampled to "
                         f"{self.frequency_hz:g} Hz ({', '.join(f'{n} at {r}' for r, n in rates.items())})")
        if self.dropped:
            lines.append(f"{len(self.dropped)} sample(s) shorter than a window are dropped")
        for sid, why in self.skipped:
            lines.append(f"sample {sid} skipped: {why}")
        return lines


def plan(samples: list[Sample], cfg: ImpulseConfig) -> Plan:
    if not samples:
        raise DspError("the dataset has no enabled samples")
    if not cfg.window_ms > 0 or not cfg.stride_ms > 0:
        raise DspError("window and stride must be positive")
    first = samples[0]
    kind, axes = first.kind, len(first.sensors)
    if cfg.frequency_hz is not None and not cfg.frequency_hz > 0:
        raise DspError(f"impulse frequency must be positive (got {cfg.frequency_hz:g} Hz)")
    fs = cfg.frequency_hz or Counter(round(s.frequency_hz, 6) for s in samples).most_common(1)[0][0]
    window = frames_for(cfg.window_ms, fs)
    stride = frames_for(cfg.stride_ms, fs)
    longest = max(s.duration_ms if s.crop_start is None else (s.crop_end - s.crop_start) * s.interval_ms
                  for s in samples)
    if cfg.window_ms > longest + 1e-6:
        raise DspError(f"window of {cfg.window_ms:g} ms is longer than every sample (the longest is {longest:g} ms)")
    p = Plan(fs, window, stride, axes, kind, {})
    for s in samples:
        if s.kind != kind or len(s.sensors) != axes:
            p.skipped.append((s.id, f"{len(s.sensors)} {s.kind} axes, the impulse has {axes} {kind}"))
            continue
        frames = s.frames if s.crop_start is None else s.crop_end - s.crop_start
        if abs(s.frequency_hz - fs) > 1e-6 * fs:
            p.resampled.append((s.id, s.frequency_hz))
            frames = int(round(frames * fs / s.frequency_hz))
        n = window_count(frames, window, stride, cfg.pad_short)
        if n == 0:
            p.dropped.append(s.id)
            continue
        p.windows[s.id] = n
        entry = p.balance.setdefault(s.label, {"training": 0, "testing": 0})
        entry[s.category] += n
    return p


def resample(values: np.ndarray, source_hz: float, target_hz: float) -> np.ndarray:
    if abs(source_hz - target_hz) <= 1e-6 * target_hz:
        return values
    ratio = Fraction(target_hz / source_hz).limit_denominator(1000)
    # scipy.signal takes over a second to import: --help and the first window must not wait
    from scipy import signal

    return signal.resample_poly(values, ratio.numerator, ratio.denominator, axis=0)


def windows_of(values: np.ndarray, sample_hz: float, p: Framing, pad_short: bool) -> np.ndarray:
    """(count, window_frames, axes) float32 windows of one sample's values."""
    x = values.astype(np.float32) / np.float32(32768.0) if p.kind == "audio" else values.astype(np.float32)
    x = resample(x, sample_hz, p.frequency_hz).astype(np.float32)
    if len(x) < p.window_frames:
        if not pad_short or len(x) == 0:
            return np.zeros((0, p.window_frames, x.shape[1]), np.float32)
        x = np.vstack([x, np.zeros((p.window_frames - len(x), x.shape[1]), np.float32)])
    count = window_count(len(x), p.window_frames, p.stride_frames, pad_short)
    view = np.lib.stride_tricks.sliding_window_view(x, p.window_frames, axis=0)  # (n-w+1, axes, w)
    return np.ascontiguousarray(view[: (count - 1) * p.stride_frames + 1 : p.stride_frames].transpose(0, 2, 1))
