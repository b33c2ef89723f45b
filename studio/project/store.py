"""The project: a folder with ``project.json``, ``index.sqlite`` and ``data/<category>/``.

Sample files are named ``<label-slug>.<uid>.<ext>`` inside ``data/training`` or
``data/testing``, so the data folder can be handed to Edge Impulse's uploader as it is (it
reads the label from the name before the first dot). The index is the truth; names follow it.

Opening checks before it touches anything: the config's fields, the folders, the index (an
unreadable one is set aside in ``quarantine/`` and rebuilt from the sample files) and every row
(no path may leave the project). Damage that needs a decision raises :class:`NeedsRepair`,
which names the file and asks for ``tinyml-studio check --repair``. Then, with the writer
lock, :mod:`studio.project.recovery` finishes what an interrupted writer left.

Writers hold an exclusive ``flock`` on ``.lock`` from the first file to the commit; see
:mod:`studio.project.writer` for the order of files and rows that makes a crash harmless.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from studio.fsutil import fsync_dir
from studio.project import index, recovery
from studio.project.config import CONFIG_FILE, ProjectConfig, load_config, save_config
from studio.project.editing import Editing
from studio.project.errors import NeedsRepair, ProjectError
from studio.project.quarantine import Quarantine
from studio.project.safepath import ensure_folder, inside, own_folder
from studio.project.sample import CATEGORIES, DATA_DIR, Sample, row_problem
from studio.project.writer import TEST_SHARE, SampleWriter, split_category

LOCK_FILE = ".lock"
__all__ = ["CATEGORIES", "DATA_DIR", "TEST_SHARE", "Project", "Sample", "split_category"]


def check_layout(path: Path) -> None:
    """The folders and files the project keeps are what they should be (NeedsRepair if not)."""
    lock = path / LOCK_FILE
    if os.path.lexists(lock) and (lock.is_symlink() or not lock.is_file()):
        raise NeedsRepair(f"{lock}: is not a plain file (the project's lock)", path)
    idx = path / index.INDEX_FILE
    if os.path.lexists(idx) and (idx.is_symlink() or not idx.is_file()):
        raise NeedsRepair(f"{idx}: is not a plain file (the sample index)", path)
    own_folder(path, DATA_DIR)
    for cat in CATEGORIES:
        own_folder(path, f"{DATA_DIR}/{cat}")


class Project(Editing):
    """An open project. Thread-safe; one SQLite connection guarded by a lock."""

    def __init__(self, path: Path, config: ProjectConfig) -> None:
        self.path = path
        self.config = config
        self._db: sqlite3.Connection | None = None
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
            index.connect(path / index.INDEX_FILE).close()
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
        check_layout(path)
        project = cls(path, config)
        try:
            project._open_index()
            if migrated:
                project.save_config()
        except BaseException:
            project.close()
            raise
        return project

    def _open_index(self) -> None:
        idx = self.path / index.INDEX_FILE
        if idx.exists() and not os.access(idx, os.R_OK | os.W_OK):
            raise ProjectError(f"{idx}: permission denied (the index must be readable and writable by you)")
        fresh = "was missing" if not idx.exists() else "was empty" if idx.stat().st_size == 0 else ""
        try:
            for cat in CATEGORIES:
                ensure_folder(self.path, f"{DATA_DIR}/{cat}")
            with self._exclusive(blocking=False) as got:
                salvaged: dict[str, dict[str, Any]] = {}
                try:
                    self._db = index.open_index(idx)
                except index.Unreadable as e:
                    if not got:
                        raise ProjectError(f"{idx}: {e}, and another process is using the project; "
                                           "close it and open the project again") from None
                    salvaged, fresh = self._set_aside_index(str(e))
                    self._db = index.open_index(idx)
                except index.NewerIndex as e:
                    raise ProjectError(f"{idx}: {e}") from None
                self._check_rows(idx)
                if got:
                    self.recovery_notes = recovery.recover(self, salvaged, fresh)
        except sqlite3.Error as e:
            raise ProjectError(f"{idx}: {e}") from None
        except OSError as e:
            raise ProjectError(f"{e.filename or self.path}: {e.strerror or e}") from None

    def _set_aside_index(self, reason: str) -> tuple[dict[str, dict[str, Any]], str]:
        """Move an unreadable index (and its side files) to quarantine; salvage what rows it still gives."""
        q = Quarantine(self.path)
        moved = ""
        for suffix in ("", *index.SIDE_FILES):
            side = self.path / (index.INDEX_FILE + suffix)
            if os.path.lexists(side):
                where = q.move(side, f"unreadable index ({reason})")
                moved = moved or where
        salvaged = index.salvage(self.path / moved) if moved else {}
        return salvaged, f"was unreadable ({reason}; it is now {moved})"

    def _check_rows(self, idx: Path) -> None:
        problem = index.schema_problem(self._db)
        if problem:
            raise NeedsRepair(f"{idx}: {problem}", self.path)
        bad = []
        for row in self.raw_rows():
            why = row_problem(row)
            if why is None and (self.path / row["file"]).is_symlink():
                why = f"names {row['file']}, which is a symbolic link"
            if why is not None:
                bad.append(f"sample {row['id']} {why}")
        if bad:
            more = f" (and {len(bad) - 1} more rows)" if len(bad) > 1 else ""
            raise NeedsRepair(f"{idx}: {bad[0]}{more}", self.path)

    def close(self) -> None:
        with self._mutex:
            if self._db is not None:
                self._db.close()
                self._db = None

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ config

    def save_config(self) -> None:
        """Write the whole in-memory config (tests and migrations); prefer :meth:`update_config`."""
        with self._exclusive():
            save_config(self.path / CONFIG_FILE, self.config)

    def update_config(self, change: Callable[[ProjectConfig], None]) -> None:
        """Read-modify-write under the project lock: ``change`` edits only the keys it owns, on the
        config as it is on disk now, so another process's change to other keys is kept."""
        with self._exclusive():
            fresh, _ = load_config(self.path / CONFIG_FILE)
            change(fresh)
            save_config(self.path / CONFIG_FILE, fresh)
            self.config = fresh

    def set_setting(self, key: str, value: Any) -> None:
        def change(cfg: ProjectConfig) -> None:
            cfg.settings[key] = value

        self.update_config(change)

    # ------------------------------------------------------------------ locking and the index

    @contextlib.contextmanager
    def _exclusive(self, blocking: bool = True) -> Iterator[bool]:
        """The cross-process writer lock (flock), re-entrant within this object."""
        with self._mutex:
            if self._lock_depth == 0:
                lock = self.path / LOCK_FILE
                try:
                    fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
                except OSError as e:
                    raise NeedsRepair(f"{lock}: cannot be used as the project's lock ({e.strerror})",
                                      self.path) from None
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
    def repairing(self, set_aside: Callable[[], dict[str, dict[str, Any]]]) -> Iterator[dict[str, dict[str, Any]]]:
        """For ``check --repair``: the writer lock held, ``set_aside()`` run under it (it moves a damaged index
        away and returns the rows it salvaged), then the index opened without the row checks of an ordinary
        open (the repair mends what they would refuse). Yields the salvaged rows."""
        with self._exclusive():
            salvaged = set_aside()
            self._db = index.open_index(self.path / index.INDEX_FILE)
            yield salvaged

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction on the index (BEGIN IMMEDIATE ... COMMIT, rolled back on failure)."""
        with self._mutex:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def query(self, sql: str, args: tuple | list = ()) -> list[sqlite3.Row]:
        with self._mutex:
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.DatabaseError as e:
                raise ProjectError(f"{self.path / index.INDEX_FILE}: {e}") from None

    def raw_rows(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.query("SELECT * FROM samples ORDER BY id")]

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

    def sample_path(self, sample: Sample) -> Path:
        """The sample's file, checked to stay inside the project (rows are checked on open too)."""
        path = inside(self.path, sample.file, "sample file")
        if path.is_symlink():
            raise NeedsRepair(f"{path}: is a symbolic link, not a sample file", self.path)
        return path

    def recover(self) -> list[str]:
        """Repair what an interrupted writer left; a no-op when another process is writing."""
        with self._exclusive(blocking=False) as got:
            if got:
                self.recovery_notes = recovery.recover(self)
        return self.recovery_notes

    def fsync_data(self) -> None:
        for cat in CATEGORIES:
            fsync_dir(self.path / DATA_DIR / cat)
