"""Serial boards: data-forwarder text, or framed binary (see :mod:`studio.devices.framed`).

Reading is always chunked (``read(in_waiting)``), never ``readline()``. Detection opens the port
at each candidate baud rate (115200 first), reads for at least a second, and keeps the first
rate at which most lines are numeric with a steady number of values. The sampling frequency is
the slope of complete lines received against arrival time (least squares over every chunk),
so the partial first and last lines do not count.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

import numpy as np

from studio.devices.forwarder import LineParser
from studio.devices.framed import FrameDecoder
from studio.devices.sources import DeviceError, Disconnected, StreamInfo

BAUD_RATES = (115200, 9600, 19200, 38400, 57600, 230400, 250000, 460800, 500000, 921600, 1000000)
COMMON_RATES_HZ = (1, 2, 5, 10, 16, 20, 25, 50, 62.5, 100, 125, 200, 250, 400, 500, 800, 1000, 1600, 2000,
                   3200, 4000, 8000, 16000)


def _serial():
    import serial  # pyserial; imported here so the core stays light to import

    return serial


def open_port(port: str, baud: int, timeout: float = 0.05):
    serial = _serial()
    try:
        return serial.Serial(port, baud, timeout=timeout)
    except serial.SerialException as e:
        reason = str(e)
        if "Permission denied" in reason:
            reason = "permission denied (add yourself to the 'dialout' group and log in again)"
        elif "No such file" in reason:
            reason = "no such port (unplugged?)"
        raise DeviceError(f"{port}: cannot open at {baud} baud: {reason}") from None


def read_chunk(ser, port: str) -> bytes:
    """One chunked read: what is waiting, or what arrives within the port's timeout."""
    serial = _serial()
    try:
        waiting = ser.in_waiting
        return ser.read(waiting or 1)
    except (serial.SerialException, OSError) as e:
        raise Disconnected(f"{port}: disconnected ({str(e).split('(')[0].strip() or 'read failed'})") from None


@dataclass
class Detection:
    baud: int
    axes: int
    names: list[str] | None
    frequency_hz: float
    lines: int
    quality: float  # share of lines that were valid readings


def snap_frequency(measured: float, tolerance: float = 0.005) -> float:
    """Round to a common sampling rate when within 0.5% of one (clock drift), else keep."""
    for f in COMMON_RATES_HZ:
        if abs(measured - f) <= tolerance * f:
            return float(f)
    return round(measured, 3)


def measure(ser, port: str, seconds: float, parser: LineParser) -> tuple[float | None, int]:
    """Read for ``seconds``; return the line rate (lines/s, None if too few) and lines seen."""
    parser.start_mid_stream()
    times, counts = [], []
    total = 0
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        chunk = read_chunk(ser, port)
        if not chunk:
            continue
        n = len(parser.feed(chunk))
        if n:
            total += n
            times.append(time.monotonic())
            counts.append(total)
    if len(times) < 3 or times[-1] - times[0] < 0.5 * seconds:
        return None, total
    t = np.array(times) - times[0]
    c = np.array(counts, dtype=float)
    slope = np.polyfit(t, c, 1)[0]
    return float(slope), total


def detect(port: str, bauds: tuple[int, ...] = BAUD_RATES, seconds: float = 1.5) -> Detection:
    """Find baud rate, axes (and names from a header) and sampling frequency of a text stream."""
    tried = []
    for baud in bauds:
        ser = open_port(port, baud)
        try:
            ser.reset_input_buffer()
            parser = LineParser()
            rate, lines = measure(ser, port, seconds, parser)
        finally:
            ser.close()
        st = parser.stats
        bad = st.garbage + st.wrong_axes + 4 * st.overlong
        quality = lines / max(lines + bad, 1)
        tried.append(f"{baud}: {lines} lines, {bad} bad")
        if lines >= 5 and quality >= 0.9 and rate:
            return Detection(baud, parser.axes or 0, parser.names, snap_frequency(rate), lines, quality)
    raise DeviceError(f"{port}: no data-forwarder stream found ({'; '.join(tried)})")


class _SerialSource:
    """What both serial sources share: the port, frames read while opening, closing."""

    def __init__(self, port: str, baud: int | None, frequency_hz: float | None) -> None:
        self.port = port
        self.baud = baud
        self.frequency_hz = frequency_hz
        self.info: StreamInfo | None = None
        self._ser = None
        self._pending: np.ndarray | None = None  # frames read while opening, handed out first

    def _decode(self, chunk: bytes) -> np.ndarray:
        raise NotImplementedError

    def read(self, timeout: float = 0.05) -> np.ndarray:
        if self._pending is not None:
            out, self._pending = self._pending, None
            if out.size:
                return out
        return self._decode(read_chunk(self._ser, self.port))

    def close(self) -> None:
        if self._ser is not None:
            with contextlib.suppress(OSError):
                self._ser.close()
            self._ser = None


class SerialTextSource(_SerialSource):
    """A data-forwarder board. With ``baud``/``frequency_hz`` given, detection is skipped."""

    def __init__(self, port: str, baud: int | None = None, frequency_hz: float | None = None,
                 axis_names: list[str] | None = None) -> None:
        super().__init__(port, baud, frequency_hz)
        self.axis_names = axis_names
        self.parser = LineParser()

    def open(self) -> StreamInfo:
        names = self.axis_names
        if self.baud is None or self.frequency_hz is None:
            det = detect(self.port, (self.baud,) if self.baud else BAUD_RATES)
            self.baud, self.frequency_hz = det.baud, self.frequency_hz or det.frequency_hz
            names = names or det.names
            self.parser = LineParser(axes=det.axes, names=det.names)
        self._ser = open_port(self.port, self.baud)
        self._ser.reset_input_buffer()
        self.parser.start_mid_stream()
        if names and self.parser.axes is None:
            self.parser.axes = len(names)
        axes = self.parser.axes
        if axes is None:  # wait for the first readings to know the axes
            deadline = time.monotonic() + 2.0
            self._pending = self._read_until_axes(deadline)
            axes = self.parser.axes
        if axes is None:
            raise DeviceError(f"{self.port}: no readings within 2 s")
        names = names or self.parser.names or [f"axis{i + 1}" for i in range(axes)]
        if len(names) != axes:
            raise DeviceError(f"{self.port}: {len(names)} axis names given, the board sends {axes} values")
        self.info = StreamInfo("sensor", list(names), [""] * axes, float(self.frequency_hz), self.port,
                               {"baud": self.baud})
        return self.info

    def _read_until_axes(self, deadline: float) -> np.ndarray:
        got = []
        while self.parser.axes is None and time.monotonic() < deadline:
            got.append(self.parser.feed(read_chunk(self._ser, self.port)))
        return np.concatenate([g for g in got if g.size]) if any(g.size for g in got) else np.zeros((0, 0))

    def _decode(self, chunk: bytes) -> np.ndarray:
        return self.parser.feed(chunk)

    def counters(self) -> dict[str, int]:
        return self.parser.stats.as_dict()


class SerialFramedSource(_SerialSource):
    """A board streaming framed int16 (a microphone). The rate is the board's, given by the user."""

    def __init__(self, port: str, baud: int = 921600, frequency_hz: float = 16000.0) -> None:
        super().__init__(port, baud, frequency_hz)
        self.decoder = FrameDecoder()

    def open(self) -> StreamInfo:
        self._ser = open_port(self.port, self.baud)
        self._ser.reset_input_buffer()
        first = np.zeros((0, 1), np.int16)
        deadline = time.monotonic() + 2.0
        while self.decoder.channels is None and time.monotonic() < deadline:
            first = self.decoder.feed(read_chunk(self._ser, self.port))
        if self.decoder.channels is None:
            raise DeviceError(f"{self.port}: no valid frames within 2 s (is the board in framed mode?)")
        self._pending = first
        ch = self.decoder.channels
        axes = ["audio"] if ch == 1 else [f"audio{i}" for i in range(ch)]
        self.info = StreamInfo("audio", axes, ["wav"] * ch, self.frequency_hz, self.port, {"baud": self.baud})
        return self.info

    def _decode(self, chunk: bytes) -> np.ndarray:
        return self.decoder.feed(chunk)

    def counters(self) -> dict[str, int]:
        return self.decoder.stats.as_dict()
