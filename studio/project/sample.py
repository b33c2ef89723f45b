"""A sample as the index holds it, the file names samples get, and the check of an index row.

Every row is checked before the project is used (:func:`row_problem`): a row written by a damaged
or hostile index must not name a file outside ``data/<category>/`` nor carry values the rest of
the app would trip over.
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
from dataclasses import dataclass
from typing import Any

from studio.formats.sample import AUDIO, SENSOR, Sensor, Timed
from studio.project import index
from studio.text import file_slug, normalize_label

CATEGORIES = ("training", "testing")
DATA_DIR = "data"
EXTENSIONS = {SENSOR: "cbor", AUDIO: "wav"}
KIND_OF_EXTENSION = {ext: kind for kind, ext in EXTENSIONS.items()}
UID = re.compile(r"[0-9a-f]{12}")
_SAMPLE_NAME = re.compile(r"(?P<slug>[^./\\\x00][^/\\\x00]*?)\.(?P<uid>[0-9a-f]{12})\.(?P<ext>cbor|wav)")
_HASH = re.compile(r"[0-9a-f]{64}")


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
    def from_row(cls, row: sqlite3.Row | dict[str, Any]) -> Sample:
        """A row that passed :func:`row_problem`."""
        sensors = [Sensor(s["name"], s["units"]) for s in json.loads(row["sensors"])]
        return cls(**{**{k: row[k] for k in index.COLUMNS}, "sensors": sensors, "enabled": bool(row["enabled"])})


def sample_file(label: str, uid: str, kind: str, category: str) -> str:
    """The project-relative file of a sample: ``data/<category>/<label-slug>.<uid>.<ext>``."""
    return f"{DATA_DIR}/{category}/{file_slug(label)}.{uid}.{EXTENSIONS[kind]}"


def parse_name(name: str) -> tuple[str, str, str] | None:
    """``(slug, uid, kind)`` of a sample file name, or None for any other name."""
    m = _SAMPLE_NAME.fullmatch(name)
    return (m["slug"], m["uid"], KIND_OF_EXTENSION[m["ext"]]) if m else None


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def sensors_problem(raw: Any) -> str | None:
    """Why a row's ``sensors`` text is not a JSON list of ``{"name", "units"}``, or None."""
    try:
        items = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        items = None
    if not isinstance(items, list) or not items:
        return "'sensors' is not a JSON list of sensors"
    for s in items:
        if not (isinstance(s, dict) and isinstance(s.get("name"), str) and isinstance(s.get("units"), str)):
            return "'sensors' holds an item without a text name and units"
    return None


def row_problem(row: sqlite3.Row | dict[str, Any]) -> str | None:
    """Why an index row cannot be used as it is (one phrase), or None when it is sound."""
    r = {k: row[k] for k in index.COLUMNS}
    if not isinstance(r["id"], int) or r["id"] < 1:
        return "has no valid id"
    if not (isinstance(r["uid"], str) and UID.fullmatch(r["uid"])):
        return "has no valid uid"
    if r["category"] not in CATEGORIES:
        return f"has an unknown category {r['category']!r}"
    if r["kind"] not in EXTENSIONS:
        return f"has an unknown kind {r['kind']!r}"
    file = r["file"]
    if not isinstance(file, str):
        return "has no file name"
    folder, _, name = file.rpartition("/")
    parsed = parse_name(name)
    if folder != f"{DATA_DIR}/{r['category']}" or parsed is None or parsed[1:] != (r["uid"], r["kind"]):
        return f"names the file {file!r}, not data/{r['category']}/<label>.{r['uid']}.{EXTENSIONS[r['kind']]}"
    if not isinstance(r["label"], str):
        return "has no label"
    try:
        normalize_label(r["label"])
    except ValueError as e:
        return f"has an unusable label ({e})"
    if not isinstance(r["name"], str) or not isinstance(r["device"], str):
        return "has a name or device that is not text"
    if (problem := sensors_problem(r["sensors"])) is not None:
        return problem
    if not (_number(r["interval_ms"]) and r["interval_ms"] > 0):
        return "has an interval that is not a positive number"
    if not (isinstance(r["frames"], int) and r["frames"] > 0):
        return "has a frame count that is not a positive whole number"
    if not _number(r["created"]):
        return "has a creation time that is not a number"
    if not (isinstance(r["hash"], str) and _HASH.fullmatch(r["hash"])):
        return "has no valid content hash"
    if r["enabled"] not in (0, 1):
        return "has an 'enabled' flag that is not 0 or 1"
    start, end = r["crop_start"], r["crop_end"]
    if (start is None) != (end is None):
        return "has only one end of its crop"
    if start is not None and not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= r["frames"]):
        return f"has a crop {start}..{end} outside its {r['frames']} frames"
    return None
