"""Running a built firmware on the emulated board, fed with sensor frames: "flashing" the virtual Cortex-M4.

``run(EmulatedParams(elf, frames, frequency_hz), progress)`` starts the ELF under QEMU (``flash_emulated``),
opens its UART like a board's serial port, writes the frames as data-forwarder lines from a writer thread
and reads what the firmware prints at the same time (the emulated UART has flow control: a host that only
writes would block once the firmware stalls on its own output). Each parsed line (``#impulse``, ``#result``,
``#error``) goes out through ``progress.partial`` as it arrives, exactly as from the serial monitor of a real
board. The job ends when every window of the stream is classified, on cancel, or when the firmware falls
silent; QEMU is always stopped.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from studio.deploy.running.flash import FlashError, flash_emulated
from studio.deploy.running.monitor import LineSplitter, MonitorReport, handle
from studio.deploy.running.result_line import ErrorLine, ImpulseLine, ResultLine
from studio.devices.forwarder import format_line
from studio.devices.gestures import GestureSynth
from studio.devices.serial_source import open_port, read_chunk
from studio.devices.sources import DeviceError
from studio.jobs import ProgressLike

BAUD = 115200  # a pseudo-terminal ignores it
DECIMALS = 6
CHUNK_LINES = 64  # lines a write; the writer checks for a stop between writes
IDLE_TIMEOUT = 10.0  # seconds of silence after the last frame before the missing windows are given up
WINDOW_STAGES = ("dsp", "nn")  # an #error of these stages stands for one window


@dataclass
class EmulatedParams:
    elf: str | Path
    frames: np.ndarray  # (n, axes) values in the units the impulse was trained on
    frequency_hz: float
    realtime: bool = False  # pace the frames at frequency_hz (else as fast as the UART takes them)
    core: str = "cortex-m4"
    axis_names: list[str] | None = None  # a "# name,name" header line first, when given
    decimals: int = DECIMALS
    idle_timeout: float = IDLE_TIMEOUT


@dataclass
class EmulatedReport(MonitorReport):
    elf: str = ""
    sent: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))  # the values as sent
    lines_sent: int = 0
    windows_expected: int | None = None  # from the banner's window and stride (None without a banner)
    complete: bool = False  # every expected window was answered
    seconds: float = 0.0

    @property
    def windows_done(self) -> int:
        return len(self.results) + sum(e.stage in WINDOW_STAGES for e in self.errors)


def encode(frames: np.ndarray, decimals: int = DECIMALS) -> tuple[list[bytes], np.ndarray]:
    """The frames as data-forwarder lines, and the values those lines carry (float32, what the firmware reads)."""
    frames = np.asarray(frames, dtype=np.float64)
    if frames.ndim == 1:
        frames = frames[:, None]
    lines = [format_line(f, decimals=decimals) for f in frames]
    sent = np.array([[float(v) for v in line.split(b",")] for line in lines], np.float32)
    return lines, sent.reshape(len(lines), frames.shape[1])


def window_count(frames: int, window: int, stride: int) -> int:
    """How many windows a firmware classifies in a stream of ``frames``: one at ``window`` frames, then one
    every ``stride`` frames."""
    if window <= 0 or stride <= 0 or frames < window:
        return 0
    return 1 + (frames - window) // stride


def stream_windows(sent: np.ndarray, window: int, stride: int) -> np.ndarray:
    """The windows the firmware slides over a stream, shape (count, window, axes)."""
    n = window_count(len(sent), window, stride)
    if not n:
        return np.zeros((0, max(window, 0), sent.shape[1]), sent.dtype)
    return np.stack([sent[i * stride:i * stride + window] for i in range(n)])


def gesture_frames(gesture: str, seconds: float, frequency_hz: float, axes: int = 3, seed: int = 0) -> np.ndarray:
    """``seconds`` of the app's virtual sensor making ``gesture`` (accelerometer, plus gyroscope for 6 axes)."""
    if axes not in (3, 6):
        raise FlashError(f"the virtual sensor gives 3 or 6 axes, the impulse reads {axes}")
    try:
        synth = GestureSynth(gesture, frequency_hz, seed=seed, gyro=axes == 6)
    except ValueError as e:
        raise FlashError(str(e)) from None
    return synth.next(max(1, int(round(seconds * frequency_hz))))


def _expected(banner: ImpulseLine, frames: int) -> int | None:
    try:
        return window_count(frames, int(banner.fields["window"]), int(banner.fields["stride"]))
    except (KeyError, ValueError):
        return None


class _Writer(threading.Thread):
    """Writes the lines to the port, paced at ``hz`` when ``realtime``; stops on ``stop`` or a write error."""

    def __init__(self, ser: Any, lines: list[bytes], hz: float, realtime: bool) -> None:
        super().__init__(name="emulated-board-writer", daemon=True)
        self.ser, self.lines, self.hz, self.realtime = ser, lines, hz, realtime
        self.written = 0
        self.stop = threading.Event()
        self.error: str | None = None

    def run(self) -> None:
        start = time.monotonic()
        try:
            while self.written < len(self.lines) and not self.stop.is_set():
                end = min(len(self.lines), self.written + CHUNK_LINES)
                if self.realtime:
                    due = int((time.monotonic() - start) * self.hz) + 1
                    if due <= self.written:
                        self.stop.wait(min(0.02, (self.written + 1 - due) / self.hz + 0.001))
                        continue
                    end = min(end, due)
                self.ser.write(b"".join(self.lines[self.written:end]))
                self.written = end
        except Exception as e:  # noqa: BLE001 - a serial write error, reported by the job
            if not self.stop.is_set():
                self.error = str(e).split("\n")[0] or type(e).__name__

    @property
    def finished(self) -> bool:
        return self.written >= len(self.lines) or self.error is not None


def _check(params: EmulatedParams) -> np.ndarray:
    frames = np.asarray(params.frames)
    if frames.ndim == 1:
        frames = frames[:, None]
    if frames.ndim != 2 or frames.size == 0:
        raise FlashError("no sensor frames to stream to the emulated board")
    if not np.isfinite(frames).all():
        raise FlashError("the sensor frames hold NaN or infinite values")
    if not params.frequency_hz > 0:
        raise FlashError(f"{params.frequency_hz}: the stream's frequency must be positive")
    return frames


def _stopped(board: Any, fallback: str) -> FlashError:
    """Why the board stopped by itself (QEMU's one line once it has been reaped), else ``fallback``."""
    board.wait(2.0)
    return FlashError(board.error or fallback)


def run(params: EmulatedParams, progress: ProgressLike) -> EmulatedReport:
    """Flash, stream, collect; see the module's docstring."""
    frames = _check(params)
    lines, sent = encode(frames, params.decimals)
    header = [("# " + ",".join(params.axis_names) + "\r\n").encode("ascii", "replace")] if params.axis_names else []
    report = EmulatedReport("", elf=str(params.elf), sent=sent)
    start = time.monotonic()
    progress.update(0.0, f"starting {Path(params.elf).name} on the emulated board")
    board = flash_emulated(params.elf, params.core)
    writer: _Writer | None = None
    ser: Any = None
    try:
        report.port = board.port
        try:
            ser = open_port(board.port, BAUD)
        except DeviceError as e:
            raise _stopped(board, str(e)) from None
        # the port is open before the firmware's first reading, which prints only its banner: nothing to cut
        splitter = LineSplitter(from_start=True)
        writer = _Writer(ser, header + lines, params.frequency_hz, params.realtime)
        writer.start()
        progress.update(0.0, f"streaming {len(frames)} frames to {board.port}")
        quiet_since = time.monotonic()
        shown = -1  # windows answered at the last progress update
        while not progress.cancelled:
            try:
                chunk = read_chunk(ser, board.port)
            except DeviceError as e:
                raise _stopped(board, str(e)) from None
            got = splitter.feed(chunk)
            for raw in got:
                parsed = handle(report, raw)
                if isinstance(parsed, ImpulseLine) and report.windows_expected is None:
                    report.windows_expected = _expected(parsed, len(frames))
                if isinstance(parsed, ResultLine | ImpulseLine | ErrorLine):
                    progress.partial(parsed)
            if got or not writer.finished:
                quiet_since = time.monotonic()
            expected = report.windows_expected
            if expected is not None:
                if report.windows_done != shown:
                    shown = report.windows_done
                    progress.update(shown / expected if expected else 1.0, f"{shown} of {expected} windows classified")
                if report.windows_done >= expected:
                    report.complete = True
                    break
            if writer.error is not None:
                raise _stopped(board, f"{board.port}: writing to the emulated board failed ({writer.error})")
            if not board.running:
                raise _stopped(board, f"{board.port}: the emulated board stopped")
            if writer.finished and time.monotonic() - quiet_since > params.idle_timeout:
                break  # the firmware fell silent: what came is the report
    finally:
        if writer is not None:
            writer.stop.set()
            if ser is not None:
                ser.cancel_write()
        board.stop()
        if writer is not None:
            writer.join(5.0)
            report.lines_sent = max(0, writer.written - len(header))
        if ser is not None:
            ser.close()
        report.seconds = time.monotonic() - start
    return report
