"""Repair on open what an interrupted writer left, and never lose a sample doing it.

With the writer lock held (another writer at work means nothing is done):

- a temp file (``.tmp-<hex>-<name>``, the names :mod:`studio.project.writer` gives) whose row
  exists while its file does not is renamed into place: the commit happened, the rename did not
  (or a delete did not commit). Every other temp file is removed: it was never committed, or its
  deletion was. These are the only files recovery deletes.
- a row whose file is missing gets back a file with its uid found under another name (a relabel
  or move that did not commit); with none, the row is kept and reported (``check --repair`` drops it).
- a sample file with no row is indexed again from its contents (the index lost it: a commit
  lost with the power, an index restored from a backup, an index rebuilt after damage).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from studio.formats.errors import FormatError
from studio.fsutil import fsync_dir, is_temp_name
from studio.project import index
from studio.project.handle import ProjectHandle
from studio.project.reindex import row_from_file
from studio.project.sample import CATEGORIES, DATA_DIR
from studio.project.scan import Scan, scan_data
from studio.text import oneline

STALE_CACHE_TEMP_S = 3600.0  # a cache temp this old has no writer left (writes take milliseconds)
_LIST = 3  # files named in a one-line note


def _names(rels: list[str]) -> str:
    shown = ", ".join(rels[:_LIST])
    return shown + (f" and {len(rels) - _LIST} more" if len(rels) > _LIST else "")


def finish_temps(project: ProjectHandle, scan: Scan, rows: list[dict[str, Any]], notes: list[str]) -> None:
    by_file = {r["file"]: r for r in rows}
    removed = []
    for rel in scan.temps:
        folder, _, name = rel.rpartition("/")
        target = f"{folder}/{name[18:]}"
        row = by_file.get(target)
        if row is not None and not os.path.lexists(project.path / target):
            os.replace(project.path / rel, project.path / target)
            scan.samples.setdefault(row["uid"], []).append(target)
            notes.append(f"sample {row['id']}: finished an interrupted write of {target}")
        else:
            os.unlink(project.path / rel)
            removed.append(rel)
    if removed:
        notes.append(f"removed {len(removed)} unfinished temp file(s): {_names(removed)}")


def find_moved(project: ProjectHandle, scan: Scan, rows: list[dict[str, Any]], notes: list[str]) -> None:
    missing = []
    for r in rows:
        if os.path.lexists(project.path / r["file"]):
            continue
        elsewhere = [p for p in scan.samples.get(r["uid"], []) if p != r["file"]]
        if elsewhere:
            os.replace(project.path / elsewhere[0], project.path / r["file"])
            scan.samples[r["uid"]] = [r["file"]] + elsewhere[1:]
            notes.append(f"sample {r['id']}: interrupted rename undone ({elsewhere[0]})")
        else:
            missing.append(r)
    for r in missing[:_LIST]:
        notes.append(f"sample {r['id']}: file {r['file']} is missing (check --repair drops the row)")
    if len(missing) > _LIST:
        notes.append(f"{len(missing) - _LIST} more samples have missing files (check --repair drops their rows)")


def index_orphans(project: ProjectHandle, scan: Scan, rows: list[dict[str, Any]],
                  salvaged: dict[str, dict[str, Any]]) -> tuple[list[str], list[tuple[str, str]]]:
    """Index the sample files no row knows; returns (files indexed, (file, reason) not indexable)."""
    known = {r["uid"] for r in rows}
    used_ids = {r["id"] for r in rows}
    indexed, refused, new_rows = [], [], []
    for uid, rels in scan.samples.items():
        if uid in known:
            refused += [(rel, "a second file with the uid of an indexed sample") for rel in rels[1:]]
            continue
        try:
            row = row_from_file(project.path, rels[0], project.config.key_bytes, salvaged.get(uid))
        except (FormatError, OSError) as e:
            refused.append((rels[0], oneline(str(getattr(e, "strerror", None) or e))))
            continue
        if row["id"] in used_ids:
            row["id"] = None
        used_ids.add(row["id"])
        if row["file"] != rels[0]:
            if os.path.lexists(project.path / row["file"]):  # the name is taken: keep the file where it is
                row["file"], row["category"] = rels[0], rels[0].split("/")[1]
            else:
                os.replace(project.path / rels[0], project.path / row["file"])
        new_rows.append(row)
        indexed.append(row["file"])
        refused += [(rel, "a second file with the same uid") for rel in rels[1:]]
    if new_rows:
        new_rows.sort(key=lambda r: (r["id"] is None, r["id"] or 0, r["created"], r["file"]))
        with project.transaction() as db:
            db.executemany(index.INSERT, [tuple(r[c] for c in index.COLUMNS) for r in new_rows])
    return indexed, refused


def remove_stale_temps(root: Path, notes: list[str]) -> None:
    """Temp files of the project's own atomic writes outside ``data/``: the config's (written under
    the lock, so none is in progress) and old ones of the feature cache."""
    gone = []
    for entry in os.scandir(root):
        if entry.is_file(follow_symlinks=False) and is_temp_name(entry.name):
            os.unlink(entry.path)
            gone.append(entry.name)
    cache = root / "cache" / "features"
    if cache.is_dir() and not cache.is_symlink() and not (root / "cache").is_symlink():
        now = time.time()
        for sub in os.scandir(cache):
            if not sub.is_dir(follow_symlinks=False):
                continue
            for entry in os.scandir(sub.path):
                if entry.is_file(follow_symlinks=False) and is_temp_name(entry.name) and \
                        now - entry.stat(follow_symlinks=False).st_mtime > STALE_CACHE_TEMP_S:
                    os.unlink(entry.path)
                    gone.append(f"cache/features/{sub.name}/{entry.name}")
    if gone:
        notes.append(f"removed {len(gone)} leftover temp file(s): {_names(gone)}")


def recover(project: ProjectHandle, salvaged: dict[str, dict[str, Any]] | None = None, rebuilt: str = "") -> list[str]:
    """Repair crash leftovers (the caller holds the writer lock). ``rebuilt`` says why the index is new."""
    notes: list[str] = []
    scan = scan_data(project.path)
    rows = project.raw_rows()
    finish_temps(project, scan, rows, notes)
    find_moved(project, scan, rows, notes)
    indexed, refused = index_orphans(project, scan, rows, salvaged or {})
    if rebuilt:
        notes.insert(0, f"{index.INDEX_FILE} {rebuilt}: rebuilt it from {len(indexed)} sample file(s)"
                     + (f", {len(refused)} not readable (check lists them)" if refused else ""))
    elif indexed:
        notes.append(f"indexed {len(indexed)} sample file(s) that had no index row: {_names(indexed)}")
    for rel, reason in refused[:_LIST]:
        notes.append(f"{rel}: not indexed ({reason}); check --repair moves it to quarantine")
    if len(refused) > _LIST:
        notes.append(f"{len(refused) - _LIST} more files not indexed (tinyml-studio check lists them)")
    remove_stale_temps(project.path, notes)
    for cat in CATEGORIES:
        fsync_dir(project.path / DATA_DIR / cat)
    return notes
