"""Exporting an impulse: a PlatformIO firmware project, a data-capture firmware, or a plain C library zip.

``export_project(run, board, out)`` renders ``project_templates/firmware/`` with Jinja2 into a temporary
folder beside ``out`` and renames it into place, so ``out`` is either the old folder or the whole new one.
A non-empty ``out`` that is not an earlier export is refused unless ``overwrite``; an earlier export (it
holds ``.tinyml-studio-export.json``) is replaced. Labels and names reach the generated files only through
``studio.c_literals`` (C), ``result_line.escape_text`` (printed lines), ``ini_text`` and ``md_text``.
docs/firmware-export.md describes the projects.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import numpy as np

from studio import __version__
from studio.boards.registry import Board, BoardError, get_board
from studio.deploy.export.context import slug
from studio.deploy.export.errors import ExportError
from studio.deploy.export.place import MARKER, check_destination, install, write_zip
from studio.deploy.export.targets import TARGETS, DeployTarget, get_target
from studio.deploy.export.writer import Writer
from studio.errors import StudioError
from studio.fsutil import clean_stale_staging, staging_folder
from studio.jobs import ProgressLike
from studio.learn.runs import Run
from studio.paths import project_templates_dir

__all__ = ["MARKER", "TARGETS", "ExportError", "ExportParams", "ExportResult", "export_project", "run"]


@dataclass
class ExportResult:
    path: Path  # the project folder, or the zip of the library
    target: str
    board: str
    files: list[str] = field(default_factory=list)  # relative to ``path`` (entries of the zip)
    envs: list[str] = field(default_factory=list)  # PlatformIO environments, the default first
    notes: list[str] = field(default_factory=list)  # what the user should know (a serial fallback, ...)


# --------------------------------------------------------------------------------------------- entry point


def _board(board: Board | str) -> Board:
    if isinstance(board, Board):
        return board
    try:
        return get_board(str(board))
    except BoardError as e:
        raise ExportError(str(e)) from None


def destination(out_dir: str | Path, target: str) -> Path:
    """Where ``export_project`` writes: ``out_dir`` resolved, ``.zip`` added for an archive (the library)."""
    out = Path(out_dir).expanduser().resolve()
    archive = get_target(target).archive
    return out.with_name(out.name + ".zip") if archive and out.suffix.lower() != ".zip" else out


def export_project(run: Run, board: Board | str, out_dir: str | Path, target: str = "firmware", *,
                   project_name: str | None = None, overwrite: bool = False,
                   test_window: np.ndarray | None = None) -> ExportResult:
    """Export ``run`` (a ``studio.learn.runs.Run``; may be None for ``capture``) for ``board``.

    ``out_dir`` is the project folder (``firmware``, ``capture``) or the zip file (``library``, ``.zip`` added
    when missing). ``test_window`` is the raw window the generic Cortex-M firmware classifies (IMPULSE_RAW_COUNT
    values); by default the first window of the project's testing data, else zeros. Raises ``ExportError``
    with one line naming the path and the reason."""
    entry = get_target(target)
    if run is None and entry.needs_run:
        raise ExportError(f"the {target} export needs a trained run")
    board = _board(board)
    name = project_name if project_name is not None else run.project_name if run is not None else "capture"
    out = destination(out_dir, target)
    check_destination(out, entry.archive, overwrite)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        clean_stale_staging(out.parent)  # what a killed export left
        with staging_folder(out) as staged:
            staged.mkdir()
            result = _stage(run, board, staged, entry, name, test_window)
            if entry.archive:
                zipped = staged.with_name(f"{out.stem}.zip.part")
                write_zip(staged, result.files, zipped)
            install(zipped if entry.archive else staged, out)
    except OSError as e:
        raise ExportError(f"{e.filename or out}: {e.strerror or e}") from None
    result.path = out
    return result


def _stage(run: Run | None, board: Board, root: Path, entry: DeployTarget, name: str,
           test_window: np.ndarray | None) -> ExportResult:
    context = entry.context(run, board, name, test_window)
    context.update(project_name=name, target=entry.name, studio_version=__version__, slug=slug(name))
    w = Writer(root, context)
    result = ExportResult(root, entry.name, board.id)
    try:
        envs = entry.stage(w, run, board)
        if not entry.archive:
            result.envs = [e.name for e in envs]
            result.notes += context.get("notes", [])
            if board.id in result.envs and board.kind == "real":
                result.notes.append(f"[env:{board.id}] needs the {board.platformio['platform']} platform from the "
                                    "PlatformIO registry (it cannot be built offline)")
            marker = {"target": entry.name, "board": board.id, "run": run.number if run is not None else None,
                      "studio": __version__, "envs": result.envs, "baud": context.get("baud")}
            w.text(MARKER, json.dumps(marker, indent=2) + "\n")
    except jinja2.TemplateError as e:
        raise ExportError(f"{project_templates_dir() / 'firmware'}: template error: {e}") from None
    except StudioError as e:
        if isinstance(e, ExportError):
            raise
        where = str(run.path) if run is not None else board.id
        raise ExportError(str(e) if where in str(e) else f"{where}: {e}") from None
    result.files = sorted(w.files)
    return result


# --------------------------------------------------------------------------------------------- the job


@dataclass
class ExportParams:
    run: Run | None
    board: str
    out: Path
    target: str
    overwrite: bool = False  # the user agreed to replace what is there


def run(p: ExportParams, progress: ProgressLike) -> ExportResult:
    """The export as a job (the Deploy page runs it off the GUI thread)."""
    progress.update(0.0, f"exporting for {p.board}")
    result = export_project(p.run, p.board, p.out, p.target, overwrite=p.overwrite)
    progress.update(1.0, f"exported to {result.path}")
    return result
