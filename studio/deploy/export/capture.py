"""The capture target: a PlatformIO project streaming the board's IMU (data-forwarder text) or microphone
(framed binary) at the impulse's rate, for the app's Capture step; no run needed."""

from __future__ import annotations

from typing import Any

import numpy as np

from studio.boards.registry import Board
from studio.deploy.export.context import Env, capture_context, capture_envs
from studio.deploy.export.impulse_files import write_ini
from studio.deploy.export.writer import Writer
from studio.learn.runs import Run

__all__ = ["context", "stage"]  # a deploy target's module (targets.py)


def context(run: Run | None, board: Board, name: str, _test_window: np.ndarray | None) -> dict[str, Any]:
    return capture_context(run, board, name)


def stage(w: Writer, _run: Run | None, board: Board) -> list[Env]:
    ctx = w.context
    envs = capture_envs(board, ctx["driver"], ctx["baud"])
    for name in ("capture_format.h", "capture_format.c"):
        w.render(f"capture/{name}.j2", f"lib/capture/{name}")
    if not board.on_generic_platform:
        w.render("capture/main.cpp.j2", "src/main.cpp")
        w.render(f"sensors/{ctx['driver'].id}.h.j2", "src/sensor.h", window_frames=1, axes=ctx["axes"],
                 audio=ctx["mic"])
    w.render("capture/native_main.c.j2", "src/native/main.c")
    write_ini(w, envs, f"TinyML Studio data capture for {board.name}")
    w.render("capture/README.md.j2", "README.md", envs=envs)
    return envs
