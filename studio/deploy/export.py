"""Exporting an impulse: a PlatformIO firmware project, a data-capture firmware, or a plain C library zip.

``export_project(run, board, out)`` renders ``project_templates/firmware/`` with Jinja2 into a temporary
folder beside ``out`` and renames it into place, so ``out`` is either the old folder or the whole new one.
A non-empty ``out`` that is not an earlier export is refused unless ``overwrite``; an earlier export (it
holds ``.tinyml-studio-export.json``) is replaced. Labels and names reach the generated files only through
``studio.c_literals`` (C), ``result_line.escape_text`` (printed lines), ``ini_text`` and ``md_text``.
docs/firmware-export.md describes the projects.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import numpy as np

from studio import __version__
from studio.boards.registry import Board, BoardError, get_board
from studio.code_templates import code_environment
from studio.cortexm.cores import get_core
from studio.cortexm.serial_board import uart_driver
from studio.deploy import export_targets as targets
from studio.deploy.export_place import MARKER, check_destination, install, write_zip
from studio.deploy.export_targets import ExportError
from studio.deploy.pio_kit import CORTEXM_PLATFORM
from studio.errors import StudioError
from studio.fsutil import clean_stale_staging, staging_folder
from studio.learn.runs import Run
from studio.paths import project_templates_dir

TARGETS = ("firmware", "capture", "library")

__all__ = ["MARKER", "TARGETS", "ExportError", "ExportResult", "export_project"]


@dataclass
class ExportResult:
    path: Path  # the project folder, or the zip of the library
    target: str
    board: str
    files: list[str] = field(default_factory=list)  # relative to ``path`` (entries of the zip)
    envs: list[str] = field(default_factory=list)  # PlatformIO environments, the default first
    notes: list[str] = field(default_factory=list)  # what the user should know (a serial fallback, ...)


# --------------------------------------------------------------------------------------------- rendering


def _environment() -> jinja2.Environment:
    env = code_environment("firmware", ExportError, ints_per_line=16)
    env.filters.update(ini=targets.ini_text, md=targets.md_text)
    return env


class _Writer:
    """Renders templates into the staging folder and keeps the list of written files."""

    def __init__(self, root: Path, context: dict[str, Any]) -> None:
        self.root, self.context, self.env, self.files = root, context, _environment(), []

    def render(self, template: str, dest: str, **extra: Any) -> None:
        text = self.env.get_template(template).render({**self.context, **extra})
        self.text(dest, text)

    def text(self, dest: str, text: str) -> None:
        path = self.root / dest
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.files.append(dest)

    def copy(self, source: Path, dest: str) -> None:
        (self.root / dest).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, self.root / dest)
        self.files.append(dest)

    def generated(self, folder: str, before: set[Path]) -> None:
        self.files += sorted(p.relative_to(self.root).as_posix() for p in (self.root / folder).iterdir()
                             if p not in before)


def _impulse_library(w: _Writer, run: Run, folder: str) -> None:
    """The compiled model, the DSP in C and the firmware's output and stream code, in ``folder``."""
    from studio.compiler import CompileError, compile_model
    from studio.impulse_c import ImpulseCError, render_for_run

    out = w.root / folder
    out.mkdir(parents=True, exist_ok=True)
    before = set(out.iterdir())
    try:
        compile_model(run.model_bytes("int8"), out, prefix=targets.MODEL_PREFIX, source=f"run {run.number}")
        render_for_run(run, out, model_prefix=targets.MODEL_PREFIX)
    except CompileError as e:
        raise ExportError(f"{run.path}: the int8 model cannot be compiled ({'; '.join(e.problems)[:300]})") from None
    except ImpulseCError as e:
        raise ExportError(f"{run.path}: {e}") from None
    w.generated(folder, before)
    for name in ("impulse_output.h", "impulse_output.c", "impulse_stream.h", "impulse_stream.c"):
        w.render(f"lib/{name}.j2", f"{folder}/{name}")


def _ini(w: _Writer, envs: list[targets.Env], description: str) -> None:
    w.render("platformio.ini.j2", "platformio.ini", envs=envs, description=description)


def _firmware(w: _Writer, run: Run, board: Board) -> list[targets.Env]:
    ctx = w.context
    _impulse_library(w, run, "lib/impulse")
    envs = targets.firmware_envs(board, ctx["driver"], ctx["baud"])
    generic = next((e.name for e in envs if e.name.endswith("-generic")), None)
    core = generic.removesuffix("-generic") if generic else None
    ctx.update(generic_env=generic, generic_core=core, qemu_machine=get_core(core).machine if core else None)
    names = {e.name for e in envs}
    if board.id in names and board.platformio.get("platform") != CORTEXM_PLATFORM:
        w.render("src/main.cpp.j2", "src/main.cpp")
        w.render(f"sensors/{ctx['driver'].id}.h.j2", "src/sensor.h")
    if board.platformio.get("platform") == CORTEXM_PLATFORM:
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


def _capture(w: _Writer, board: Board) -> list[targets.Env]:
    ctx = w.context
    envs = targets.capture_envs(board, ctx["driver"], ctx["baud"])
    for name in ("capture_format.h", "capture_format.c"):
        w.render(f"capture/{name}.j2", f"lib/capture/{name}")
    if board.platformio.get("platform") != CORTEXM_PLATFORM:
        w.render("capture/main.cpp.j2", "src/main.cpp")
        w.render(f"sensors/{ctx['driver'].id}.h.j2", "src/sensor.h", window_frames=1, axes=ctx["axes"],
                 audio=ctx["mic"])
    w.render("capture/native_main.c.j2", "src/native/main.c")
    _ini(w, envs, f"TinyML Studio data capture for {board.name}")
    w.render("capture/README.md.j2", "README.md", envs=envs)
    return envs


def _library(w: _Writer, run: Run, top: str) -> None:
    _impulse_library(w, run, f"{top}/impulse")
    w.render("src/native_main.c.j2", f"{top}/example/main.c")
    w.render("library/Makefile.j2", f"{top}/Makefile")
    w.render("library/README.md.j2", f"{top}/README.md")


# --------------------------------------------------------------------------------------------- entry point


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


def _board(board: Board | str) -> Board:
    if isinstance(board, Board):
        return board
    try:
        return get_board(str(board))
    except BoardError as e:
        raise ExportError(str(e)) from None


def destination(out_dir: str | Path, target: str) -> Path:
    """Where ``export_project`` writes: ``out_dir`` resolved, ``.zip`` added for the library when missing."""
    out = Path(out_dir).expanduser().resolve()
    return out.with_name(out.name + ".zip") if target == "library" and out.suffix.lower() != ".zip" else out


def export_project(run: Run, board: Board | str, out_dir: str | Path, target: str = "firmware", *,
                   project_name: str | None = None, overwrite: bool = False,
                   test_window: np.ndarray | None = None) -> ExportResult:
    """Export ``run`` (a ``studio.learn.runs.Run``; may be None for ``capture``) for ``board``.

    ``out_dir`` is the project folder (``firmware``, ``capture``) or the zip file (``library``, ``.zip`` added
    when missing). ``test_window`` is the raw window the generic Cortex-M firmware classifies (IMPULSE_RAW_COUNT
    values); by default the first window of the project's testing data, else zeros. Raises ``ExportError``
    with one line naming the path and the reason."""
    if target not in TARGETS:
        raise ExportError(f"unknown export target {target!r} (one of {', '.join(TARGETS)})")
    if run is None and target != "capture":
        raise ExportError(f"the {target} export needs a trained run")
    board = _board(board)
    name = project_name if project_name is not None else run.project_name if run is not None else "capture"
    out = destination(out_dir, target)
    check_destination(out, target == "library", overwrite)
    library = target == "library"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        clean_stale_staging(out.parent)  # what a killed export left
        with staging_folder(out) as staged:
            staged.mkdir()
            result = _stage(run, board, staged, target, name, test_window)
            if library:
                zipped = staged.with_name(f"{out.stem}.zip.part")
                write_zip(staged, result.files, zipped)
            install(zipped if library else staged, out)
    except OSError as e:
        raise ExportError(f"{e.filename or out}: {e.strerror or e}") from None
    result.path = out
    return result


def _stage(run: Run, board: Board, root: Path, target: str, name: str,
           test_window: np.ndarray | None) -> ExportResult:
    if target == "capture":
        context = targets.capture_context(run, board, name)
    else:
        found = project_window(run) if test_window is None else (test_window, "")
        context = targets.impulse_context(run, board, name, found[0] if found else None)
        context["test_window_comment"] = found[1] if found else "zeros: the project has no window"
    context.update(project_name=name, target=target, studio_version=__version__, slug=targets.slug(name))
    w = _Writer(root, context)
    result = ExportResult(root, target, board.id)
    try:
        if target == "library":
            top = targets.slug(name) + "-impulse"
            _library(w, run, top)
        else:
            envs = _firmware(w, run, board) if target == "firmware" else _capture(w, board)
            result.envs = [e.name for e in envs]
            result.notes += context.get("notes", [])
            if board.id in result.envs and board.platformio.get("platform") not in targets.OFFLINE_PLATFORMS:
                result.notes.append(f"[env:{board.id}] needs the {board.platformio['platform']} platform from the "
                                    "PlatformIO registry (it cannot be built offline)")
            marker = {"target": target, "board": board.id, "run": getattr(run, "number", None),
                      "studio": __version__, "envs": result.envs, "baud": context.get("baud")}
            w.text(MARKER, json.dumps(marker, indent=2) + "\n")
    except jinja2.TemplateError as e:
        raise ExportError(f"{project_templates_dir() / 'firmware'}: template error: {e}") from None
    except StudioError as e:
        if isinstance(e, ExportError):
            raise
        where = str(getattr(run, "path", board.id))
        raise ExportError(str(e) if where in str(e) else f"{where}: {e}") from None
    result.files = sorted(w.files)
    return result
