"""Building an exported project: the offline kit installed (or left alone) in the core, a quick check that
the environment can build offline, then ``pio run``. The CLI and the Deploy page both build through here."""

from __future__ import annotations

from pathlib import Path

from studio.deploy import pio_kit
from studio.deploy.pio_config import check_buildable
from studio.deploy.platformio import LineCallback, PioBuildError, PioResult, pio_run
from studio.jobs import ProgressLike


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
