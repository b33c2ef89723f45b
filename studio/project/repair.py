"""``tinyml-studio check --repair``: mend what :mod:`studio.project.check` found, losing nothing.

With the writer lock held: the config's bad fields get sound values (the old ones are kept in
quarantine); a lock, index or data folder of the wrong kind is moved to quarantine; a damaged
index is set aside and rebuilt from the sample files, keeping from its readable rows what only
it knew (labels, crops, names, enabled flags, ids); files that are not sound samples of this
project move to quarantine, and rows whose files are gone or unusable are dropped (each kept in
``quarantine/<time>/rows.json``). Only our own temp files are deleted. A fresh check ends it.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Any

from studio.formats.edge_impulse import fits_float32
from studio.formats.errors import FormatError
from studio.formats.sample import content_hash
from studio.fsutil import atomic_writer
from studio.jobs import ProgressLike
from studio.project import index, recovery
from studio.project.check import RUNS_DIR, CheckParams, CheckReport, Finding, State, inspect
from studio.project.config import (
    CONFIG_FILE,
    SCHEMA_VERSION,
    config_from_dict,
    field_problems,
    load_config,
    save_config,
)
from studio.project.errors import ProjectError
from studio.project.quarantine import Quarantine
from studio.project.reindex import row_from_file
from studio.project.sample import CATEGORIES, DATA_DIR
from studio.project.samplefiles import read_sample_file, write_sample
from studio.project.scan import scan_data
from studio.project.store import LOCK_FILE, Project

_KEY = re.compile(rb'"hmac_key"\s*:\s*"([^"\\]{16,})"')


def repair_config(root: Path, state: State, q: Quarantine, actions: list[str]) -> None:
    """Write a sound config: the parsed fields that are fine, sound values for the others."""
    path = root / CONFIG_FILE
    if state.config is None:
        raw = path.read_bytes() if path.is_file() else b""
        m = _KEY.search(raw)
        data: dict[str, Any] = {"name": root.name, "hmac_key": m.group(1).decode("utf-8", "replace") if m else ""}
        if os.path.lexists(path):
            actions.append(f"{CONFIG_FILE}: unreadable; moved to {q.move(path, 'unreadable project config')}")
        actions.append(f"{CONFIG_FILE}: wrote a new config" + (", keeping the signing key of the old one" if m else ""))
    else:
        data = dict(state.config)
        q.keep_row({"file": CONFIG_FILE, **data}, "the config before its fields were repaired")
    if not isinstance(data.get("name"), str):
        data["name"] = root.name
    if not isinstance(data.get("hmac_key"), str) or not data["hmac_key"]:
        data["hmac_key"] = secrets.token_hex(32)
        state.key_replaced = True
        actions.append(f"{CONFIG_FILE}: made a new signing key (the old one is lost)")
    for problem in field_problems(data):
        field = problem.split("'")[1]
        data[field] = {"created": os.stat(root).st_mtime, "sensors": [], "frequency_hz": None, "settings": {}}.get(
            field, data.get(field))
        if field == "sensors":
            data["frequency_hz"] = None
        actions.append(f"{CONFIG_FILE}: {problem}; set to {data[field]!r}")
    data["schema_version"] = SCHEMA_VERSION
    save_config(path, config_from_dict(data))
    state.key = data["hmac_key"].encode("utf-8")


def fix_layout(root: Path, q: Quarantine, actions: list[str]) -> None:
    for rel, want_file in ((LOCK_FILE, True), (index.INDEX_FILE, True), (DATA_DIR, False),
                           *((f"{DATA_DIR}/{c}", False) for c in CATEGORIES)):
        path = root / rel
        if os.path.lexists(path) and (path.is_symlink() or want_file != path.is_file()):
            actions.append(f"{rel}: not a {'file' if want_file else 'folder'}; moved to "
                           f"{q.move(path, 'in the place of a ' + ('file' if want_file else 'folder'))}")
    for cat in CATEGORIES:
        (root / DATA_DIR / cat).mkdir(parents=True, exist_ok=True)


def set_index_aside(root: Path, damage: str, q: Quarantine, actions: list[str]) -> dict[str, dict[str, Any]]:
    """Move the damaged index (and its side files) to quarantine; returns its readable rows by uid."""
    moved = ""
    for suffix in ("", *index.SIDE_FILES):
        side = root / (index.INDEX_FILE + suffix)
        if os.path.lexists(side):
            moved = moved or q.move(side, f"the index {damage}")
    salvaged = index.salvage(root / moved) if moved else {}
    actions.append(f"{index.INDEX_FILE}: {damage}; rebuilt from the sample files"
                   + (f" (the old one is {moved}, {len(salvaged)} of its rows read back)" if moved else ""))
    return salvaged


def resign(root: Path, row: dict[str, Any], key: bytes) -> bool:
    """After the signing key was lost: sign a sensor file again with the new key, but only when its
    content is exactly what the index recorded (frames and content hash), so nothing edited is vouched for."""
    path = root / row["file"]
    try:
        header, values = read_sample_file(path, row["kind"])
    except (FormatError, OSError):
        return False
    if len(values) != row["frames"] or content_hash(header, values) != row["hash"]:
        return False
    with atomic_writer(path) as f:
        write_sample(f, header, [values], key, wide=not fits_float32(values))
    return True


def drop_unusable(project: Project, state: State, q: Quarantine, actions: list[str], rebuilt: bool,
                  salvaged: dict[str, dict[str, Any]]) -> None:
    """Rows whose file is missing, does not read, or is not what the index says: file to quarantine,
    row dropped (kept in rows.json). Row-level damage is left to the rebuild, which keeps the file."""
    dropped = []
    for row in state.rows:
        why = state.bad_rows.get(row["id"])
        if why is None or why.startswith("row "):
            continue
        path = project.path / row["file"]
        if state.key_replaced and "signature" in why and resign(project.path, row, project.config.key_bytes):
            actions.append(f"{row['file']}: sample {row['id']} signed again with the new key (its content is the "
                           "one indexed)")
            continue
        where = q.move(path, f"sample {row['id']}: {why}") if os.path.lexists(path) else ""
        q.keep_row(row, why)
        salvaged.pop(row["uid"], None)
        dropped.append(row["id"])
        actions.append(f"{row['file']}: sample {row['id']} {why}; row dropped" + (f", file moved to {where}"
                                                                                  if where else ""))
    if dropped and not rebuilt:
        with project.transaction() as db:
            db.executemany("DELETE FROM samples WHERE id=?", [(i,) for i in dropped])


def index_foreign(project: Project, rel: str, q: Quarantine) -> str:
    """A file in a data folder without our name: a readable .wav or signed .cbor is indexed under our
    name (label: its name before the first dot, as Edge Impulse reads it); anything else goes to quarantine."""
    path = project.path / rel
    label = path.name.split(".", 1)[0]
    ext = path.suffix.lower().lstrip(".")
    if path.is_file() and not path.is_symlink() and ext in ("wav", "cbor") and label:
        target = f"{rel.rpartition('/')[0]}/{label}.{secrets.token_hex(6)}.{ext}"
        os.replace(path, project.path / target)
        try:
            row = row_from_file(project.path, target, project.config.key_bytes, {"label": label})
        except (FormatError, OSError) as e:
            os.replace(project.path / target, path)
            return f"moved to {q.move(path, f'not a sample this project can read ({e})')}"
        if row["file"] != target:
            os.replace(project.path / target, project.path / row["file"])
        with project.transaction() as db:
            db.execute(index.INSERT, tuple(row[c] for c in index.COLUMNS))
        return f"indexed as {row['file']}"
    return f"moved to {q.move(path, 'not a sample file of this project')}"


def quarantine_leftovers(project: Project, q: Quarantine, actions: list[str],
                         salvaged: dict[str, dict[str, Any]]) -> None:
    """After recovery: sample files still without a row, foreign entries, and salvaged rows without files."""
    indexed = {r["uid"]: r["file"] for r in project.raw_rows()}
    scan = scan_data(project.path)
    for uid, rels in scan.samples.items():
        for rel in rels:
            if indexed.get(uid) != rel:
                actions.append(f"{rel}: not a sample this project can index; moved to "
                               f"{q.move(project.path / rel, 'not indexable (see tinyml-studio check)')}")
    for rel in scan.other:
        actions.append(f"{rel}: {index_foreign(project, rel, q)}")
    for uid, row in salvaged.items():
        if uid not in indexed:
            q.keep_row(row, "its file is not in the project")
            actions.append(f"{index.INDEX_FILE}: sample {row.get('id')} had no file; its row is kept in quarantine")


def quarantine_runs(root: Path, report: CheckReport, q: Quarantine, actions: list[str]) -> None:
    done = set()
    for f in report.findings:
        if f.path.startswith(f"{RUNS_DIR}/"):
            rel = "/".join(f.path.split("/")[:2])
            if rel not in done and os.path.lexists(root / rel):
                done.add(rel)
                actions.append(f"{rel}: {f.problem}; moved to {q.move(root / rel, 'unusable training run')}")


def repair(params: CheckParams, progress: ProgressLike) -> CheckReport:
    root = Path(params.project_dir).resolve()
    report, state = inspect(root, progress)
    report.repaired = True
    if not report.findings:
        return report
    q, actions = Quarantine(root), report.actions
    if any(f.path == CONFIG_FILE for f in report.findings):
        repair_config(root, state, q, actions)
    fix_layout(root, q, actions)
    key_replaced = state.key_replaced
    _, state = inspect(root, progress)  # again: the rows are checked with the key the project now has
    state.key_replaced = key_replaced
    project = Project(root, load_config(root / CONFIG_FILE)[0])
    try:
        def set_aside() -> dict[str, dict[str, Any]]:
            return set_index_aside(root, state.index_damage, q, actions) if state.index_damage else {}

        with project.repairing(set_aside) as salvaged:
            drop_unusable(project, state, q, actions, bool(state.index_damage), salvaged)
            notes = recovery.recover(project, salvaged, "")
            actions += [n for n in notes if "not indexed" not in n and "check --repair" not in n]
            quarantine_leftovers(project, q, actions, salvaged)
            quarantine_runs(root, report, q, actions)
            project.fsync_data()
    finally:
        project.close()
    try:
        with Project.open(root) as fresh:
            report.samples = len(fresh.samples())
        after = inspect(root, progress)[0]
        report.remaining, report.files_checked = after.findings, after.files_checked
    except ProjectError as e:
        report.remaining = [Finding(".", str(e))]
    return report


def run(params: CheckParams, progress: ProgressLike) -> CheckReport:
    """The check job: list every problem, and with ``params.repair`` mend them."""
    if params.repair:
        return repair(params, progress)
    return inspect(Path(params.project_dir).resolve(), progress)[0]
