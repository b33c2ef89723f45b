"""Flashing a built firmware: through PlatformIO's ``upload`` target on the port the user chose, or
onto the emulated board, where flashing starts the firmware under QEMU with its UART on a
pseudo-terminal (``studio.cortexm.SerialBoard``) that the app then opens like any board.

Never a guessed port: serial auto-detection here lists a bogus ``/dev/ttyS0``, so an upload
without a port is refused. Before uploading, the port is checked: it must exist and nobody may
hold it (the app closes its own monitor first, through ``release``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from studio.cortexm import SerialBoard
from studio.deploy.pio.config import env_platform
from studio.deploy.pio.runner import LineCallback, PioBuildError, PioError, PioResult, failure_line, run_pio
from studio.jobs import ProgressLike

# what flashers print when the board is not listening (not in its bootloader, or the wrong port)
_NO_BOARD = re.compile(r"No device found|Couldn't find a board|could not find a board|No DFU capable USB device"
                       r"|timed out waiting for|Failed to connect|not in sync|No response from|Device not found"
                       r"|no board answered", re.IGNORECASE)


# how to put a board in its bootloader, by the PlatformIO platform of the environment; else most boards' way
_BOOTLOADERS = {"espressif32": "on ESP32 boards hold BOOT, press and release EN or RST, then release BOOT"}
_DEFAULT_BOOTLOADER = "on most boards a double press of reset"


class FlashError(PioError):
    """A flash that cannot start or did not reach the board; one line naming the port and the reason."""


def check_port(port: str | None) -> str:
    """The port, if it can be used for an upload; else FlashError saying why."""
    if not port:
        raise FlashError("no port chosen: pick the board's serial port (ports are never guessed)")
    if not Path(port).exists():
        raise FlashError(f"{port}: no such port (unplugged?)")
    import serial

    try:
        probe = serial.Serial(port, 115200, timeout=0, exclusive=True)
    except serial.SerialException as e:
        text = str(e)
        if "Permission denied" in text:
            raise FlashError(f"{port}: permission denied (add yourself to the 'dialout' group and log in "
                             "again)") from None
        if "exclusively lock" in text or "busy" in text.lower() or "temporarily unavailable" in text:
            raise FlashError(f"{port}: busy: another program has it open (close its serial monitor)") from None
        raise FlashError(f"{port}: cannot open ({text})") from None
    probe.close()
    return port


def upload(project_dir: str | Path, env: str, port: str | None, core_dir: str | Path, *,
           release: Callable[[str], None] | None = None, on_line: LineCallback | None = None,
           progress: ProgressLike | None = None, pio: str | None = None) -> PioResult:
    """``pio run -t upload --upload-port PORT``. ``release(port)`` is called first, so that the app can
    close its own monitor on the port; a board that does not answer gets a bootloader hint for its family."""
    if release is not None and port:
        release(port)
    check_port(port)
    args = ["run", "-d", str(project_dir), "-e", env, "-t", "upload", "--upload-port", str(port)]
    result = run_pio(args, core_dir, on_line=on_line, progress=progress, pio=pio)
    if result.ok:
        return result
    if any(_NO_BOARD.search(line) for line in result.lines):
        raise FlashError(f"{port}: the board did not answer: put it in its bootloader "
                         f"({bootloader_hint(project_dir, env)}) and flash again", result.log, result.command)
    raise PioBuildError(failure_line(result.lines), result.log, result.command)


@dataclass
class UploadParams:
    project: Path
    env: str
    port: str
    core: Path
    release: Callable[[str], None] | None = None  # closes the app's own monitor on the port first


def run(p: UploadParams, progress: ProgressLike) -> PioResult:
    """The upload as a job; ``pio``'s log lines go out as partials."""
    progress.update(0.0, f"flashing {p.port}")
    return upload(p.project, p.env, p.port, p.core, release=p.release, on_line=progress.partial, progress=progress)


def bootloader_hint(project_dir: str | Path, env: str) -> str:
    """How to put the board of ``[env:ENV]`` in its bootloader, by its platform (ESP32 boards have a BOOT button)."""
    platform = env_platform(project_dir, env) or ""
    return next((hint for name, hint in _BOOTLOADERS.items() if name in platform), _DEFAULT_BOOTLOADER)


def flash_emulated(elf: str | Path, core: str = "cortex-m4", link: str | Path | None = None):
    """Start ``elf`` on the emulated board; returns the running ``SerialBoard`` (its ``port`` is the path
    to open). Stop it with ``board.stop()``."""
    if not Path(elf).is_file():
        raise FlashError(f"{elf}: no firmware there (build it first)")
    board = SerialBoard(elf, core, link=link)
    board.start()
    return board
