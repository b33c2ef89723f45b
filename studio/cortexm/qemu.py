"""Running a bare-metal ELF on its QEMU board with semihosting, optionally counting instructions.

With semihosting, the program's stdout is QEMU's stdout, its stdin is QEMU's stdin, ``fopen`` opens
host files relative to QEMU's working directory, and ``main``'s return value is QEMU's exit code.
Fault messages from the start-up code go to QEMU's stderr.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from studio.cortexm.cores import Core, get_core
from studio.cortexm.counting import build_plugin, parse_plugin_log
from studio.cortexm.errors import CortexMError, QemuError, QemuTimeout
from studio.cortexm.toolchain import QEMU, find_tool, symbol_address

FAULT_EXIT = 250  # BAREMETAL_FAULT_EXIT in baremetal.h
FAULT_PREFIX = "baremetal: "
MARK_SYMBOL = "baremetal_mark"


@dataclass
class QemuRun:
    exit_code: int
    stdout: str
    marks: list[int] = field(default_factory=list)  # instructions executed before each baremetal_mark() call
    total_instructions: int | None = None  # the whole run, when counting
    stderr: str = ""
    seconds: float = 0.0  # wall time of QEMU, start-up included

    @property
    def fault(self) -> str | None:
        """The start-up code's one-line report of a fault or unexpected exception, if any."""
        return next((ln for ln in self.stderr.splitlines() if ln.startswith(FAULT_PREFIX)), None)

    @property
    def mark_deltas(self) -> list[int]:
        """Instructions between consecutive marks (the call of the second mark included)."""
        return [b - a for a, b in zip(self.marks, self.marks[1:], strict=False)]


def qemu_command(elf: Path, core: Core, *, plugin: Path | None = None, marks: Iterable[int] = (),
                 log: Path | None = None, extra_args: Iterable[str] = ()) -> list[str]:
    command = [find_tool(QEMU), "-M", core.machine, "-nographic", "-monitor", "none",
               "-semihosting-config", "enable=on,target=native"]
    if plugin is not None:
        # icount makes the whole run deterministic (no timer interrupts landing at wall-clock moments)
        command += ["-icount", "shift=0", "-plugin", ",".join([str(plugin), *(f"mark={a:#x}" for a in marks)])]
        if log is not None:
            command += ["-d", "plugin", "-D", str(log)]
    return [*command, *extra_args, "-kernel", str(elf)]


def _qemu_failure(stderr: str) -> str | None:
    """QEMU's own complaint (it could not start the program), as opposed to the program's exit code."""
    prefix = f"{QEMU}:"
    for line in stderr.splitlines():
        if line.startswith(prefix) and "warning:" not in line:
            return line
    return None


def run(elf: str | Path, core: str | Core, *, timeout: float = 60.0, stdin_bytes: bytes | None = None,
        count_marks: bool = False, cwd: str | Path | None = None, plugin_cache_dir: str | Path | None = None,
        extra_args: Iterable[str] = ()) -> QemuRun:
    """Run ``elf`` on ``core``'s board until the program exits.

    ``count_marks`` loads the counting plugin (and ``-icount shift=0``): every ``baremetal_mark()`` call
    records the instructions executed so far, and the run's total is reported. ``cwd`` is where
    semihosting opens relative paths. Raises ``QemuTimeout`` (QEMU killed) after ``timeout`` seconds
    and ``QemuError`` when QEMU itself fails; a program's non-zero exit is not an error.
    """
    c = get_core(core)
    elf = Path(elf).resolve()
    if not elf.is_file():
        raise CortexMError(f"{elf}: no such ELF file")
    with tempfile.TemporaryDirectory(prefix="tinyml-qemu-") as tmp:
        log = Path(tmp) / "plugin.log"
        if count_marks:
            plugin = build_plugin(plugin_cache_dir)
            command = qemu_command(elf, c, plugin=plugin, marks=[symbol_address(elf, MARK_SYMBOL)], log=log,
                                   extra_args=extra_args)
        else:
            command = qemu_command(elf, c, extra_args=extra_args)
        start = time.monotonic()
        try:
            proc = subprocess.run(command, input=stdin_bytes if stdin_bytes is not None else b"",
                                  capture_output=True, cwd=cwd, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            stdout = (e.stdout or b"").decode("utf-8", "replace")
            stderr = (e.stderr or b"").decode("utf-8", "replace")
            raise QemuTimeout(f"{QEMU} -M {c.machine}: {elf.name} did not exit within {timeout:g} s; killed",
                              stdout, stderr) from None
        seconds = time.monotonic() - start
        stdout = proc.stdout.decode("utf-8", "replace")
        stderr = proc.stderr.decode("utf-8", "replace")
        if proc.returncode < 0:  # e.g. "qemu: fatal: Lockup: ..." (then a register dump) aborts QEMU
            lines = stderr.strip().splitlines()
            why = next((ln for ln in lines if ln.startswith("qemu: fatal:")), lines[-1] if lines else "")
            raise QemuError(f"{QEMU} -M {c.machine}: {elf.name}: {why or f'killed by signal {-proc.returncode}'}",
                            stdout, stderr)
        if proc.returncode != 0 and (problem := _qemu_failure(stderr)):
            raise QemuError(problem, stdout, stderr)
        counted = parse_plugin_log(log.read_text(errors="replace")) if count_marks and log.exists() else None
    if count_marks and (counted is None or counted.total is None):
        raise QemuError(f"{QEMU}: the counting plugin reported nothing for {elf.name}", stdout, stderr)
    return QemuRun(exit_code=proc.returncode, stdout=stdout, marks=counted.marks if counted else [],
                   total_instructions=counted.total if counted else None, stderr=stderr, seconds=seconds)
