"""The library target: the impulse as portable C (DSP, compiled model, output lines) with a Makefile and an
example ``main.c``, zipped; for users with their own build."""

from __future__ import annotations

from studio.boards.registry import Board
from studio.deploy.export.context import Env
from studio.deploy.export.impulse_files import (
    context,
    impulse_library,
    trained,
)
from studio.deploy.export.writer import Writer
from studio.learn.runs import Run

__all__ = ["context", "stage"]  # a deploy target's module (targets.py); the context is the impulse's


def stage(w: Writer, run: Run | None, _board: Board) -> list[Env]:
    run = trained(run)
    top = w.context["slug"] + "-impulse"
    impulse_library(w, run, f"{top}/impulse")
    w.render("src/native_main.c.j2", f"{top}/example/main.c")
    w.render("library/Makefile.j2", f"{top}/Makefile")
    w.render("library/README.md.j2", f"{top}/README.md")
    return []
