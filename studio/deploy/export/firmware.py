"""The firmware target: a PlatformIO project whose board reads its sensor into the impulse and prints result
lines, with a native build for the host and a generic Cortex-M build for QEMU beside it."""

from __future__ import annotations

from studio.boards.registry import Board
from studio.cortexm.cores import get_core
from studio.cortexm.serial_board import uart_driver
from studio.deploy.export.context import Env, firmware_envs
from studio.deploy.export.impulse_files import (
    context,
    impulse_library,
    trained,
    write_ini,
)
from studio.deploy.export.writer import Writer
from studio.learn.runs import Run

__all__ = ["context", "stage"]  # a deploy target's module (targets.py); the context is the impulse's


def stage(w: Writer, run: Run | None, board: Board) -> list[Env]:
    """``src/`` for the board, the native host and (for Cortex-M) the generic core; ``lib/impulse``."""
    run = trained(run)
    ctx = w.context
    impulse_library(w, run, "lib/impulse")
    envs = firmware_envs(board, ctx["driver"], ctx["baud"])
    generic = next((e.name for e in envs if e.name.endswith("-generic")), None)
    core = generic.removesuffix("-generic") if generic else None
    ctx.update(generic_env=generic, generic_core=core, qemu_machine=get_core(core).machine if core else None)
    names = {e.name for e in envs}
    if board.id in names and not board.on_generic_platform:
        w.render("src/main.cpp.j2", "src/main.cpp")
        w.render(f"sensors/{ctx['driver'].id}.h.j2", "src/sensor.h")
    if board.on_generic_platform:
        w.render("src/virtual_main.c.j2", "src/virtual/main.c")
        driver = uart_driver()
        w.copy(driver, "src/virtual/cmsdk_uart.c")
        w.copy(driver.with_suffix(".h"), "src/virtual/cmsdk_uart.h")
    w.render("src/native_main.c.j2", "src/native/main.c")
    if generic:
        w.render("src/generic_main.c.j2", "src/generic/main.c")
    write_ini(w, envs, f"TinyML Studio impulse of {ctx['project_name']} for {board.name}")
    w.render("README.md.j2", "README.md", envs=envs)
    return envs
