"""The deploy targets, one registry entry each: what it is called, whether it needs a trained run, whether it
is one zip rather than a folder, the template context it renders with and how it stages its files.

Adding a target is one entry here plus its templates under ``project_templates/firmware/``; the CLI's
``--target`` choices and the Deploy page's list come from ``TARGETS``."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from studio.boards.registry import Board
from studio.compiler import CompileError, compile_model
from studio.cortexm.cores import get_core
from studio.cortexm.serial_board import uart_driver
from studio.deploy.export.context import (
    MODEL_PREFIX,
    Env,
    ExportError,
    capture_context,
    capture_envs,
    firmware_envs,
    impulse_context,
)
from studio.deploy.export.writer import Writer
from studio.errors import StudioError
from studio.impulse_c import ImpulseCError, render_for_run
from studio.learn.runs import Run
from studio.params import Entry

Context = Callable[[Run | None, Board, str, "np.ndarray | None"], dict[str, Any]]
Stage = Callable[[Writer, Run | None, Board], list[Env]]


@dataclass(frozen=True)
class DeployTarget(Entry):
    """``context(run, board, project name, test window)`` builds what the templates see; ``stage(writer, run,
    board)`` renders the files into the staging folder and returns the PlatformIO environments (none for an
    archive)."""

    needs_run: bool
    archive: bool  # one zip file (its name gets ``.zip``), not a PlatformIO project folder
    suffix: str  # of the default destination, after the board's id
    context: Context
    stage: Stage

    def default_name(self, board_id: str) -> str:
        """The export's default folder (or zip) name for ``board_id``."""
        return board_id + self.suffix


# --------------------------------------------------------------------------------------------- contexts


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


def _impulse_context(run: Run | None, board: Board, name: str, test_window: np.ndarray | None) -> dict[str, Any]:
    assert run is not None  # needs_run
    found = project_window(run) if test_window is None else (test_window, "")
    context = impulse_context(run, board, name, found[0] if found else None)
    context["test_window_comment"] = found[1] if found else "zeros: the project has no window"
    return context


def _capture_context(run: Run | None, board: Board, name: str, _window: np.ndarray | None) -> dict[str, Any]:
    return capture_context(run, board, name)


# --------------------------------------------------------------------------------------------- staging


def _impulse_library(w: Writer, run: Run, folder: str) -> None:
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


def _ini(w: Writer, envs: list[Env], description: str) -> None:
    w.render("platformio.ini.j2", "platformio.ini", envs=envs, description=description)


def _stage_firmware(w: Writer, run: Run | None, board: Board) -> list[Env]:
    assert run is not None  # needs_run
    ctx = w.context
    _impulse_library(w, run, "lib/impulse")
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
    _ini(w, envs, f"TinyML Studio impulse of {ctx['project_name']} for {board.name}")
    w.render("README.md.j2", "README.md", envs=envs)
    return envs


def _stage_capture(w: Writer, _run: Run | None, board: Board) -> list[Env]:
    ctx = w.context
    envs = capture_envs(board, ctx["driver"], ctx["baud"])
    for name in ("capture_format.h", "capture_format.c"):
        w.render(f"capture/{name}.j2", f"lib/capture/{name}")
    if not board.on_generic_platform:
        w.render("capture/main.cpp.j2", "src/main.cpp")
        w.render(f"sensors/{ctx['driver'].id}.h.j2", "src/sensor.h", window_frames=1, axes=ctx["axes"],
                 audio=ctx["mic"])
    w.render("capture/native_main.c.j2", "src/native/main.c")
    _ini(w, envs, f"TinyML Studio data capture for {board.name}")
    w.render("capture/README.md.j2", "README.md", envs=envs)
    return envs


def _stage_library(w: Writer, run: Run | None, _board: Board) -> list[Env]:
    assert run is not None  # needs_run
    top = w.context["slug"] + "-impulse"
    _impulse_library(w, run, f"{top}/impulse")
    w.render("src/native_main.c.j2", f"{top}/example/main.c")
    w.render("library/Makefile.j2", f"{top}/Makefile")
    w.render("library/README.md.j2", f"{top}/README.md")
    return []


TARGETS: dict[str, DeployTarget] = {t.name: t for t in (
    DeployTarget("firmware", "Firmware project", 1, (),
                 "a PlatformIO project: the board's sensor feeding the impulse, results on its serial port",
                 needs_run=True, archive=False, suffix="", context=_impulse_context, stage=_stage_firmware),
    DeployTarget("capture", "Data-capture firmware", 1, (),
                 "a PlatformIO project streaming the board's IMU or microphone to the app's capture",
                 needs_run=False, archive=False, suffix="-capture", context=_capture_context, stage=_stage_capture),
    DeployTarget("library", "C library (zip)", 1, (),
                 "the impulse as portable C (DSP, model, output lines) with a Makefile and an example",
                 needs_run=True, archive=True, suffix="-library.zip", context=_impulse_context, stage=_stage_library),
)}


def get_target(name: str) -> DeployTarget:
    try:
        return TARGETS[name]
    except KeyError:
        raise ExportError(f"unknown export target {name!r} (one of {', '.join(TARGETS)})") from None
