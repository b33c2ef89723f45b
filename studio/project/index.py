"""The SQLite index of samples (WAL mode). Rows are written after their files are durable.

:func:`open_index` tells a usable index from a damaged one. An index that SQLite cannot read at
all (random bytes, a malformed image) is :class:`Unreadable`; the store then rebuilds it from the
sample files. One that reads but lacks its table or columns is reported with what is missing,
so that ``check --repair`` can rebuild it while keeping what the remaining columns hold.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

INDEX_FILE = "index.sqlite"
INDEX_VERSION = 1
SIDE_FILES = ("-wal", "-shm", "-journal")
BUSY_TIMEOUT_S = 30.0  # how long a connection waits for another process's write to end

SCHEMA = """
CREATE TABLE IF NOT EXISTS samples (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    uid         TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    label       TEXT NOT NULL,
    category    TEXT NOT NULL CHECK (category IN ('training', 'testing')),
    file        TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL CHECK (kind IN ('sensor', 'audio')),
    sensors     TEXT NOT NULL,
    interval_ms REAL NOT NULL CHECK (interval_ms > 0),
    frames      INTEGER NOT NULL CHECK (frames > 0),
    created     REAL NOT NULL,
    device      TEXT NOT NULL DEFAULT '',
    hash        TEXT NOT NULL,
    enabled     INTEGER NOT NULL DEFAULT 1,
    crop_start  INTEGER,
    crop_end    INTEGER,
    CHECK ((crop_start IS NULL) = (crop_end IS NULL))
);
CREATE INDEX IF NOT EXISTS samples_hash ON samples (hash);
CREATE INDEX IF NOT EXISTS samples_label ON samples (label, category);
"""

COLUMNS = (
    "id", "uid", "name", "label", "category", "file", "kind", "sensors", "interval_ms", "frames",
    "created", "device", "hash", "enabled", "crop_start", "crop_end",
)
INSERT = f"INSERT INTO samples ({', '.join(COLUMNS)}) VALUES ({','.join('?' * len(COLUMNS))})"


class Unreadable(Exception):
    """SQLite cannot use the file as a database; ``str()`` is SQLite's reason."""


class NewerIndex(Exception):
    """Written by a newer app: never rebuilt over."""


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating when absent or empty) an index with its schema; raises sqlite3 errors as they come."""
    db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
    try:
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version == 0:
            db.executescript(SCHEMA)
            db.execute(f"PRAGMA user_version={INDEX_VERSION}")
        elif version > INDEX_VERSION:
            raise NewerIndex(f"index version {version} is newer than this app reads ({INDEX_VERSION})")
    except BaseException:
        db.close()
        raise
    return db


def open_index(path: Path) -> sqlite3.Connection:
    """:func:`connect`, plus SQLite's quick check; :class:`Unreadable` when the file is not a sound
    database. A database that is only busy or locked raises sqlite3's OperationalError instead."""
    try:
        db = connect(path)
    except sqlite3.OperationalError:
        raise  # locked, busy, cannot be opened: the file may be sound, so it is never set aside
    except sqlite3.DatabaseError as e:  # "file is not a database", "database disk image is malformed"
        raise Unreadable(str(e)) from None
    try:
        bad = [r[0] for r in db.execute("PRAGMA quick_check") if r[0] != "ok"]
    except sqlite3.OperationalError:
        db.close()
        raise
    except sqlite3.DatabaseError as e:
        bad = [str(e)]
    if bad:
        db.close()
        raise Unreadable(f"damaged database ({bad[0]})")
    return db


def schema_problem(db: sqlite3.Connection) -> str | None:
    """What is missing from the samples table, or None."""
    have = {r[1] for r in db.execute("PRAGMA table_info(samples)")}
    if not have:
        return "has no samples table"
    missing = [c for c in COLUMNS if c not in have]
    if missing:
        return f"lacks the column(s) {', '.join(missing)} of the samples table"
    return None


def salvage(path: Path) -> dict[str, dict[str, Any]]:
    """Whatever rows a damaged index still gives, keyed by uid, with the columns it still has.

    Read-only and best effort: an unreadable file gives nothing."""
    if not path.is_file():
        return {}
    try:
        db = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    except sqlite3.Error:
        return {}
    out: dict[str, dict[str, Any]] = {}
    try:
        db.row_factory = sqlite3.Row
        cols = [r[1] for r in db.execute("PRAGMA table_info(samples)") if r[1] in COLUMNS]
        if "uid" in cols:
            for row in db.execute(f"SELECT {', '.join(cols)} FROM samples"):
                if isinstance(row["uid"], str):
                    out[row["uid"]] = {c: row[c] for c in cols}
    except sqlite3.Error:
        pass
    finally:
        db.close()
    return out
