"""The SQLite index of samples (WAL mode). Rows are written last, after their files are durable."""

from __future__ import annotations

import sqlite3
from pathlib import Path

INDEX_FILE = "index.sqlite"
INDEX_VERSION = 1

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


def connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version == 0:
        db.executescript(SCHEMA)
        db.execute(f"PRAGMA user_version={INDEX_VERSION}")
    elif version > INDEX_VERSION:
        db.close()
        raise sqlite3.DatabaseError(f"index version {version} is newer than this app reads ({INDEX_VERSION})")
    return db
