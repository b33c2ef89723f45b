"""Paths that come from a project's own files are checked before use.

A project folder may come from someone else (a zip, a cloud folder, a shared drive). Its index and
config name files; a hostile or damaged one could name ``../victim.txt``, ``/tmp/x`` or a
symbolic link that leaves the folder. Every such path goes through :func:`inside` first: it must
be relative, have no ``..`` part, and its real location (links followed) must stay in the project.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from studio.project.errors import NeedsRepair
from studio.text import oneline


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def stays_inside(root: Path, path: Path) -> bool:
    """True when ``path``'s real location (every link followed) is ``root`` or below it."""
    real_root = _real(root)
    real = _real(path)
    return real == real_root or real_root in real.parents


def relative_problem(rel: str) -> str | None:
    """Why ``rel`` (as written in a project file) is not a plain relative path, or None."""
    if not isinstance(rel, str) or not rel:
        return "is empty"
    if "\x00" in rel or "\\" in rel:
        return "holds a NUL or backslash"
    pure = PurePosixPath(rel)
    if pure.is_absolute() or rel.startswith("~"):
        return "is absolute"
    if any(part in ("..", ".") for part in rel.split("/")) or "" in rel.split("/"):
        return "climbs out of its folder ('..', '.' or an empty part)"
    return None


def inside(root: Path, rel: str, what: str = "path") -> Path:
    """``root / rel`` once ``rel`` is known to stay inside ``root``; else NeedsRepair naming it."""
    problem = relative_problem(rel)
    if problem is None:
        path = root / rel
        if stays_inside(root, path):
            return path
        problem = f"leads outside the project (to {_real(path)})"
    raise NeedsRepair(f"{root}: {what} {oneline(rel)!r} {problem}", root)


def own_folder(root: Path, rel: str) -> Path:
    """A folder of the project (``data``, ``runs``, ``cache``...): a real folder inside it, or absent.

    A file in its place, or a link leading out of the project, is refused: writing there would
    put the project's data somewhere the user did not choose."""
    path = inside(root, rel, "folder")
    if os.path.lexists(path) and not path.is_dir():
        raise NeedsRepair(f"{path}: is a file where the project keeps a folder", root)
    return path


def ensure_folder(root: Path, rel: str) -> Path:
    """:func:`own_folder`, created when absent."""
    path = own_folder(root, rel)
    path.mkdir(parents=True, exist_ok=True)
    return path
