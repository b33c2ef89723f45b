"""The library target: the impulse as portable C (DSP, compiled model, output lines) with a Makefile and an
example ``main.c``, zipped; for users with their own build."""

from __future__ import annotations

from typing import Any

import numpy as np

from studio.boards.registry import Board
from studio.deploy.export.context import Env
from studio.deploy.export.errors import ExportError
from studio.deploy.export.impulse_files import context_for, impulse_library
from studio.deploy.export.writer import Writer
from studio.learn.runs import Run


def context(run: Run | None, board: Board, name: str, test_window: np.ndarray | None) -> dict[str, Any]:
    if run is None:
        raise ExportError("the library export needs a trained run")
    return context_for(run, board, name, test_window)


def stage(w: Writer, run: Run | None, _board: Board) -> list[Env]:
    if run is None:
        raise ExportError("the library export needs a trained run")
    top = w.context["slug"] + "-impulse"
    impulse_library(w, run, f"{top}/impulse")
    w.render("src/native_main.c.j2", f"{top}/example/main.c")
    w.render("library/Makefile.j2", f"{top}/Makefile")
    w.render("library/README.md.j2", f"{top}/README.md")
    return []
