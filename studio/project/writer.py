"""Adding and removing sample files as one unit, so that a crash at any moment loses nothing.

New files are written under a temp name (``.tmp-<hex>-<name>``) and fsynced; files to delete are
first renamed to a temp name. Then the rows change in one transaction. Only after the commit
are new files renamed to their names and deleted files unlinked. So every file that a crash can
leave behind under its real name is indexed, and the only files recovery ever removes carry the
temp names this module gives (see :mod:`studio.project.recovery`).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from studio.formats.sample import SampleHeader
from studio.fsutil import staged_writer, temp_path_for
from studio.project import index
from studio.project.errors import ProjectError
from studio.project.handle import ProjectHandle
from studio.project.sample import CATEGORIES, Sample, sample_file
from studio.project.samplefiles import write_sample
from studio.text import oneline

TEST_SHARE = 0.2


def split_category(digest: str, test_share: float = TEST_SHARE) -> str:
    """Per-sample deterministic 80/20 assignment from the content hash (used at import)."""
    return "testing" if int(digest[:8], 16) / 2**32 < test_share else "training"


def stage_removal(paths: list[Path]) -> list[tuple[Path, Path]]:
    """Rename files to temp names before the rows that index them are deleted; undone on failure."""
    moved: list[tuple[Path, Path]] = []
    try:
        # not fsynced: whichever of this rename and the row's deletion survives a power cut, the
        # next open either removes the temp (row gone) or puts the file back (row kept)
        for path in paths:
            tmp = temp_path_for(path)
            os.replace(path, tmp)
            moved.append((path, tmp))
    except BaseException:
        undo_removal(moved)
        raise
    return moved


def undo_removal(moved: list[tuple[Path, Path]]) -> None:
    for path, tmp in reversed(moved):
        with contextlib.suppress(FileNotFoundError):
            os.replace(tmp, path)


def finish_removal(moved: list[tuple[Path, Path]]) -> None:
    for _, tmp in moved:
        tmp.unlink(missing_ok=True)


class SampleWriter:
    """Collects new samples (and samples to replace) of one :meth:`Project.writing` block."""

    def __init__(self, project: ProjectHandle) -> None:
        self.project = project
        self._rows: list[tuple] = []
        self._staged: list[tuple[Path, Path]] = []  # (temp file, final path)
        self._delete: list[Sample] = []
        self.ids: list[int] = []

    def add(
        self,
        label: str,
        category: str | None,
        header: SampleHeader,
        chunks: Iterable[np.ndarray],
        digest: str,
        name: str = "",
        wide: bool = True,
        enabled: bool = True,
        device: str | None = None,
        restore: Sample | None = None,
    ) -> None:
        """Write the file now (under a temp name); its row is inserted at commit (ids then in :attr:`ids`).

        ``restore`` brings a deleted sample back with its id, uid, name, time and crop."""
        p = self.project
        label = p.checked_label(label)
        category = category or split_category(digest)
        if category not in CATEGORIES:
            raise ProjectError(f"unknown category {oneline(category)!r} (training or testing)")
        uid = restore.uid if restore else secrets.token_hex(6)
        rel = sample_file(label, uid, header.kind, category)
        final = p.path / rel
        with staged_writer(final) as f:
            write_sample(f, header, chunks, p.config.key_bytes, wide)
        self._staged.append((Path(f.name), final))
        sensors = json.dumps([s.as_dict() for s in header.sensors], ensure_ascii=False)
        self._rows.append((
            restore.id if restore else None, uid, name or uid, label, category, rel, header.kind, sensors,
            header.interval_ms, header.frames, restore.created if restore else time.time(),
            header.device_name if device is None else device, digest, int(enabled),
            restore.crop_start if restore else None, restore.crop_end if restore else None,
        ))

    def delete_on_commit(self, sample: Sample) -> None:
        self._delete.append(sample)

    @property
    def pending(self) -> int:
        return len(self._rows)

    def commit(self) -> None:
        """Insert the rows written so far in one transaction (may be called more than once)."""
        p = self.project
        if not self._rows and not self._delete:
            return
        removed = stage_removal([p.sample_path(s) for s in self._delete])
        new_ids = []
        try:
            with p.transaction() as db:
                for row in self._rows:
                    new_ids.append(db.execute(index.INSERT, row).lastrowid)
                db.executemany("DELETE FROM samples WHERE id=?", [(s.id,) for s in self._delete])
        except BaseException:
            undo_removal(removed)
            raise
        # no fsync after the renames: if one is lost with the power, the temp file and its row are
        # still there, and recovery finishes the rename on the next open
        for tmp, final in self._staged:
            os.replace(tmp, final)
        finish_removal(removed)
        self.ids.extend(new_ids)
        self._rows.clear()
        self._staged.clear()
        self._delete.clear()

    def discard(self) -> None:
        for tmp, _ in self._staged:
            tmp.unlink(missing_ok=True)
        self._rows.clear()
        self._staged.clear()
        self._delete.clear()
