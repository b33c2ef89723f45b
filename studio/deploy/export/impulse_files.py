"""What the firmware and library targets share: the impulse's template context (with the window the generic
firmware classifies) and the impulse library (the compiled model, the DSP in C, the output and stream code)."""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np

from studio.boards.registry import Board
from studio.compiler import CompileError, compile_model
from studio.deploy.export.context import MODEL_PREFIX, Env, impulse_context
from studio.deploy.export.errors import ExportError
from studio.deploy.export.writer import Writer
from studio.errors import StudioError
from studio.impulse_c import ImpulseCError, render_for_run
from studio.learn.runs import Run


def project_window(run: Run) -> tuple[np.ndarray, str] | None:
    """The first window of the run's project's first testing sample (else training) that fits the impulse, cut
    as the test job cuts it, and where it comes from; ``None`` when there is none."""
    try:
        for category in ("testing", "training"):
            with contextlib.closing(run.windows(category)) as samples:
                for sample, windows in samples:
                    if len(windows):
                        return windows[0], f"the first window of {category} sample {sample.name} ({sample.label})"
    except (StudioError, OSError):
        return None
    return None


def trained(run: Run | None) -> Run:
    """The run an impulse target renders (``export_project`` refuses these targets without one)."""
    if run is None:
        raise ExportError("this export needs a trained run")
    return run


def context(run: Run | None, board: Board, name: str, test_window: np.ndarray | None) -> dict[str, Any]:
    """The impulse context of the firmware and library targets; the test window is the project's first one
    unless given."""
    run = trained(run)
    found = project_window(run) if test_window is None else (test_window, "")
    context = impulse_context(run, board, name, found[0] if found else None)
    context["test_window_comment"] = found[1] if found else "zeros: the project has no window"
    return context


def impulse_library(w: Writer, run: Run, folder: str) -> None:
    """The compiled model, the DSP in C and the firmware's output and stream code, in ``folder``."""
    out = w.root / folder
    out.mkdir(parents=True, exist_ok=True)
    before = set(out.iterdir())
    try:
        compile_model(run.model_bytes("int8"), out, prefix=MODEL_PREFIX, source=f"run {run.number}")
        render_for_run(run, out, model_prefix=MODEL_PREFIX)
    except CompileError as e:
        raise ExportError(f"{run.path}: the int8 model cannot be compiled ({'; '.join(e.problems)[:300]})") from None
    except ImpulseCError as e:
        raise ExportError(f"{run.path}: {e}") from None
    w.generated(folder, before)
    for name in ("impulse_output.h", "impulse_output.c", "impulse_stream.h", "impulse_stream.c"):
        w.render(f"lib/{name}.j2", f"{folder}/{name}")


def write_ini(w: Writer, envs: list[Env], description: str) -> None:
    w.render("platformio.ini.j2", "platformio.ini", envs=envs, description=description)
