"""What every format reads into and writes from: a header and values, plus the content hash."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field

import numpy as np

SENSOR = "sensor"
AUDIO = "audio"
# the sampling rates a sample may have: up to 1 MHz, down to one reading a day
MIN_INTERVAL_MS = 1e-3
MAX_INTERVAL_MS = 86_400_000.0
MAX_AXES = 256  # sensor axes or audio channels of one sample


def interval_problem(interval_ms: object) -> str | None:
    """Why ``interval_ms`` cannot be a sample's time between frames, or None."""
    if isinstance(interval_ms, bool) or not isinstance(interval_ms, int | float) or not math.isfinite(interval_ms):
        return f"the interval {interval_ms!r} ms is not a finite number"
    if interval_ms <= 0:
        return f"the interval {interval_ms:g} ms is not positive"
    if interval_ms < MIN_INTERVAL_MS:
        return f"the interval {interval_ms:g} ms means over {1000 / MIN_INTERVAL_MS / 1e6:g} MHz, more than supported"
    if interval_ms > MAX_INTERVAL_MS:
        return f"the interval {interval_ms:g} ms is longer than a day between frames"
    return None


@dataclass(frozen=True)
class Sensor:
    name: str
    units: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "units": self.units}


class Timed:
    """Derived timing of anything with ``interval_ms`` and ``frames``."""

    interval_ms: float
    frames: int

    @property
    def frequency_hz(self) -> float:
        return 1000.0 / self.interval_ms

    @property
    def duration_ms(self) -> float:
        return self.frames * self.interval_ms


@dataclass
class SampleHeader(Timed):
    """Everything about a sample but its values.

    ``interval_ms`` is the time between frames (1000 / sampling frequency). For audio the
    sensors are one ``audio`` entry per channel and the rate is ``1000 / interval_ms``.
    """

    kind: str
    sensors: list[Sensor]
    interval_ms: float
    frames: int = 0
    device_name: str = ""
    device_type: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def axes(self) -> int:
        return len(self.sensors)


def audio_sensors(channels: int) -> list[Sensor]:
    if channels == 1:
        return [Sensor("audio", "wav")]
    return [Sensor(f"audio{i}", "wav") for i in range(channels)]


class ContentHasher:
    """SHA-256 over what a sample *is*, not how its file is encoded.

    The same data imported from CSV, JSON or CBOR hashes the same: sensor values are hashed as
    little-endian float64, audio as little-endian int16; the digest of the values is then hashed
    with a small canonical header (kind, interval, sensors), which may be known only at the end.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._values = hashlib.sha256()
        self._dtype = np.dtype("<i2") if kind == AUDIO else np.dtype("<f8")

    def update(self, values: np.ndarray) -> None:
        self._values.update(np.ascontiguousarray(values, dtype=self._dtype).tobytes())

    def hexdigest(self, sensors: list[Sensor], interval_ms: float) -> str:
        head = {
            "kind": self.kind,
            "interval_ms": round(float(interval_ms), 9),
            "sensors": [s.as_dict() for s in sensors],
        }
        h = hashlib.sha256(b"tinyml-studio-sample-v1\n")
        h.update(json.dumps(head, sort_keys=True).encode("utf-8"))
        h.update(self._values.digest())
        return h.hexdigest()


def content_hash(header: SampleHeader, values: np.ndarray) -> str:
    hasher = ContentHasher(header.kind)
    hasher.update(values)
    return hasher.hexdigest(header.sensors, header.interval_ms)
