"""Building an exported project: the offline kit installed (or left alone) in the core, a quick check that
the environment can build offline, then ``pio run``. The CLI and the Deploy page both build through here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from studio.deploy.pio import kit as pio_kit
from studio.deploy.pio.config import check_buildable
from studio.deploy.pio.runner import LineCallback, PioBuildError, PioResult, pio_run
from studio.jobs import ProgressLike


def build_folder(project: str | Path, env: str) -> Path:
    """Where ``pio run -e ENV`` puts what it builds in ``project``."""
    return Path(project) / ".pio" / "build" / env


def native_program(project: str | Path) -> Path:
    """The program the ``native`` environment builds (it runs on this computer)."""
    return build_folder(project, "native") / "program"


def firmware_elf(project: str | Path, env: str) -> Path:
    """The firmware image a board's environment builds (what QEMU runs for the emulated board)."""
    return build_folder(project, env) / "firmware.elf"


def build_project(project: str | Path, env: str, core: str | Path, *, on_line: LineCallback | None = None,
                  progress: ProgressLike | None = None) -> PioResult:
    """``pio run -e ENV``; the kit's notes go to ``on_line`` first, and one of them explains a missing
    toolchain when the build stops on it."""
    kit = pio_kit.install_kit(core, on_line=on_line)
    for note in kit.notes:
        if on_line is not None:
            on_line(f"note: {note}")
    check_buildable(project, env, core)
    try:
        return pio_run(project, env, core, on_line=on_line, progress=progress)
    except PioBuildError as e:
        if kit.notes and str(e).startswith("toolchain not found"):
            raise PioBuildError(f"{e} ({kit.notes[0]})", e.log, e.command) from None
        raise


@dataclass
class BuildParams:
    project: Path
    env: str
    core: Path


def run(p: BuildParams, progress: ProgressLike) -> PioResult:
    """The build as a job: the offline kit, then ``pio run``; log lines go out as partials."""
    progress.update(0.0, "checking the offline PlatformIO kit")
    return build_project(p.project, p.env, p.core, on_line=progress.partial, progress=progress)
