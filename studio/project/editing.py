"""Changing a project's samples. Every edit reads the rows it changes under the writer lock, so
that what it reports is what it did, even when another process changed the project meanwhile."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import numpy as np

from studio.formats.edge_impulse import fits_float32
from studio.formats.sample import AUDIO, SampleHeader, content_hash
from studio.project.errors import NeedsRepair, ProjectError
from studio.project.reading import Reading
from studio.project.safepath import inside
from studio.project.sample import CATEGORIES, Sample, sample_file
from studio.project.writer import TEST_SHARE, finish_removal, stage_removal, undo_removal
from studio.text import normalize_label, oneline

if TYPE_CHECKING:
    from studio.project.config import ProjectConfig


class Editing(Reading):
    """The write side of :class:`studio.project.store.Project`."""

    config: ProjectConfig  # the store gives _exclusive, transaction, writing, update_config, fsync_data

    # ------------------------------------------------------------------ adding

    def add_sample(self, label: str, header: SampleHeader, values: np.ndarray, category: str | None = "training",
                   name: str = "") -> Sample:
        """Add in-memory data (capture, tests). ``category=None`` splits by content hash."""
        values = np.asarray(values)
        header.frames = int(values.shape[0])
        with self.writing() as w:
            w.add(label, category, header, [values], content_hash(header, values), name=name,
                  wide=header.kind != AUDIO and not fits_float32(values.astype(np.float64)))
        return self.get(w.ids[0])

    def restore(self, sample: Sample, values: np.ndarray) -> Sample:
        """Put a deleted sample back exactly as it was (same id and uid): undo of a delete."""
        header = SampleHeader(sample.kind, sample.sensors, sample.interval_ms, len(values), device_name=sample.device)
        with self.writing() as w:
            w.add(sample.label, sample.category, header, [values], content_hash(header, values), name=sample.name,
                  wide=sample.kind != AUDIO and not fits_float32(np.asarray(values, np.float64)),
                  enabled=sample.enabled, device=sample.device, restore=sample)
        return self.get(sample.id)

    # ------------------------------------------------------------------ changing

    @contextlib.contextmanager
    def _locked(self, ids: Iterable[int]) -> Iterator[list[Sample]]:
        """The samples ``ids`` as they are now, with the writer lock held; all must exist."""
        ids = list(dict.fromkeys(int(i) for i in ids))
        with self._exclusive():
            found = {s.id: s for s in self.samples(ids=ids)}
            missing = [i for i in ids if i not in found]
            if missing:
                raise ProjectError(f"{self.path}: no sample with id {', '.join(map(str, missing))}; nothing changed")
            yield [found[i] for i in ids]

    def _rename_files(self, changes: list[tuple[Sample, str, str]]) -> None:
        """Give samples a new label and/or category: rename each file, then update the rows.

        An interruption between the renames and the commit is repaired on the next open."""
        moves, renamed = [], []
        try:
            for s, label, cat in changes:
                new_rel = sample_file(label, s.uid, s.kind, cat)
                if new_rel != s.file:
                    src, dst = self.sample_path(s), inside(self.path, new_rel, "sample file")
                    if not os.path.lexists(src):
                        raise NeedsRepair(f"{src}: the file of sample {s.id} is missing", self.path)
                    os.replace(src, dst)
                    renamed.append((src, dst))
                moves.append((label, cat, new_rel, s.id))
            self.fsync_data()
            with self.transaction() as db:
                db.executemany("UPDATE samples SET label=?, category=?, file=? WHERE id=?", moves)
        except BaseException:
            for src, dst in reversed(renamed):
                os.replace(dst, src)
            raise

    def relabel(self, ids: Iterable[int], label: str) -> int:
        label = self.checked_label(label)
        with self._locked(ids) as samples:
            self._rename_files([(s, label, s.category) for s in samples])
        return len(samples)

    def rename_label(self, old: str, new: str) -> int:
        new = self.checked_label(new)
        with self._exclusive():
            samples = self.samples(label=old)
            if not samples:
                raise ProjectError(f"{self.path}: no samples labelled {oneline(old)!r}")
            self._rename_files([(s, new, s.category) for s in samples])
        return len(samples)

    def move(self, ids: Iterable[int], category: str) -> int:
        if category not in CATEGORIES:
            raise ProjectError(f"unknown category {oneline(category)!r} (training or testing)")
        with self._locked(ids) as samples:
            self._rename_files([(s, s.label, category) for s in samples])
        return len(samples)

    def set_enabled(self, ids: Iterable[int], enabled: bool) -> int:
        with self._locked(ids) as samples, self.transaction() as db:
            db.executemany("UPDATE samples SET enabled=? WHERE id=?", [(int(enabled), s.id) for s in samples])
        return len(samples)

    def delete(self, ids: Iterable[int]) -> int:
        """Files renamed to temp names first, rows deleted, then the temps removed: an interruption
        before the commit leaves the sample whole, one after it leaves only temps recovery removes."""
        with self._locked(ids) as samples:
            paths = [p for p in (self.sample_path(s) for s in samples) if os.path.lexists(p)]
            moved = stage_removal(paths)
            try:
                with self.transaction() as db:
                    db.executemany("DELETE FROM samples WHERE id=?", [(s.id,) for s in samples])
            except BaseException:
                undo_removal(moved)
                raise
            finish_removal(moved)
        return len(samples)

    def crop(self, sample_id: int, start_frame: int | None, end_frame: int | None) -> Sample:
        """Set (or with ``None, None`` clear) the crop range [start, end) in frames."""
        if (start_frame is None) != (end_frame is None):
            raise ProjectError("give both crop start and end, or neither")
        with self._locked([sample_id]) as (s,):
            if start_frame is not None and not (0 <= start_frame < end_frame <= s.frames):
                raise ProjectError(
                    f"sample {s.id}: crop {start_frame}..{end_frame} is outside 0..{s.frames} frames or empty"
                )
            with self.transaction() as db:
                db.execute("UPDATE samples SET crop_start=?, crop_end=? WHERE id=?", (start_frame, end_frame, s.id))
        return self.get(s.id)

    def split_sample(self, sample_id: int, window_ms: float) -> list[Sample]:
        """Cut a long sample (its crop range, if set) into whole windows of ``window_ms``;
        the windows replace the original. A remainder shorter than a window is dropped."""
        with self._locked([sample_id]) as (s,):
            if not window_ms > 0:
                raise ProjectError(f"window of {window_ms} ms: give a positive length")
            per = int(round(window_ms / s.interval_ms))
            if per < 1:
                raise ProjectError(f"window of {window_ms} ms is shorter than one frame ({s.interval_ms:g} ms)")
            values = self.read(s)
            count = len(values) // per
            if count < 2:
                raise ProjectError(f"sample {s.id}: {len(values)} frames make fewer than two windows of {per} frames")
            with self.writing() as w:
                for i in range(count):
                    part = values[i * per : (i + 1) * per]
                    header = SampleHeader(s.kind, s.sensors, s.interval_ms, per, device_name=s.device)
                    w.add(
                        s.label, s.category, header, [part], content_hash(header, part), name=f"{s.name}.s{i + 1}",
                        wide=s.kind != AUDIO and not fits_float32(part), enabled=s.enabled, device=s.device,
                    )
                w.delete_on_commit(s)
        return self.samples(ids=w.ids)

    def rebalance(self, test_share: float = TEST_SHARE) -> int:
        """Deterministic split by content hash: within each label, the samples with the lowest
        hashes make up ``test_share`` of it (rounded) and go to testing. Returns files moved."""
        if not 0.0 <= test_share <= 1.0:
            raise ProjectError("test share must be between 0 and 1")
        with self._exclusive():
            changes = []
            for label in self.labels():
                group = sorted(self.samples(label=label), key=lambda x: (x.hash, x.id))
                n_test = int(round(len(group) * test_share))
                for i, s in enumerate(group):
                    cat = "testing" if i < n_test else "training"
                    if cat != s.category:
                        changes.append((s, s.label, cat))
            if changes:
                self._rename_files(changes)
        return len(changes)

    def remember_sensors(self, header: SampleHeader) -> None:
        """The first sensor sample sets the project's axes and frequency."""
        if header.kind == AUDIO or self.config.sensors:
            return

        def change(cfg: ProjectConfig) -> None:
            if not cfg.sensors:
                cfg.sensors = [s.as_dict() for s in header.sensors]
                cfg.frequency_hz = round(header.frequency_hz, 6)

        self.update_config(change)

    def checked_label(self, label: str) -> str:
        try:
            return normalize_label(label)
        except ValueError as e:
            raise ProjectError(f"bad label {oneline(label)!r}: {e}") from None
