"""Index rows rebuilt from sample files, for files that have lost theirs.

A sample file carries its data, sensors, interval, device and (for sensor data) the project's
signature; its folder gives the category and its name the label (as a file-name slug) and uid.
What only the index knew (the exact label, crop, enabled flag, name, id and time) comes from the
rows of the old index where they can still be read (``salvaged``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from studio.formats.errors import FormatError
from studio.formats.sample import content_hash
from studio.project.sample import CATEGORIES, parse_name, row_problem, sample_file
from studio.project.samplefiles import read_sample_file
from studio.text import file_slug, normalize_label

# what an old row may give a rebuilt one, once it is valid on its own
_KEPT = ("id", "name", "label", "category", "created", "device", "enabled", "crop_start", "crop_end")


def _good(field: str, value: Any, frames: int) -> bool:
    if field == "label":
        try:
            return isinstance(value, str) and normalize_label(value) == value
        except ValueError:
            return False
    if field == "category":
        return value in CATEGORIES
    if field in ("name", "device"):
        return isinstance(value, str)
    if field == "enabled":
        return value in (0, 1)
    if field == "id":
        return isinstance(value, int) and not isinstance(value, bool) and value > 0
    if field == "created":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= frames)


def row_from_file(root: Path, rel: str, key: bytes, salvaged: dict[str, Any] | None = None) -> dict[str, Any]:
    """A sound row for the sample file ``root / rel`` (FormatError or OSError when it does not read)."""
    folder, _, name = rel.rpartition("/")
    parsed = parse_name(name)
    if parsed is None:
        raise FormatError("not a sample file name (<label>.<uid>.cbor or .wav)")
    slug, uid, kind = parsed
    path = root / rel
    header, values = read_sample_file(path, kind, key)
    row: dict[str, Any] = {
        "id": None, "uid": uid, "name": name.rsplit(".", 1)[0], "label": slug, "category": folder.rpartition("/")[2],
        "file": rel, "kind": kind, "sensors": json.dumps([s.as_dict() for s in header.sensors], ensure_ascii=False),
        "interval_ms": header.interval_ms, "frames": header.frames, "created": os.stat(path).st_mtime,
        "device": header.device_name, "hash": content_hash(header, values), "enabled": 1,
        "crop_start": None, "crop_end": None,
    }
    old = salvaged or {}
    for f in _KEPT:
        if f in old and _good(f, old[f], header.frames):
            row[f] = old[f]
    if (row["crop_start"] is None) != (row["crop_end"] is None) or (
            row["crop_start"] is not None and row["crop_start"] >= row["crop_end"]):
        row["crop_start"] = row["crop_end"] = None
    if file_slug(row["label"]) != slug or row["category"] != rel.split("/")[1]:
        row["file"] = sample_file(row["label"], uid, kind, row["category"])  # the caller moves the file
    if (problem := row_problem({**row, "id": row["id"] or 1})) is not None:
        raise FormatError(f"cannot be indexed: the rebuilt row {problem}")
    return row
