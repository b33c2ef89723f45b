"""A simulated board on a pseudo-terminal, speaking the data-forwarder protocol.

It writes ``# accX,accY,accZ`` once a second and readings at ``rate`` Hz, timed from a
monotonic clock (batches are sized from elapsed time, so the rate holds whatever the
scheduler does). Like a real UART: if the host opens the port at another baud rate, it sees
garbage; if nobody reads, readings are lost, not queued forever. An optional symlink gives the
board a stable path that survives restarts (for reconnect tests and scripts).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import termios
import threading
import time
from pathlib import Path

import numpy as np

from studio.devices.forwarder import format_line
from studio.devices.gestures import GestureSynth

_SPEEDS = {getattr(termios, f"B{b}"): b for b in (9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)
           if hasattr(termios, f"B{b}")}


def registry_dir() -> Path:
    """Where running virtual boards announce themselves, so the app can list them."""
    base = os.environ.get("XDG_RUNTIME_DIR") or f"/tmp/tinyml-studio-{os.getuid()}"
    return Path(base) / "tinyml-studio" / "virtual-boards"


class VirtualBoard:
    def __init__(self, rate_hz: float = 100.0, gesture: str = "idle", gyro: bool = False, seed: int = 0,
                 baud: int = 115200, link: Path | None = None, header_every_s: float = 1.0) -> None:
        self.synth = GestureSynth(gesture, rate_hz, seed, gyro)
        self.rate = float(rate_hz)
        self.baud = baud
        self.link = Path(link) if link else None
        self.header_every_s = header_every_s
        self.lines_written = 0
        self.lines_dropped = 0
        self._master: int | None = None
        self._slave: int | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._announce: Path | None = None
        self.path = ""

    # ------------------------------------------------------------------ control

    def start(self, announce: bool = False) -> str:
        self._master, self._slave = os.openpty()
        os.set_blocking(self._master, False)
        attrs = termios.tcgetattr(self._slave)
        attrs[3] &= ~(termios.ECHO | termios.ICANON)  # raw: the host sees bytes as sent
        attrs[1] &= ~termios.OPOST
        termios.tcsetattr(self._slave, termios.TCSANOW, attrs)
        self.path = os.ttyname(self._slave)
        if self.link is not None:
            tmp = self.link.with_name(f".{self.link.name}.{secrets.token_hex(4)}")
            os.symlink(self.path, tmp)
            os.replace(tmp, self.link)
        if announce:
            self._announce = registry_dir() / f"{os.getpid()}-{Path(self.path).name}.json"
            self._announce.parent.mkdir(parents=True, exist_ok=True)
            self._announce.write_text(json.dumps({"path": self.shown_path, "rate_hz": self.rate,
                                                  "gesture": self.synth.gesture, "pid": os.getpid()}))
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="virtual-board", daemon=True)
        self._thread.start()
        return self.shown_path

    @property
    def shown_path(self) -> str:
        return str(self.link) if self.link else self.path

    def set_gesture(self, gesture: str) -> None:
        self.synth.set_gesture(gesture)

    def stop(self) -> None:
        """Unplug: the host's next read fails, as with a board pulled from USB."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)
        for fd in (self._master, self._slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = None
        if self._announce is not None:
            self._announce.unlink(missing_ok=True)

    def __enter__(self) -> VirtualBoard:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ the board's loop

    def _host_baud(self) -> int | None:
        try:
            return _SPEEDS.get(termios.tcgetattr(self._master)[5])
        except termios.error:
            return None

    def _write(self, data: bytes) -> None:
        try:
            os.write(self._master, data)
        except BlockingIOError:
            # nobody is reading: the pty buffer is full; drop what is queued (stale) and this batch
            termios.tcflush(self._slave, termios.TCIFLUSH)
            self.lines_dropped += data.count(b"\n")
        except OSError as e:
            if e.errno not in (errno.EIO, errno.EBADF):
                raise

    def _run(self) -> None:
        start = time.monotonic()
        next_header = start
        rng = np.random.default_rng(1)
        while not self._stop.is_set():
            now = time.monotonic()
            due = int((now - start) * self.rate) - self.lines_written
            parts = []
            if now >= next_header:
                parts.append(("# " + ",".join(self.synth.axes) + "\r\n").encode())
                next_header = now + self.header_every_s
            if due > 0:
                values = self.synth.next(due)
                parts.extend(format_line(v) for v in values)
                self.lines_written += due
            if parts:
                data = b"".join(parts)
                host = self._host_baud()
                if host is not None and host != self.baud:
                    # a UART at the wrong rate samples the wrong bits: bytes arrive, text does not
                    data = rng.integers(0, 256, max(1, len(data) * host // max(self.baud, 1)),
                                        dtype=np.uint8).tobytes()
                self._write(data)
            self._stop.wait(0.005)
