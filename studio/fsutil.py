"""Crash-safe file writing: write a temp file beside the target, fsync, rename, fsync the folder.

A reader (or a process restarted after SIGKILL) sees either the old file or the whole new one,
never a half-written one. Temp files carry the ``TMP_PREFIX`` so that leftovers can be found.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

TMP_PREFIX = ".tmp-"


def fsync_dir(path: Path) -> None:
    """Make a rename or a new file in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_path_for(target: Path) -> Path:
    return target.with_name(f"{TMP_PREFIX}{secrets.token_hex(6)}-{target.name}")


def is_temp_name(name: str) -> bool:
    """A name :func:`temp_path_for` gives: ``.tmp-<12 hex>-<target name>``."""
    return len(name) > 19 and name.startswith(TMP_PREFIX) and name[17] == "-" and \
        all(c in "0123456789abcdef" for c in name[5:17])


def temp_target_name(name: str) -> str:
    """The target name a temp name stands for (see :func:`is_temp_name`)."""
    return name[18:]


@contextlib.contextmanager
def staged_writer(target: Path) -> Iterator[BinaryIO]:
    """Write a durable temp file for ``target`` and leave it there: the caller renames it
    (``f.name`` is its path) once the change it belongs to is committed. On any exception
    the temp file is removed."""
    tmp = temp_path_for(Path(target))
    f = open(tmp, "xb")  # noqa: SIM115 - closed below on every path
    try:
        yield f
        f.flush()
        os.fsync(f.fileno())
        f.close()
        fsync_dir(tmp.parent)
    except BaseException:
        f.close()
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


@contextlib.contextmanager
def atomic_writer(target: Path) -> Iterator[BinaryIO]:
    """Open a temp file for writing; on success it replaces ``target`` atomically.

    On any exception the temp file is removed and ``target`` is untouched.
    """
    target = Path(target)
    with staged_writer(target) as f:
        yield f
    try:
        os.replace(f.name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f.name)
        raise
    fsync_dir(target.parent)


def atomic_write_bytes(target: Path, data: bytes) -> None:
    with atomic_writer(target) as f:
        f.write(data)


def atomic_write_text(target: Path, text: str) -> None:
    atomic_write_bytes(target, text.encode("utf-8"))


STAGING_MARK = ".tinyml-studio-staging"


@contextlib.contextmanager
def staging_folder(target: Path) -> Iterator[Path]:
    """A place beside ``target`` to build it in: yields ``.tmp-<hex>-<name>/<name>`` (not yet made) for
    the caller to fill and rename onto ``target``; the temp folder is removed when the block ends.

    The temp folder holds a marker file, locked while in use, which proves the folder is ours:
    :func:`clean_stale_staging` removes folders whose marker nobody holds (a killed run's), and only those."""
    import fcntl
    import shutil

    folder = target.with_name(f"{TMP_PREFIX}{secrets.token_hex(6)}-{target.name}")
    folder.mkdir()
    fd = os.open(folder / STAGING_MARK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield folder / target.name
    finally:
        os.close(fd)
        shutil.rmtree(folder, ignore_errors=True)


def clean_stale_staging(parent: Path) -> list[Path]:
    """Remove staging folders in ``parent`` left by a run that was killed; returns them."""
    import fcntl
    import shutil

    removed = []
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return removed
    for entry in entries:
        if not (entry.name.startswith(TMP_PREFIX) and entry.is_dir(follow_symlinks=False)):
            continue
        mark = Path(entry.path) / STAGING_MARK
        try:
            fd = os.open(mark, os.O_RDWR | os.O_NOFOLLOW)
        except OSError:
            continue  # not ours (no marker): left alone
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # in use by a running export
        finally:
            os.close(fd)
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(Path(entry.path))
    return removed
