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
DETECT_BUDGET_S = 12.0  # baud detection gives up after this (the capture's connect timeout is longer)
SILENT_TRIES = 2  # baud rates tried on a port that sends nothing at all before giving up
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
    """Read for ``seconds``; return the line rate (lines/s, None if too few) and readings seen.

    The parser chooses the axis count at the end, from the majority of the lines."""
    parser.start_mid_stream()
    times, counts = [], []
    total = 0
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        chunk = read_chunk(ser, port)
        if not chunk:
            continue
        before = parser.readings_seen
        parser.feed(chunk)
        n = parser.readings_seen - before
        if n:
            total += n
            times.append(time.monotonic())
            counts.append(total)
    parser.decide()
    if len(times) < 3 or times[-1] - times[0] < 0.5 * seconds:
        return None, parser.stats.lines
    t = np.array(times) - times[0]
    c = np.array(counts, dtype=float)
    slope = np.polyfit(t, c, 1)[0]
    return float(slope), parser.stats.lines


def _what_came(parser: LineParser) -> str:
    st = parser.stats
    if st.bytes == 0:
        return "nothing"
    parts = [f"{st.bytes} bytes"]
    if st.lines:
        parts.append(f"{st.lines} readings of {parser.axes} values")
    for count, what in ((st.wrong_axes, "with another number of values"), (st.garbage, "not numbers"),
                        (st.overlong, "runs without a line end")):
        if count:
            parts.append(f"{count} lines {what}")
    if parser.last_bad:
        parts.append(f"e.g. {parser.last_bad.decode('latin-1')!r}")
    return ", ".join(parts)


def detect(port: str, bauds: tuple[int, ...] = BAUD_RATES, seconds: float = 1.5,
           budget_s: float = DETECT_BUDGET_S) -> Detection:
    """Find baud rate, axes (and names from a header) and sampling frequency of a text stream.

    Stops after ``budget_s``; the error names the port, every baud rate tried and what came back."""
    tried = []
    deadline = time.monotonic() + budget_s
    for baud in bauds:
        if tried and time.monotonic() + seconds > deadline:
            break
        if len(tried) >= SILENT_TRIES and all(t.endswith(": nothing") for t in tried):
            break  # bytes arrive at any baud rate, garbled or not: this port is silent
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
        tried.append(f"{baud} baud: {_what_came(parser)}")
        if lines >= 5 and quality >= 0.9 and rate:
            return Detection(baud, parser.axes or 0, parser.names, snap_frequency(rate), lines, quality)
    silent = all(t.endswith(": nothing") for t in tried)
    raise DeviceError(f"{port}: no data-forwarder stream found" + (
        f" (nothing came back at {', '.join(t.split(' ')[0] for t in tried)} baud in {seconds:g} s each; "
        "is the board sending, and is this its port?)" if silent else f" (tried {'; '.join(tried)})"))


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
        if axes is None:  # the axis count most lines of the first second have
            self._pending = self._read_for_axes(1.0, 3.0)
            axes = self.parser.axes
        if axes is None:
            raise DeviceError(f"{self.port}: no readings within 3 s at {self.baud} baud "
                              f"(received {_what_came(self.parser)})")
        names = names or self.parser.names or [f"axis{i + 1}" for i in range(axes)]
        if len(names) != axes:
            raise DeviceError(f"{self.port}: {len(names)} axis names given, the board sends {axes} values")
        self.info = StreamInfo("sensor", list(names), [""] * axes, float(self.frequency_hz), self.port,
                               {"baud": self.baud})
        return self.info

    def _read_for_axes(self, window: float, limit: float) -> np.ndarray:
        """Read until the readings agree on their width, or for ``window`` seconds (longer, up to ``limit``,
        until one arrives), then choose the axis count most of them have."""
        start = time.monotonic()
        while not self.parser.settled():
            elapsed = time.monotonic() - start
            if elapsed >= limit or (elapsed >= window and self.parser.readings_seen):
                break
            self.parser.feed(read_chunk(self._ser, self.port))
        return self.parser.decide()

    def _decode(self, chunk: bytes) -> np.ndarray:
        return self.parser.feed(chunk)

    def counters(self) -> dict[str, int]:
        return self.parser.stats.as_dict()

    def describe_received(self) -> str:
        return _what_came(self.parser)


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
