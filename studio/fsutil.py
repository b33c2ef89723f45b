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


@contextlib.contextmanager
def atomic_writer(target: Path) -> Iterator[BinaryIO]:
    """Open a temp file for writing; on success it replaces ``target`` atomically.

    On any exception the temp file is removed and ``target`` is untouched.
    """
    target = Path(target)
    tmp = temp_path_for(target)
    f = open(tmp, "xb")  # noqa: SIM115 - closed below on every path
    try:
        yield f
        f.flush()
        os.fsync(f.fileno())
        f.close()
        os.replace(tmp, target)
        fsync_dir(target.parent)
    except BaseException:
        f.close()
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def atomic_write_bytes(target: Path, data: bytes) -> None:
    with atomic_writer(target) as f:
        f.write(data)


def atomic_write_text(target: Path, text: str) -> None:
    atomic_write_bytes(target, text.encode("utf-8"))
