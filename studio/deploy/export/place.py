"""Placing an export: the destination checked first, the staged result renamed into place, leftovers removed.

A folder holding ``MARKER`` is an earlier export and may be replaced; any other non-empty folder (or an
existing zip) only with ``overwrite``. The staging folder beside the destination is ``studio.fsutil``'s.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

from studio.deploy.export.errors import ExportError

MARKER = ".tinyml-studio-export.json"


def is_export(path: Path) -> bool:
    """Whether ``path`` is a folder written by an earlier export."""
    return (path / MARKER).is_file()


@dataclass(frozen=True)
class EarlierExport:
    """What the marker of an earlier export says: its target, board, environments and monitor baud."""

    target: str
    board: str
    envs: list[str]
    baud: int | None


def earlier_export(folder: Path) -> EarlierExport | None:
    """The marker of an earlier export in ``folder``; None when there is none or it cannot be read."""
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
        baud = data.get("baud")
        return EarlierExport(str(data["target"]), str(data["board"]), [str(e) for e in data.get("envs") or []],
                             baud if isinstance(baud, int) and not isinstance(baud, bool) else None)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def replaces(out: Path, library: bool) -> str | None:
    """What an export to ``out`` would replace, for asking first: ``"export"`` (a folder of an earlier export),
    ``"zip"`` (an existing file, for the library), ``"files"`` (a non-empty folder that holds no export); None when
    there is nothing to replace, or ``check_destination`` refuses ``out`` whatever the answer."""
    if library:
        return "zip" if out.is_file() else None
    if not out.is_dir() or not any(out.iterdir()):
        return None
    return "export" if is_export(out) else "files"


def check_destination(out: Path, library: bool, overwrite: bool) -> None:
    """Raises ``ExportError`` when ``out`` may not be replaced (see the module's docstring)."""
    if library:
        if out.is_dir():
            raise ExportError(f"{out}: is a folder; the library export writes a .zip file")
        if out.exists() and not overwrite:
            raise ExportError(f"{out}: already exists (export with overwrite to replace it)")
        return
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not is_export(out) and not overwrite:
        raise ExportError(f"{out}: folder is not empty and holds no earlier export (export with overwrite "
                          "to replace it)")


def install(staged: Path, out: Path) -> None:
    """Rename ``staged`` (inside its staging folder, see ``studio.fsutil.staging_folder``) to ``out``; an
    existing ``out`` is moved into that staging folder first, which goes away with it, killed or not."""
    old = None
    if out.exists():
        old = staged.parent / f"previous-{out.name}"
        os.replace(out, old)
    try:
        os.replace(staged, out)
    except OSError:
        if old is not None:
            os.replace(old, out)
        raise
    if old is not None:
        remove(old)


def remove(path: Path) -> None:
    """Remove a file or folder if it exists; errors are ignored (a leftover is harmless)."""
    with contextlib.suppress(OSError):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


def write_zip(folder: Path, files: list[str], dest: Path) -> None:
    """A zip of ``files`` (paths relative to ``folder``, kept as the entries' names)."""
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as z:
        for name in files:
            z.write(folder / name, name)
