"""The capture job: record S seconds from a device into a project as one labeled sample.

``device`` is a serial port path, ``virtual`` (a virtual board run in this process), ``mic``
or ``mic:<index>``. A board unplugged mid-recording ends it early: what arrived is kept and,
unless told otherwise, saved with ``(truncated)`` in its name.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from studio.devices.listing import IN_PROCESS_VIRTUAL
from studio.devices.live import LiveStream
from studio.devices.microphone import MicSource
from studio.devices.serial_source import SerialFramedSource, SerialTextSource
from studio.devices.sources import DeviceError, Source, StreamInfo
from studio.devices.virtual_board import VirtualBoard
from studio.formats.sample import AUDIO, SENSOR, SampleHeader, Sensor
from studio.jobs import ProgressLike
from studio.project import Project, Sample


@dataclass
class DeviceSpec:
    device: str
    baud: int | None = None
    frequency_hz: float | None = None  # virtual board rate, microphone rate, or a known board rate
    axis_names: list[str] | None = None
    framed: bool = False
    gesture: str = "idle"
    gyro: bool = False
    seed: int = 0


class VirtualSource:
    """A virtual board started in this process, read through its real pseudo-terminal."""

    def __init__(self, spec: DeviceSpec) -> None:
        self.board = VirtualBoard(spec.frequency_hz or 100.0, spec.gesture, spec.gyro, spec.seed)
        self.inner: SerialTextSource | None = None
        self.info: StreamInfo | None = None

    def open(self) -> StreamInfo:
        path = self.board.start()
        self.inner = SerialTextSource(path, self.board.baud, self.board.rate, self.board.synth.axes)
        self.info = self.inner.open()
        self.info.device = "virtual"
        self.info.units = ["m/s2"] * 3 + ["dps"] * (len(self.info.axes) - 3)
        return self.info

    def set_gesture(self, gesture: str) -> None:
        self.board.set_gesture(gesture)

    def read(self, timeout: float = 0.05) -> np.ndarray:
        return self.inner.read(timeout)

    def counters(self) -> dict[str, int]:
        return self.inner.counters() if self.inner else {}

    def describe_received(self) -> str:
        return self.inner.describe_received() if self.inner else "nothing"

    def close(self) -> None:
        if self.inner is not None:
            self.inner.close()
        self.board.stop()


def source_factory(spec: DeviceSpec) -> Callable[[], Source]:
    dev = spec.device
    if dev == IN_PROCESS_VIRTUAL:
        return lambda: VirtualSource(spec)
    if dev == "mic" or dev.startswith("mic:"):
        index = dev.split(":", 1)[1] if ":" in dev else None
        device = int(index) if index and index.isdigit() else index
        return lambda: MicSource(device, int(spec.frequency_hz or 16000))
    if spec.framed:
        return lambda: SerialFramedSource(dev, spec.baud or 921600, spec.frequency_hz or 16000.0)
    return lambda: SerialTextSource(dev, spec.baud, spec.frequency_hz, spec.axis_names)


def open_stream(spec: DeviceSpec, reconnect: bool = True) -> LiveStream:
    watch = None if spec.device == IN_PROCESS_VIRTUAL or spec.device.startswith("mic") else spec.device
    return LiveStream(source_factory(spec), reconnect=reconnect, watch_path=watch)


def save_recording(project: Project, label: str, category: str | None, info: StreamInfo, data: np.ndarray,
                   truncated: bool) -> Sample:
    kind = AUDIO if info.kind == "audio" else SENSOR
    sensors = [Sensor(a, u) for a, u in zip(info.axes, info.units, strict=True)]
    header = SampleHeader(kind, sensors, 1000.0 / info.frequency_hz, len(data), device_name=info.device)
    name = f"{label}.{time.strftime('%Y%m%d-%H%M%S')}" + (" (truncated)" if truncated else "")
    sample = project.add_sample(label, header, data, category, name=name)
    project.remember_sensors(header)
    return sample


def received(stream: LiveStream, device: str, seconds: float) -> str:
    """One line for a recording that stopped getting frames: the device and what it did send."""
    describe = getattr(stream.source, "describe_received", None)
    seen = describe() if describe is not None else "nothing usable"
    return f"{device}: no valid reading for {seconds:g} s (received {seen})"


@dataclass
class CaptureParams:
    project_dir: Path
    spec: DeviceSpec
    label: str
    seconds: float
    category: str | None = "training"  # None: split by content hash
    save_truncated: bool = True
    connect_timeout_s: float = 15.0
    no_data_timeout_s: float = 3.0  # a recording that gets no valid frame for this long ends


@dataclass
class CaptureResult:
    sample_id: int | None
    frames: int
    frequency_hz: float
    truncated: bool
    message: str = ""
    counters: dict[str, int] = field(default_factory=dict)


def run(params: CaptureParams, progress: ProgressLike) -> CaptureResult:
    if not params.seconds > 0:
        raise DeviceError("recording length must be positive")
    stream = open_stream(params.spec, reconnect=False)
    stream.start()
    try:
        progress.update(0.0, f"connecting to {params.spec.device}")
        info = stream.wait_streaming(params.connect_timeout_s)
        frames = max(1, int(round(params.seconds * info.frequency_hz)))
        rec = stream.record(frames)
        seen, fed = 0, time.monotonic()
        stalled = ""
        while not rec.done.wait(0.05):
            progress.check()
            progress.update(rec.fraction, f"recording {rec.count}/{frames} frames")
            if rec.count > seen:
                progress.partial(rec.count)
                seen, fed = rec.count, time.monotonic()
            elif time.monotonic() - fed > params.no_data_timeout_s:
                stalled = received(stream, params.spec.device, params.no_data_timeout_s)
                rec.cut()
                break
        counters = dict(stream.counters)
        message = stalled or (stream.message if rec.truncated else "")
    finally:
        stream.stop()
    if stalled and rec.count == 0:
        raise DeviceError(stalled)
    data = rec.data()
    if rec.truncated and (not params.save_truncated or not len(data)):
        return CaptureResult(None, len(data), info.frequency_hz, True, message, counters)
    with Project.open(params.project_dir) as project:
        sample = save_recording(project, params.label, params.category, info, data, rec.truncated)
    progress.update(1.0, f"saved sample {sample.id}")
    return CaptureResult(sample.id, len(data), info.frequency_hz, rec.truncated, message, counters)
