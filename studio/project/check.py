"""``tinyml-studio check``: verify a whole project without changing it, and list every problem.

Checked: the config parses and its fields are sound; the lock, index and data folders are what
they should be; SQLite's own check; every index row (fields, and a path that stays inside the
project); every row's file exists, parses, carries the project's signature (sensor data) and
the content hash the index holds; every file in the data folders is indexed or is our temp;
every training run folder reads. ``--repair`` is :mod:`studio.project.repair`.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from studio.formats.errors import FormatError
from studio.formats.sample import content_hash
from studio.jobs import ProgressLike
from studio.project import index
from studio.project.config import CONFIG_FILE, field_problems, migrate, read_raw
from studio.project.errors import NeedsRepair, ProjectError
from studio.project.sample import CATEGORIES, DATA_DIR, parse_name, row_problem
from studio.project.samplefiles import read_sample_file
from studio.project.scan import Scan, scan_data
from studio.project.store import LOCK_FILE

RUNS_DIR = "runs"


@dataclass
class Finding:
    path: str  # project-relative
    problem: str

    def line(self) -> str:
        return f"{self.path}: {self.problem}"


@dataclass
class CheckParams:
    project_dir: Path
    repair: bool = False


@dataclass
class CheckReport:
    project: str
    findings: list[Finding] = field(default_factory=list)
    samples: int = 0
    files_checked: int = 0
    repaired: bool = False
    actions: list[str] = field(default_factory=list)  # what the repair did, one line each
    remaining: list[Finding] = field(default_factory=list)  # after a repair, what a fresh check still finds

    @property
    def ok(self) -> bool:
        return not (self.remaining if self.repaired else self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {"project": self.project, "ok": self.ok, "samples": self.samples, "files_checked": self.files_checked,
                "repaired": self.repaired, "findings": [asdict(f) for f in self.findings], "actions": self.actions,
                "remaining": [asdict(f) for f in self.remaining]}


@dataclass
class State:
    """What a check learned, for the repair to act on."""

    config: dict[str, Any] | None = None  # the parsed config, when it parses
    key: bytes | None = None
    index_damage: str = ""  # why the index must be rebuilt ("" when it can be used)
    rows: list[dict[str, Any]] = field(default_factory=list)
    bad_rows: dict[int, str] = field(default_factory=dict)  # row id -> why its row or file is unusable
    scan: Scan = field(default_factory=Scan)
    orphans: dict[str, str] = field(default_factory=dict)  # unindexed sample file -> "" or why it does not read
    key_replaced: bool = False  # the repair had to make a new signing key


def check_config(root: Path, report: CheckReport, state: State) -> None:
    try:
        data = migrate(read_raw(root / CONFIG_FILE), str(root / CONFIG_FILE))
    except NeedsRepair as e:
        report.findings.append(Finding(CONFIG_FILE, e.reason.split(": ", 1)[-1]))
        return
    state.config = data
    report.findings += [Finding(CONFIG_FILE, p) for p in field_problems(data)]
    if isinstance(data.get("hmac_key"), str) and data["hmac_key"]:
        state.key = data["hmac_key"].encode("utf-8")


def check_layout(root: Path, report: CheckReport) -> None:
    for rel, want in ((LOCK_FILE, "file"), (index.INDEX_FILE, "file"), (DATA_DIR, "folder"),
                      *((f"{DATA_DIR}/{c}", "folder") for c in CATEGORIES)):
        path = root / rel
        if not os.path.lexists(path):
            continue
        if path.is_symlink():
            report.findings.append(Finding(rel, f"is a symbolic link (to {os.path.realpath(path)}), not a {want}"))
        elif (want == "file") != path.is_file():
            report.findings.append(Finding(rel, f"is not a {want}"))


def _open_read_only(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    return db


def check_index(root: Path, report: CheckReport, state: State) -> None:
    path = root / index.INDEX_FILE
    if not path.is_file() or path.is_symlink():
        state.index_damage = "is missing" if not os.path.lexists(path) else "is not a plain file"
        return
    if path.stat().st_size == 0:
        state.index_damage = "is empty"
        return
    try:
        db = _open_read_only(path)
    except sqlite3.Error as e:
        state.index_damage = f"cannot be opened ({e})"
        return
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > index.INDEX_VERSION:
            raise ProjectError(f"{path}: index version {version} is newer than this app reads")
        bad = [r[0] for r in db.execute("PRAGMA quick_check") if r[0] != "ok"]
        damage = f"is damaged ({bad[0]})" if bad else index.schema_problem(db)
        if damage:
            state.index_damage = damage
            return
        state.rows = [dict(r) for r in db.execute("SELECT * FROM samples ORDER BY id")]
    except sqlite3.DatabaseError as e:
        state.index_damage = f"is unreadable ({e})"
        return
    finally:
        db.close()
    for row in state.rows:
        why = row_problem(row)
        if why is None and (root / row["file"]).is_symlink():
            why = f"names {row['file']}, which is a symbolic link"
        if why is not None:
            state.bad_rows[row["id"]] = f"row {why}"
            report.findings.append(Finding(index.INDEX_FILE, f"sample {row['id']} {why}"))
    if any(f.path == index.INDEX_FILE for f in report.findings):
        state.index_damage = "has rows that cannot be used"


def verify_file(root: Path, row: dict[str, Any], key: bytes | None) -> str | None:
    """Why the sample file of a sound row is not what the index says, or None."""
    path = root / row["file"]
    if not os.path.lexists(path):
        return "the file is missing"
    try:
        header, values = read_sample_file(path, row["kind"], key)
    except FormatError as e:
        return f"does not read ({e})"
    except OSError as e:
        return f"cannot be read ({e.strerror})"
    if len(values) != row["frames"]:
        return f"holds {len(values)} frames, the index says {row['frames']}"
    if content_hash(header, values) != row["hash"]:
        return "its content differs from the index's content hash (edited outside the app?)"
    return None


def check_files(root: Path, report: CheckReport, state: State, progress: ProgressLike) -> None:
    state.scan = scan_data(root)
    sound = [r for r in state.rows if r["id"] not in state.bad_rows]
    total = max(len(sound) + sum(len(v) for v in state.scan.samples.values()), 1)
    for n, row in enumerate(sound):
        progress.check()
        progress.update(n / total, f"checking {row['file']}")
        why = verify_file(root, row, state.key)
        report.files_checked += 1
        if why is not None:
            state.bad_rows[row["id"]] = why
            report.findings.append(Finding(row["file"], f"sample {row['id']}: {why}"))
    indexed = {r["file"] for r in state.rows}
    for rel in state.scan.temps:
        report.findings.append(Finding(rel, "a temp file left by an interrupted write"))
    readable = []
    for rels in state.scan.samples.values():
        for rel in rels:
            if rel in indexed:
                continue
            progress.check()
            try:
                read_sample_file(root / rel, parse_name(rel.rpartition("/")[2])[2], state.key)
                state.orphans[rel] = ""
                readable.append(rel)
            except (FormatError, OSError) as e:
                state.orphans[rel] = str(getattr(e, "strerror", None) or e)
                report.findings.append(Finding(rel, f"not in the index, and does not read ({state.orphans[rel]})"))
            report.files_checked += 1
    if state.index_damage and readable:  # one line: they are what the rebuild restores
        report.findings.append(Finding(DATA_DIR, f"{len(readable)} sample file(s) to index again from their contents"))
    else:
        report.findings += [Finding(rel, "a sample file that the index does not list") for rel in readable]
    for rel in state.scan.other:
        report.findings.append(Finding(rel, "not a sample file of this project"))


def check_runs(root: Path, report: CheckReport) -> None:
    runs = root / RUNS_DIR
    if not runs.is_dir() or runs.is_symlink():
        if os.path.lexists(runs):
            report.findings.append(Finding(RUNS_DIR, "is not a folder of the project"))
        return
    for entry in sorted(os.scandir(runs), key=lambda e: e.name):
        if not entry.name.isdigit():
            continue
        rel = f"{RUNS_DIR}/{entry.name}"
        if not entry.is_dir(follow_symlinks=False):
            report.findings.append(Finding(rel, "a training run that is not a folder (a link or a file)"))
            continue
        for name in ("config.json", "metrics.json"):
            try:
                if not isinstance(json.loads((Path(entry.path) / name).read_text(encoding="utf-8")), dict):
                    raise ValueError("not a JSON object")
            except (OSError, ValueError) as e:
                report.findings.append(Finding(f"{rel}/{name}", f"unreadable ({getattr(e, 'strerror', None) or e})"))


def inspect(root: Path, progress: ProgressLike) -> tuple[CheckReport, State]:
    """Every problem of the project at ``root``, without changing anything."""
    report, state = CheckReport(str(root)), State()
    check_config(root, report, state)
    check_layout(root, report)
    check_index(root, report, state)
    if state.index_damage and not state.bad_rows:
        report.findings.append(Finding(index.INDEX_FILE, state.index_damage))
    check_files(root, report, state, progress)
    check_runs(root, report)
    report.samples = len(state.rows)
    return report, state
