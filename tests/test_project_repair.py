"""Recovery never destroys data, a damaged project is one line and never a traceback, and
``check --repair`` rebuilds what it can and quarantines the rest."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, run_cli

from studio.formats.sample import SENSOR
from studio.project import NeedsRepair, Project, ProjectError

EXAMPLES = ROOT / "resources" / "examples"


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes (the index's WAV side files aside)."""
    out = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            path = Path(dirpath) / name
            if name.endswith(("-wal", "-shm")) or path.is_symlink():
                continue
            out[str(path.relative_to(root))] = path.read_bytes()
    return out


def sample_files(root: Path) -> dict[str, bytes]:
    return {k: v for k, v in snapshot(root / "data").items()}


@pytest.fixture
def made(tmp_path):
    """A project with the example recordings, a relabel to a label the file name cannot hold, a crop, a
    disabled sample and a sample in testing; returns (path, the samples as the index had them)."""
    proj = tmp_path / "p"
    assert run_cli("new", proj).returncode == 0
    assert run_cli("import", proj, EXAMPLES).returncode == 0
    with Project.open(proj) as p:
        ids = [s.id for s in p.samples()]
        p.relabel([ids[0]], "Yes, please!")
        p.crop(ids[3], 10, 120)
        p.set_enabled([ids[4]], False)
        p.move([ids[5]], "testing")
        before = [(s.id, s.uid, s.label, s.category, s.crop_start, s.crop_end, s.enabled, s.hash) for s in p.samples()]
    return proj, before


def state(proj: Path):
    with Project.open(proj) as p:
        return [(s.id, s.uid, s.label, s.category, s.crop_start, s.crop_end, s.enabled, s.hash) for s in p.samples()]


def drop_table(index: Path) -> None:
    db = sqlite3.connect(index)
    db.execute("DROP TABLE samples")
    db.commit()
    db.close()


def point_outside(index: Path) -> None:
    db = sqlite3.connect(index)
    db.execute("UPDATE samples SET file='../victim.txt' WHERE id=1")
    db.execute("UPDATE samples SET file='/tmp/elsewhere.cbor' WHERE id=2")
    db.commit()
    db.close()


CORRUPTIONS = {
    "empty": lambda idx: idx.write_bytes(b""),
    "missing": lambda idx: idx.unlink(),
    "random bytes": lambda idx: idx.write_bytes(np.random.default_rng(0).bytes(8192)),
    "dropped table": drop_table,
    "rows pointing outside": point_outside,
}


@pytest.mark.parametrize("how", CORRUPTIONS)
def test_a_corrupt_index_keeps_every_file_and_restores_every_sample(made, how):
    proj, before = made
    victim = proj.parent / "victim.txt"
    victim.write_text("not yours")
    files = sample_files(proj)
    CORRUPTIONS[how](proj / "index.sqlite")
    for side in ("index.sqlite-wal", "index.sqlite-shm"):
        (proj / side).unlink(missing_ok=True)
    outcomes = []
    for cmd in ("info", "list"):
        out = run_cli(cmd, proj)
        assert "Traceback" not in out.stderr
        outcomes.append(out.returncode)
        if out.returncode:
            lines = out.stderr.strip().splitlines()
            assert len(lines) == 1 and "index.sqlite" in lines[0] and "check" in lines[0] and "--repair" in lines[0]
        assert sample_files(proj) == files, f"{cmd} changed a sample file"
    out = run_cli("check", proj, "--repair")
    assert out.returncode == 0, out.stdout + out.stderr
    assert sample_files(proj) == files
    assert victim.read_text() == "not yours"
    after = state(proj)
    assert len(after) == len(before)
    if how in ("dropped table", "rows pointing outside") or how in ("empty", "missing", "random bytes"):
        by_uid = {r[1]: r for r in after}
        for row in before:
            got = by_uid[row[1]]
            assert got[7] == row[7] and got[3] == row[3], "content or category changed"
            if how == "rows pointing outside":  # the other columns were readable: nothing is lost
                assert got == row
            else:  # only the files were left: labels from file names, the crop and flags are gone
                assert got[2] == (row[2] if row[2] != "Yes, please!" else "Yes_please")
    assert run_cli("check", proj).returncode == 0
    if how in ("empty", "missing", "random bytes"):
        assert outcomes == [0, 0], "an unreadable index is rebuilt when the project is opened"


def test_an_unreadable_index_is_set_aside_in_quarantine_and_its_rebuild_said_in_one_line(made):
    proj, before = made
    (proj / "index.sqlite").write_bytes(b"SQLite format 3\x00" + bytes(4096))
    out = run_cli("info", proj)
    assert out.returncode == 0
    notes = [ln for ln in out.stdout.splitlines() if ln.startswith("recovered")]
    assert len(notes) == 1 and f"rebuilt it from {len(before)} sample file(s)" in notes[0]
    assert list((proj / "quarantine").glob("*/index.sqlite")), "the damaged index is kept"


def test_a_dropped_column_is_rebuilt_keeping_the_other_columns(made):
    proj, before = made
    db = sqlite3.connect(proj / "index.sqlite")
    cols = [c for c in ("id", "uid", "name", "label", "category", "file", "kind", "sensors", "interval_ms", "frames",
                        "created", "hash", "enabled", "crop_start", "crop_end")]
    db.executescript(f"CREATE TABLE s2 AS SELECT {', '.join(cols)} FROM samples; DROP TABLE samples; "
                     "ALTER TABLE s2 RENAME TO samples;")
    db.commit()
    db.close()
    out = run_cli("list", proj)
    assert out.returncode == 1 and "lacks the column(s) device" in out.stderr and len(out.stderr.splitlines()) == 1
    assert run_cli("check", proj, "--repair").returncode == 0
    assert state(proj) == before  # labels, crop, enabled flag, categories and ids come back


def test_a_missing_file_keeps_its_row_until_repair_drops_it_into_quarantine(made):
    proj, before = made
    with Project.open(proj) as p:
        gone = p.samples()[2]
    (proj / gone.file).unlink()
    out = run_cli("info", proj)
    assert out.returncode == 0 and f"sample {gone.id}: file {gone.file} is missing" in out.stdout
    assert len(state(proj)) == len(before)
    out = run_cli("check", proj)
    assert out.returncode == 1 and "the file is missing" in out.stdout
    assert run_cli("check", proj, "--repair").returncode == 0
    assert [r[0] for r in state(proj)] == [r[0] for r in before if r[0] != gone.id]
    rows = json.loads(next((proj / "quarantine").glob("*/rows.json")).read_text())
    assert rows[0]["uid"] == gone.uid and rows[0]["label"] == gone.label


DAMAGE = {
    "created of the wrong type": ("project.json", lambda p: _config(p, created="yesterday")),
    "a bad sensors item": ("project.json", lambda p: _config(p, sensors=[{"name": 3}])),
    "config not JSON": ("project.json", lambda p: (p / "project.json").write_text('{"name": "p", "hmac_key": "')),
    "data/training a file": ("data/training", lambda p: _replace_with_file(p / "data" / "training")),
    ".lock a folder": (".lock", lambda p: ((p / ".lock").unlink(missing_ok=True), (p / ".lock").mkdir())),
    "a row's sensors not JSON": ("index.sqlite", lambda p: _sql(p, "UPDATE samples SET sensors='nope' WHERE id=3")),
    "a row's file a link leaving": ("index.sqlite", lambda p: _link_out(p)),
}


def _config(proj: Path, **changes) -> None:
    path = proj / "project.json"
    path.write_text(json.dumps(dict(json.loads(path.read_text()), **changes)))


def _replace_with_file(folder: Path) -> None:
    shutil.rmtree(folder)
    folder.write_text("a file where the folder was")


def _sql(proj: Path, statement: str) -> None:
    db = sqlite3.connect(proj / "index.sqlite")
    db.execute(statement)
    db.commit()
    db.close()


def _link_out(proj: Path) -> None:
    with Project.open(proj) as p:
        s = p.samples()[6]
    outside = proj.parent / "outside.cbor"
    os.replace(proj / s.file, outside)
    os.symlink(outside, proj / s.file)


@pytest.mark.parametrize("what", DAMAGE)
def test_damage_is_one_line_naming_the_file_with_the_repair_to_run(made, what):
    proj, before = made
    name, damage = DAMAGE[what]
    damage(proj)
    files = snapshot(proj)
    for cmd in (("info", proj), ("list", proj), ("delete", proj, "1"), ("label", proj, "2", "--set", "x"),
                ("export-data", proj, proj.parent / "out", "--format", "ei-json")):
        out = run_cli(*cmd)
        lines = out.stderr.strip().splitlines()
        assert out.returncode == 1 and "Traceback" not in out.stderr, (cmd, out.stderr)
        assert len(lines) == 1 and name in lines[0] and "check" in lines[0], (cmd, lines)
        assert snapshot(proj) == files, f"{cmd[0]} changed the project"
    assert not (proj.parent / "out").exists()
    out = run_cli("check", proj)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    out = run_cli("check", proj, "--repair")
    assert out.returncode == 0, out.stdout + out.stderr
    assert run_cli("info", proj).returncode == 0
    assert run_cli("check", proj).returncode == 0
    kept = len(state(proj)) + len(json.loads(next((proj / "quarantine").glob("*/rows.json")).read_text())) \
        if list((proj / "quarantine").glob("*/rows.json")) else len(state(proj))
    assert kept >= len(before), "a sample left neither in the index nor in quarantine"


def test_the_config_repair_keeps_the_signing_key_when_it_can_be_read(made):
    proj, before = made
    cfg = (proj / "project.json").read_text()
    key = json.loads(cfg)["hmac_key"]
    (proj / "project.json").write_text(cfg[: cfg.index(key) + len(key) + 1])  # cut after the key
    assert "check" in run_cli("info", proj).stderr
    assert run_cli("check", proj, "--repair").returncode == 0
    assert json.loads((proj / "project.json").read_text())["hmac_key"] == key
    assert [r[7] for r in state(proj)] == [r[7] for r in before]  # every signed sample still verifies


def test_edited_sample_files_are_found_and_never_re_signed_by_export(made, tmp_path):
    proj, before = made
    with Project.open(proj) as p:
        cbor = next(s for s in p.samples() if s.kind == SENSOR)
        wav = next(s for s in p.samples() if s.kind != SENSOR)
    raw = bytearray((proj / cbor.file).read_bytes())
    raw[-3] ^= 0x01  # one bit of one value
    (proj / cbor.file).write_bytes(bytes(raw))
    raw = bytearray((proj / wav.file).read_bytes())
    raw[-2] ^= 0x01
    (proj / wav.file).write_bytes(bytes(raw))
    out = run_cli("check", proj)
    assert out.returncode == 1
    assert f"{cbor.file}: sample {cbor.id}: does not read (bad signature" in out.stdout
    assert f"{wav.file}: sample {wav.id}: its content differs" in out.stdout
    out = run_cli("export-data", proj, tmp_path / "out", "--format", "ei-cbor")
    assert out.returncode == 1 and f"sample {cbor.id}:" in out.stderr and f"sample {wav.id}:" in out.stderr
    exported = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert {f["sample_id"] for f in exported["files"]} == {r[0] for r in before if r[6]} - {cbor.id, wav.id}
    assert run_cli("check", proj, "--repair").returncode == 0
    assert len(list((proj / "quarantine").glob("*/data/*/*"))) == 2


def test_open_in_python_raises_needs_repair_with_the_folder(made):
    proj, _ = made
    _config(proj, sensors="ax")
    with pytest.raises(NeedsRepair) as info:
        Project.open(proj)
    assert info.value.project == proj and "project.json" in str(info.value)
    assert isinstance(info.value, ProjectError)


def test_writes_into_folders_that_are_links_out_of_the_project_are_refused(made, tmp_path):
    from studio.learn import runs

    proj, _ = made
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, proj / "runs")
    with Project.open(proj) as p, pytest.raises(ProjectError, match="outside the project"):
        runs.save(p, {"config.json": b"{}"})
    assert list(elsewhere.iterdir()) == []


def test_a_locked_index_is_an_error_and_never_set_aside(made, monkeypatch):
    from studio.project import index

    proj, before = made
    monkeypatch.setattr(index, "BUSY_TIMEOUT_S", 0.2)
    holder = sqlite3.connect(proj / "index.sqlite", isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(ProjectError, match="index.sqlite: database is locked"):
            Project.open(proj)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert not (proj / "quarantine").exists()
    assert state(proj) == before
