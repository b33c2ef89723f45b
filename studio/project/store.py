"""The project: a folder with ``project.json``, ``index.sqlite`` and ``data/<category>/``.

Sample files are named ``<label-slug>.<uid>.<ext>`` inside ``data/training`` or
``data/testing``, so the data folder can be handed to Edge Impulse's uploader as it is (it
reads the label from the name before the first dot). The index is the truth; names follow it.

Crash safety: files are written to a temp name, fsynced and renamed; the index row comes
last. Writers hold an exclusive ``flock`` on ``.lock`` from the first file to the commit. On
open, with that lock, leftovers are repaired: temp files and files no row knows are removed
(an interrupted import or delete), a file renamed by a relabel or move that did not commit is
renamed back (found by its uid), a row whose file is gone is dropped and reported.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from studio.formats.edge_impulse import fits_float32
from studio.formats.errors import FormatError
from studio.formats.sample import AUDIO, SampleHeader, Sensor, Timed, content_hash
from studio.fsutil import TMP_PREFIX, fsync_dir
from studio.project import index
from studio.project.config import CONFIG_FILE, ProjectConfig, load_config, save_config
from studio.project.errors import ProjectError
from studio.project.samplefiles import EXTENSIONS, read_sample_file, write_sample_file
from studio.text import file_slug, normalize_label, oneline

CATEGORIES = ("training", "testing")
DATA_DIR = "data"
LOCK_FILE = ".lock"
TEST_SHARE = 0.2


@dataclass(frozen=True)
class Sample(Timed):
    id: int
    uid: str
    name: str
    label: str
    category: str
    file: str
    kind: str
    sensors: list[Sensor]
    interval_ms: float
    frames: int
    created: float
    device: str
    hash: str
    enabled: bool
    crop_start: int | None
    crop_end: int | None

    def as_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in index.COLUMNS}
        d["sensors"] = [s.as_dict() for s in self.sensors]
        d["frequency_hz"] = self.frequency_hz
        return d

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Sample:
        sensors = [Sensor(s["name"], s["units"]) for s in json.loads(row["sensors"])]
        return cls(**{**{k: row[k] for k in index.COLUMNS}, "sensors": sensors, "enabled": bool(row["enabled"])})


def split_category(digest: str, test_share: float = TEST_SHARE) -> str:
    """Per-sample deterministic 80/20 assignment from the content hash (used at import)."""
    return "testing" if int(digest[:8], 16) / 2**32 < test_share else "training"


def _uid_of(file_name: str) -> str | None:
    parts = file_name.split(".")
    return parts[-2] if len(parts) >= 3 else None


class Project:
    """An open project. Thread-safe; one SQLite connection guarded by a lock."""

    def __init__(self, path: Path, config: ProjectConfig, db: sqlite3.Connection) -> None:
        self.path = path
        self.config = config
        self._db = db
        self._mutex = threading.RLock()
        self._lock_depth = 0
        self._lock_fd: int | None = None
        self.recovery_notes: list[str] = []

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def create(cls, path: Path | str, name: str | None = None) -> Project:
        path = Path(path).resolve()
        if (path / CONFIG_FILE).exists():
            raise ProjectError(f"{path}: a project already exists here")
        if path.exists() and not path.is_dir():
            raise ProjectError(f"{path}: exists and is not a folder")
        if path.exists() and any(path.iterdir()):
            raise ProjectError(f"{path}: folder is not empty")
        try:
            for cat in CATEGORIES:
                (path / DATA_DIR / cat).mkdir(parents=True, exist_ok=True)
            db = index.connect(path / index.INDEX_FILE)
            db.close()
            save_config(path / CONFIG_FILE, ProjectConfig(name=(name or path.name).strip() or "project"))
        except OSError as e:
            raise ProjectError(f"{path}: cannot create project ({e.strerror or e})") from None
        return cls.open(path)

    @classmethod
    def open(cls, path: Path | str) -> Project:
        path = Path(path).resolve()
        if not path.is_dir():
            raise ProjectError(f"{path}: no such project folder")
        config, migrated = load_config(path / CONFIG_FILE)
        try:
            db = index.connect(path / index.INDEX_FILE)
        except sqlite3.DatabaseError as e:
            raise ProjectError(f"{path / index.INDEX_FILE}: {e}") from None
        project = cls(path, config, db)
        for cat in CATEGORIES:
            (path / DATA_DIR / cat).mkdir(parents=True, exist_ok=True)
        if migrated:
            save_config(path / CONFIG_FILE, config)
        project.recover()
        return project

    def close(self) -> None:
        with self._mutex:
            self._db.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def save_config(self) -> None:
        save_config(self.path / CONFIG_FILE, self.config)

    # ------------------------------------------------------------------ locking

    @contextlib.contextmanager
    def _exclusive(self, blocking: bool = True) -> Iterator[bool]:
        """The cross-process writer lock (flock), re-entrant within this object."""
        with self._mutex:
            if self._lock_depth == 0:
                fd = os.open(self.path / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
                except BlockingIOError:
                    os.close(fd)
                    yield False
                    return
                self._lock_fd = fd
            self._lock_depth += 1
            try:
                yield True
            finally:
                self._lock_depth -= 1
                if self._lock_depth == 0 and self._lock_fd is not None:
                    fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
                    os.close(self._lock_fd)
                    self._lock_fd = None

    @contextlib.contextmanager
    def writing(self) -> Iterator[SampleWriter]:
        """Add samples as one unit: files first, rows in one transaction at the end.

        If anything fails, the rows are rolled back and the files written so far removed.
        """
        with self._exclusive():
            writer = SampleWriter(self)
            try:
                yield writer
                writer.commit()
            except BaseException:
                writer.discard()
                raise

    # ------------------------------------------------------------------ recovery

    def recover(self) -> list[str]:
        """Repair what an interrupted writer left; a no-op when another process is writing."""
        notes: list[str] = []
        with self._exclusive(blocking=False) as got:
            if not got:
                return notes
            on_disk: dict[str, str] = {}
            for cat in CATEGORIES:
                folder = self.path / DATA_DIR / cat
                for entry in os.scandir(folder):
                    rel = f"{DATA_DIR}/{cat}/{entry.name}"
                    if entry.name.startswith(TMP_PREFIX):
                        os.unlink(entry.path)
                        notes.append(f"removed unfinished file {rel}")
                    elif entry.is_file() and (uid := _uid_of(entry.name)) is not None:
                        on_disk[uid] = rel
            rows = self._db.execute("SELECT id, uid, file FROM samples").fetchall()
            known = set()
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for r in rows:
                    known.add(r["uid"])
                    if (self.path / r["file"]).is_file():
                        continue
                    if r["uid"] in on_disk:
                        # a relabel or move died between its renames and its commit: undo the rename
                        os.replace(self.path / on_disk[r["uid"]], self.path / r["file"])
                        notes.append(f"sample {r['id']}: interrupted rename undone ({on_disk[r['uid']]})")
                    else:
                        self._db.execute("DELETE FROM samples WHERE id=?", (r["id"],))
                        notes.append(f"sample {r['id']}: file {r['file']} is missing; removed from the index")
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            for uid, rel in on_disk.items():
                if uid not in known:
                    (self.path / rel).unlink(missing_ok=True)
                    notes.append(f"removed unindexed file {rel}")
            for cat in CATEGORIES:
                fsync_dir(self.path / DATA_DIR / cat)
        self.recovery_notes = notes
        return notes

    # ------------------------------------------------------------------ adding

    def add_sample(
        self,
        label: str,
        header: SampleHeader,
        values: np.ndarray,
        category: str | None = "training",
        name: str = "",
    ) -> Sample:
        """Add in-memory data (capture, tests). ``category=None`` splits by content hash."""
        values = np.asarray(values)
        header.frames = int(values.shape[0])
        with self.writing() as w:
            w.add(
                label, category, header, [values], content_hash(header, values), name=name,
                wide=header.kind != AUDIO and not fits_float32(values.astype(np.float64)),
            )
        return self.get(w.ids[0])

    def restore(self, sample: Sample, values: np.ndarray) -> Sample:
        """Put a deleted sample back exactly as it was (same id and uid): undo of a delete."""
        header = SampleHeader(sample.kind, sample.sensors, sample.interval_ms, len(values), device_name=sample.device)
        with self.writing() as w:
            w.add(sample.label, sample.category, header, [values], content_hash(header, values), name=sample.name,
                  wide=sample.kind != AUDIO and not fits_float32(np.asarray(values, np.float64)),
                  enabled=sample.enabled, device=sample.device, restore=sample)
        return self.get(sample.id)

    # ------------------------------------------------------------------ reading

    def get(self, sample_id: int) -> Sample:
        with self._mutex:
            row = self._db.execute("SELECT * FROM samples WHERE id=?", (sample_id,)).fetchone()
        if row is None:
            raise ProjectError(f"{self.path}: no sample with id {sample_id}")
        return Sample.from_row(row)

    def samples(
        self,
        label: str | None = None,
        category: str | None = None,
        enabled: bool | None = None,
        kind: str | None = None,
        ids: Iterable[int] | None = None,
    ) -> list[Sample]:
        where, args = [], []
        for col, val in (("label", label), ("category", category), ("kind", kind)):
            if val is not None:
                where.append(f"{col}=?")
                args.append(val)
        if enabled is not None:
            where.append("enabled=?")
            args.append(int(enabled))
        if ids is not None:
            ids = [int(i) for i in ids]
            where.append(f"id IN ({','.join('?' * len(ids))})")
            args.extend(ids)
        sql = "SELECT * FROM samples" + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY id"
        with self._mutex:
            return [Sample.from_row(r) for r in self._db.execute(sql, args)]

    def read(self, sample: Sample, cropped: bool = True) -> np.ndarray:
        """The sample's values: float64 (frames, axes) for sensors, int16 (frames, ch) for audio."""
        path = self.path / sample.file
        try:
            _, values = read_sample_file(path, sample.kind)
        except (OSError, FormatError) as e:
            raise ProjectError(f"{path}: cannot read sample ({e})") from None
        if cropped and sample.crop_start is not None:
            values = values[sample.crop_start : sample.crop_end]
        return values

    def labels(self) -> list[str]:
        with self._mutex:
            return [r[0] for r in self._db.execute("SELECT DISTINCT label FROM samples ORDER BY label")]

    def stats(self) -> dict[str, Any]:
        """Counts and durations per label and category (enabled samples), plus totals."""
        sql = (
            "SELECT label, category, COUNT(*) AS n, SUM(frames * interval_ms) AS ms, "
            "SUM(enabled) AS en FROM samples GROUP BY label, category ORDER BY label, category"
        )
        per_label: dict[str, dict[str, Any]] = {}
        totals = {c: {"samples": 0, "duration_ms": 0.0} for c in CATEGORIES}
        disabled = 0
        with self._mutex:
            rows = self._db.execute(sql).fetchall()
        for r in rows:
            entry = per_label.setdefault(r["label"], {c: {"samples": 0, "duration_ms": 0.0} for c in CATEGORIES})
            entry[r["category"]] = {"samples": r["n"], "duration_ms": r["ms"]}
            totals[r["category"]]["samples"] += r["n"]
            totals[r["category"]]["duration_ms"] += r["ms"]
            disabled += r["n"] - r["en"]
        return {"labels": per_label, "categories": totals, "disabled": disabled,
                "samples": sum(t["samples"] for t in totals.values())}

    def duplicates(self) -> list[list[int]]:
        """Groups of sample ids whose content is identical."""
        sql = "SELECT GROUP_CONCAT(id) FROM samples GROUP BY hash HAVING COUNT(*) > 1 ORDER BY MIN(id)"
        with self._mutex:
            return [sorted(int(i) for i in r[0].split(",")) for r in self._db.execute(sql)]

    def find_by_hash(self, digest: str) -> list[int]:
        with self._mutex:
            return [r[0] for r in self._db.execute("SELECT id FROM samples WHERE hash=?", (digest,))]

    # ------------------------------------------------------------------ changing

    def _existing(self, ids: Iterable[int]) -> list[Sample]:
        ids = list(dict.fromkeys(int(i) for i in ids))
        found = {s.id: s for s in self.samples(ids=ids)}
        missing = [i for i in ids if i not in found]
        if missing:
            raise ProjectError(f"{self.path}: no sample with id {', '.join(map(str, missing))}")
        return [found[i] for i in ids]

    def _rename_files(self, changes: list[tuple[Sample, str, str]]) -> None:
        """Give samples a new label and/or category: rename each file, then update the rows.

        An interruption between the renames and the commit is repaired by :meth:`recover`."""
        with self._exclusive():
            moves, renamed = [], []
            try:
                for s, label, cat in changes:
                    new_rel = f"{DATA_DIR}/{cat}/{file_slug(label)}.{s.uid}.{EXTENSIONS[s.kind]}"
                    if new_rel != s.file:
                        os.replace(self.path / s.file, self.path / new_rel)
                        renamed.append((s.file, new_rel))
                    moves.append((label, cat, new_rel, s.id))
                for cat in CATEGORIES:
                    fsync_dir(self.path / DATA_DIR / cat)
                self._transaction("UPDATE samples SET label=?, category=?, file=? WHERE id=?", moves)
            except Exception:
                for old_rel, new_rel in reversed(renamed):
                    os.replace(self.path / new_rel, self.path / old_rel)
                raise

    def _transaction(self, sql: str, rows: list[tuple]) -> None:
        with self._mutex:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(sql, rows)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def relabel(self, ids: Iterable[int], label: str) -> int:
        label = self._checked_label(label)
        samples = self._existing(ids)
        self._rename_files([(s, label, s.category) for s in samples])
        return len(samples)

    def rename_label(self, old: str, new: str) -> int:
        new = self._checked_label(new)
        samples = self.samples(label=old)
        if not samples:
            raise ProjectError(f"{self.path}: no samples labelled {oneline(old)!r}")
        self._rename_files([(s, new, s.category) for s in samples])
        return len(samples)

    def move(self, ids: Iterable[int], category: str) -> int:
        if category not in CATEGORIES:
            raise ProjectError(f"unknown category {oneline(category)!r} (training or testing)")
        samples = self._existing(ids)
        self._rename_files([(s, s.label, category) for s in samples])
        return len(samples)

    def set_enabled(self, ids: Iterable[int], enabled: bool) -> int:
        samples = self._existing(ids)
        with self._exclusive():
            self._transaction("UPDATE samples SET enabled=? WHERE id=?", [(int(enabled), s.id) for s in samples])
        return len(samples)

    def delete(self, ids: Iterable[int]) -> int:
        """Row first, then file: an interruption leaves an unindexed file that recovery removes."""
        samples = self._existing(ids)
        with self._exclusive():
            self._transaction("DELETE FROM samples WHERE id=?", [(s.id,) for s in samples])
            for s in samples:
                (self.path / s.file).unlink(missing_ok=True)
        return len(samples)

    def crop(self, sample_id: int, start_frame: int | None, end_frame: int | None) -> Sample:
        """Set (or with ``None, None`` clear) the crop range [start, end) in frames."""
        s = self._existing([sample_id])[0]
        if (start_frame is None) != (end_frame is None):
            raise ProjectError("give both crop start and end, or neither")
        if start_frame is not None and not (0 <= start_frame < end_frame <= s.frames):
            raise ProjectError(
                f"sample {s.id}: crop {start_frame}..{end_frame} is outside 0..{s.frames} frames or empty"
            )
        with self._exclusive():
            self._transaction("UPDATE samples SET crop_start=?, crop_end=? WHERE id=?",
                              [(start_frame, end_frame, s.id)])
        return self.get(s.id)

    def split_sample(self, sample_id: int, window_ms: float) -> list[Sample]:
        """Cut a long sample (its crop range, if set) into whole windows of ``window_ms``;
        the windows replace the original. A remainder shorter than a window is dropped."""
        s = self._existing([sample_id])[0]
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
        self.config.sensors = [s.as_dict() for s in header.sensors]
        self.config.frequency_hz = round(header.frequency_hz, 6)
        self.save_config()

    def _checked_label(self, label: str) -> str:
        try:
            return normalize_label(label)
        except ValueError as e:
            raise ProjectError(f"bad label {oneline(label)!r}: {e}") from None

    def integrity_problems(self) -> list[str]:
        """SQLite's own check plus: every row's file exists. Empty when healthy."""
        with self._mutex:
            problems = [r[0] for r in self._db.execute("PRAGMA integrity_check") if r[0] != "ok"]
            rows = self._db.execute("SELECT id, file FROM samples").fetchall()
        problems += [f"sample {r['id']}: missing {r['file']}" for r in rows if not (self.path / r["file"]).is_file()]
        return problems


class SampleWriter:
    """Collects new samples of one :meth:`Project.writing` block."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._rows: list[tuple] = []
        self._files: list[Path] = []
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
        """Write the file now; its row is inserted at commit (ids then in :attr:`ids`).

        ``restore`` brings a deleted sample back with its id, uid, name, time and crop."""
        p = self.project
        label = p._checked_label(label)
        category = category or split_category(digest)
        if category not in CATEGORIES:
            raise ProjectError(f"unknown category {oneline(category)!r} (training or testing)")
        uid = restore.uid if restore else secrets.token_hex(6)
        rel = f"{DATA_DIR}/{category}/{file_slug(label)}.{uid}.{EXTENSIONS[header.kind]}"
        path = p.path / rel
        self._files.append(path)
        write_sample_file(path, header, chunks, p.config.key_bytes, wide)
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
        new_ids = []
        with p._mutex:
            p._db.execute("BEGIN IMMEDIATE")
            try:
                for row in self._rows:
                    cur = p._db.execute(
                        "INSERT INTO samples (id, uid, name, label, category, file, kind, sensors, interval_ms, "
                        "frames, created, device, hash, enabled, crop_start, crop_end) "
                        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        row,
                    )
                    new_ids.append(cur.lastrowid)
                p._db.executemany("DELETE FROM samples WHERE id=?", [(s.id,) for s in self._delete])
                p._db.execute("COMMIT")
            except BaseException:
                p._db.execute("ROLLBACK")
                raise
        self.ids.extend(new_ids)
        for s in self._delete:
            (p.path / s.file).unlink(missing_ok=True)
        self._rows.clear()
        self._files.clear()
        self._delete.clear()

    def discard(self) -> None:
        for f in self._files:
            f.unlink(missing_ok=True)
        self._rows.clear()
        self._files.clear()
        self._delete.clear()
