"""A firmware ELF running on its emulated board with UART0 on a pseudo-terminal: a serial board to the app.

QEMU creates the pseudo-terminal itself (``-serial pty``) and names it on stdout; pyserial opens that
path like a USB serial port, at any baud rate (a pseudo-terminal ignores it). Semihosting stays on:
the program's ``printf`` goes to :attr:`SerialBoard.stdout`, its fault report to ``stderr``.

How the link behaves (QEMU 7.2, measured):

* Flow control instead of loss: the UART takes a byte only when the program has read the previous
  one, so a host writing faster than the firmware reads blocks once the pseudo-terminal's buffer is
  full; a host that keeps the port open but stops reading stalls the firmware's writes the same way.
  Read and write from separate threads (or interleave) to avoid a deadlock.
* While no program has the port open, what the firmware sends is dropped, like a board talking to
  an unplugged cable (the first line read after opening may be cut). After the port is opened
  (again), output flows at once; input reaches the firmware at once if it writes, else within about
  a second (QEMU 7.2 looks for a reconnected pseudo-terminal once a second). Nothing written is lost.
* A firmware waiting in the driver's sleeping reads (``cmsdk_uart.h``) costs no host CPU; a polling
  loop keeps one host core busy and halves the throughput (about 1,500 vs 750 lines/s of 24 bytes).
* When QEMU exits (the program returned, faulted, or :meth:`SerialBoard.stop`), the port goes away:
  an open port's reads fail as when a USB board is pulled, and :attr:`SerialBoard.error` says why in
  one line.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import secrets
import signal
import subprocess
import threading
import time
import weakref
from pathlib import Path
from typing import IO

from studio.cortexm.cores import Core, get_core
from studio.cortexm.errors import CortexMError, QemuError, QemuTimeout
from studio.cortexm.qemu import FAULT_EXIT, FAULT_PREFIX, qemu_command
from studio.cortexm.toolchain import QEMU, baremetal_dir

PTY_MESSAGE = re.compile(rb"char device redirected to (/dev/\S+)[^\n]*\n")  # on stdout in QEMU 7.2
OUTPUT_LIMIT = 256 * 1024  # bytes of stdout/stderr kept (the newest); a board may run for hours
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0

_live: weakref.WeakSet[SerialBoard] = weakref.WeakSet()


def uart_driver() -> Path:
    """The UART driver to compile with a firmware (``#include "cmsdk_uart.h"``; the header is on the path)."""
    return baremetal_dir() / "cmsdk_uart.c"


class _Tail:
    """The newest ``limit`` bytes written to it (thread-safe)."""

    def __init__(self, limit: int = OUTPUT_LIMIT) -> None:
        self.limit = limit
        self._data = bytearray()
        self._lock = threading.Lock()

    def add(self, chunk: bytes) -> None:
        with self._lock:
            self._data += chunk
            if len(self._data) > self.limit:
                del self._data[: len(self._data) - self.limit]

    def text(self) -> str:
        with self._lock:
            return self._data.decode("utf-8", "replace")


class SerialBoard:
    """``elf`` running on ``core``'s QEMU board until :meth:`stop`; UART0 is the serial port :attr:`port`.

    ``link``: a symlink to the pseudo-terminal, made when the board starts and removed when it stops
    (a stable name across restarts). ``cwd`` is where semihosting opens relative paths.
    """

    def __init__(self, elf: str | Path, core: str | Core = "cortex-m4", *, link: str | Path | None = None,
                 cwd: str | Path | None = None, start_timeout: float = START_TIMEOUT,
                 extra_args: tuple[str, ...] | list[str] = ()) -> None:
        self.elf = Path(elf).resolve()
        self.core = get_core(core)
        self.link = Path(link) if link is not None else None
        self.cwd = cwd
        self.start_timeout = start_timeout
        self.extra_args = list(extra_args)
        self.pty_path = ""
        self.command: list[str] = []
        self._proc: subprocess.Popen[bytes] | None = None
        self._stdout = _Tail()
        self._stderr = _Tail()
        self._pty_found = threading.Event()
        self._exited = threading.Event()
        self._stopping = False
        self._error: str | None = None
        self._watcher: threading.Thread | None = None

    # ------------------------------------------------------------------ control

    def start(self) -> str:
        """Start QEMU; returns the port to open once the pseudo-terminal exists (the program is running)."""
        if self._proc is not None:
            raise CortexMError(f"{self.elf.name}: the board was already started")
        if not self.elf.is_file():
            raise CortexMError(f"{self.elf}: no such ELF file")
        self.command = qemu_command(self.elf, self.core, extra_args=["-serial", "pty", *self.extra_args])
        self._proc = subprocess.Popen(self.command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, cwd=self.cwd)
        _live.add(self)
        err_reader = threading.Thread(target=self._read_stderr, args=(self._proc.stderr,), daemon=True,
                                      name="serial-board-stderr")
        err_reader.start()
        self._watcher = threading.Thread(target=self._watch, args=(err_reader,), daemon=True,
                                         name="serial-board")
        self._watcher.start()
        if not self._wait_for_pty():
            self._kill()
            raise QemuTimeout(f"{self._title()}: no pseudo-terminal within {self.start_timeout:g} s; killed",
                              self.stdout, self.stderr)
        if not self.pty_path:  # QEMU exited before making the pseudo-terminal
            raise QemuError(self._error or f"{self._title()}: QEMU exited at start", self.stdout, self.stderr)
        if self.link is not None:
            tmp = self.link.with_name(f".{self.link.name}.{secrets.token_hex(4)}")
            os.symlink(self.pty_path, tmp)
            os.replace(tmp, self.link)
        return self.port

    def _wait_for_pty(self) -> bool:
        """False on timeout; True once the path is known or QEMU has exited."""
        deadline = time.monotonic() + self.start_timeout
        while not (self._pty_found.wait(0.02) or self._exited.is_set()):
            if time.monotonic() > deadline:
                return False
        return True

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """Terminate QEMU (killed after ``timeout`` s) and reap it; returns its exit code (None: never started)."""
        proc = self._proc
        if proc is None:
            return None
        if proc.poll() is None:
            self._stopping = True
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._kill()
        else:
            proc.wait()
        if self._watcher is not None:
            self._watcher.join(timeout)
        self._remove_link()
        _live.discard(self)
        return proc.returncode

    def _kill(self) -> None:
        if self._proc is not None:
            self._stopping = True
            with contextlib.suppress(ProcessLookupError):
                self._proc.kill()
            self._proc.wait()

    def __enter__(self) -> SerialBoard:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ state

    @property
    def port(self) -> str:
        """What to open with pyserial: the link if one was asked for, else the pseudo-terminal."""
        return str(self.link) if self.link is not None else self.pty_path

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and not self._exited.is_set() and self._proc.poll() is None

    @property
    def exit_code(self) -> int | None:
        return self._proc.returncode if self._proc is not None and self._exited.is_set() else None

    @property
    def stdout(self) -> str:
        """The program's semihosting output (the newest 256 KB)."""
        return self._stdout.text()

    @property
    def stderr(self) -> str:
        """QEMU's messages and the start-up code's fault report."""
        return self._stderr.text()

    @property
    def error(self) -> str | None:
        """Why the board stopped by itself (exit, fault, QEMU failure), in one line; None while it runs or
        when :meth:`stop` ended it."""
        return self._error

    def wait(self, timeout: float | None = None) -> int | None:
        """Wait until QEMU exits (by itself or stopped); its exit code, or None on timeout."""
        return self.exit_code if self._exited.wait(timeout) else None

    def check(self) -> None:
        """Raise :class:`QemuError` with the one-line reason (and QEMU's output) if the board stopped by itself."""
        if self._exited.is_set() and self._error:
            raise QemuError(self._error, self.stdout, self.stderr)

    # ------------------------------------------------------------------ threads

    def _read_stderr(self, pipe: IO[bytes]) -> None:
        while chunk := pipe.read1(65536):
            self._stderr.add(chunk)

    def _watch(self, err_reader: threading.Thread) -> None:
        """Drain stdout until QEMU closes it, then reap QEMU and say why it stopped."""
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        head = b""  # QEMU names the pseudo-terminal on stdout, before the program runs
        while chunk := proc.stdout.read1(65536):
            if self._pty_found.is_set():
                self._stdout.add(chunk)
                continue
            head += chunk
            if m := PTY_MESSAGE.search(head):
                self.pty_path = m.group(1).decode()
                self._pty_found.set()
                self._stdout.add(head[: m.start()] + head[m.end():])
        if not self._pty_found.is_set():
            self._stdout.add(head)
        proc.wait()
        err_reader.join(2.0)
        for pipe in (proc.stdout, proc.stderr):
            with contextlib.suppress(OSError):
                pipe.close()
        if not self._stopping:
            self._error = self._why(proc.returncode)
        self._remove_link()
        self._exited.set()

    def _title(self) -> str:
        return f"{self.elf.name} on {self.core.machine}"

    def _why(self, code: int) -> str:
        stderr = self.stderr
        lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
        fault = next((ln for ln in lines if ln.startswith(FAULT_PREFIX)), None)
        if fault is not None:
            return f"{self._title()}: {fault[len(FAULT_PREFIX):]}"
        if code < 0:  # e.g. "qemu: fatal: Lockup: ..." (then a register dump) aborts QEMU
            why = next((ln for ln in lines if ln.startswith("qemu: fatal:")), None)
            return f"{self._title()}: {why or f'QEMU killed by signal {-code}'}"
        qemu_says = next((ln for ln in lines if ln.startswith(f"{QEMU}:") and "warning:" not in ln), None)
        if qemu_says is not None:
            return qemu_says
        tail = next((ln for ln in reversed(self.stdout.splitlines()) if ln.strip()), "")
        said = f"; last output: {tail.strip()[:120]}" if tail else ""
        what = "faulted" if code == FAULT_EXIT else "the program exited"
        return f"{self._title()}: {what} (exit code {code}){said}"

    def _remove_link(self) -> None:
        if self.link is not None and self.pty_path:
            with contextlib.suppress(OSError):
                if os.readlink(self.link) == self.pty_path:
                    self.link.unlink()


@atexit.register
def _stop_all() -> None:
    """No QEMU outlives the app when it exits normally."""
    for board in list(_live):
        board.stop(1.0)
