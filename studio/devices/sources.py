"""What every data source looks like to the recorder and the live view."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from studio.errors import StudioError


class DeviceError(StudioError):
    """A device cannot be used; ``str(err)`` is one line naming the device and the reason."""


class Disconnected(DeviceError):
    """The device went away while streaming (unplugged, port closed)."""


@dataclass
class StreamInfo:
    kind: str  # "sensor" or "audio"
    axes: list[str]
    units: list[str]
    frequency_hz: float
    device: str
    details: dict[str, object] = field(default_factory=dict)


class Source(Protocol):
    info: StreamInfo

    def open(self) -> StreamInfo: ...

    def read(self, timeout: float = 0.05) -> np.ndarray:
        """Whatever complete frames arrived, shape (n, axes); raises Disconnected."""
        ...

    def counters(self) -> dict[str, int]:
        """Problems seen so far (garbage lines, wrong axis counts, corrupt or dropped frames)."""
        ...

    def close(self) -> None: ...
