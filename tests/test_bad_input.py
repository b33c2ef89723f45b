"""Every case of the bad-input corpus (``bad_input_cases.py``) through the real command: exit status 1,
one line on stderr naming the file, no traceback, no warning, and nothing written or changed."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from bad_input_cases import Case, csv_cases, document_cases, tflite_cases, wav_cases
from conftest import ROOT

from studio.cli import main
from studio.project import Project

IMPORT_CASES = csv_cases() + wav_cases() + document_cases()
TFLITE_CASES = tflite_cases()


def snapshot(root: Path) -> dict[str, bytes]:
    out = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            path = Path(dirpath) / name
            if not name.endswith(("-wal", "-shm")):
                out[str(path.relative_to(root))] = path.read_bytes() if not path.is_symlink() else b"link"
    return out


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    """The command in this process (fast enough for hundreds of cases); anything escaping it is a traceback."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = main([str(a) for a in argv])
    out = capsys.readouterr()
    assert not caught, [str(w.message) for w in caught]
    return code, out.out, out.err


def assert_refused(code: int, err: str, names: str) -> None:
    lines = err.strip().splitlines()
    assert code == 1, err
    assert len(lines) == 1, lines
    assert lines[0].startswith("tinyml-studio: error: ") and names in lines[0], lines
    assert "Traceback" not in err


def test_the_corpus_is_large_enough():
    assert len(IMPORT_CASES) + len(TFLITE_CASES) + len(PROJECT_CASES) >= 150


@pytest.fixture(scope="module")
def empty_project(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "project"
    Project.create(path).close()
    return path


@pytest.mark.parametrize("case", IMPORT_CASES, ids=lambda c: c.id)
def test_a_bad_file_is_refused_in_one_line_and_changes_nothing(case: Case, empty_project, tmp_path, capsys):
    path = tmp_path / case.name
    path.write_bytes(case.data)
    before = snapshot(empty_project)
    code, out, err = run(["import", empty_project, path, *case.args], capsys)
    assert_refused(code, err, case.names or str(path))
    assert snapshot(empty_project) == before
    assert case.names or "imported 0 file(s)" in out


def test_a_folder_with_every_bad_file_imports_the_good_ones_and_reports_each(empty_project, tmp_path, capsys):
    folder = tmp_path / "mixed"
    folder.mkdir()
    for case in IMPORT_CASES:
        if not case.args:
            (folder / case.name).write_bytes(case.data)
    (folder / "good.csv").write_text("timestamp,a\n0,1\n10,2\n")
    code, out, err = run(["import", empty_project, folder], capsys)
    refused = [ln for ln in err.splitlines() if ln.startswith("tinyml-studio: error: ")]
    assert code == 1 and "Traceback" not in err
    assert len(refused) == sum(1 for c in IMPORT_CASES if not c.args)
    assert "imported 1 file(s)" in out.strip().splitlines()[-1]


@pytest.mark.parametrize("case", TFLITE_CASES, ids=lambda c: c.id)
def test_a_bad_model_is_refused_in_one_line_and_writes_nothing(case: Case, tmp_path, capsys):
    path = tmp_path / case.name
    path.write_bytes(case.data)
    code, _, err = run(["compile", path, "--out", tmp_path / "out"], capsys)
    assert_refused(code, err, str(path))
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


# ---------------------------------------------------------------- damaged project folders


def _config(**changes):
    def change(p: Path) -> None:
        path = p / "project.json"
        path.write_text(json.dumps(dict(json.loads(path.read_text()), **changes)))
    return change


def _sql(statement: str):
    def change(p: Path) -> None:
        db = sqlite3.connect(p / "index.sqlite")
        db.execute(statement)
        db.commit()
        db.close()
    return change


def _link(rel: str, to: str):
    def change(p: Path) -> None:
        target = p / rel
        if target.is_dir():
            target.rename(target.with_name(target.name + ".away"))
        else:
            target.unlink(missing_ok=True)
        os.symlink(to, target)
    return change


PROJECT_CASES = {
    "created as text": ("project.json", _config(created="yesterday")),
    "created as a list": ("project.json", _config(created=[1])),
    "a sensor item as text": ("project.json", _config(sensors=["ax"])),
    "a sensor name as a number": ("project.json", _config(sensors=[{"name": 1, "units": ""}])),
    "frequency negative": ("project.json", _config(frequency_hz=-5)),
    "frequency as text": ("project.json", _config(frequency_hz="100")),
    "settings as a list": ("project.json", _config(settings=[])),
    "name as a number": ("project.json", _config(name=5)),
    "no signing key": ("project.json", _config(hmac_key="")),
    "schema version as text": ("project.json", _config(schema_version="1")),
    "config not an object": ("project.json", lambda p: (p / "project.json").write_text("[1, 2]")),
    "config not UTF-8": ("project.json", lambda p: (p / "project.json").write_bytes(b'{"name": "\xff"}')),
    "config a folder": ("project.json", lambda p: ((p / "project.json").unlink(), (p / "project.json").mkdir())),
    "index a folder": ("index.sqlite", lambda p: ((p / "index.sqlite").unlink(), (p / "index.sqlite").mkdir())),
    "lock a folder": (".lock", lambda p: ((p / ".lock").unlink(missing_ok=True), (p / ".lock").mkdir())),
    "data a link out of the project": ("data", _link("data", "/tmp")),
    "data/testing a link out": ("testing", _link("data/testing", "/tmp")),
    "data/training a file": ("training", lambda p: (_link("data/training", "/dev/null")(p))),
    "a row's sensors not JSON": ("index.sqlite", _sql("UPDATE samples SET sensors='nope' WHERE id=1")),
    "a row's sensors a JSON object": ("index.sqlite", _sql("UPDATE samples SET sensors='{}' WHERE id=1")),
    "a row's file absolute": ("index.sqlite", _sql("UPDATE samples SET file='/etc/passwd' WHERE id=1")),
    "a row's file climbing out": ("index.sqlite", _sql("UPDATE samples SET file='../victim.txt' WHERE id=1")),
    "a row's file in another folder": ("index.sqlite",
                                       _sql("UPDATE samples SET file='runs/x.aaaaaaaaaaaa.cbor' WHERE id=1")),
    "a row's uid not ours": ("index.sqlite", _sql("UPDATE samples SET uid='x/../y' WHERE id=1")),
    "a row's crop past its end": ("index.sqlite", _sql("UPDATE samples SET crop_start=0, crop_end=99999 WHERE id=1")),
    "a row's frames as text": ("index.sqlite", _sql("UPDATE samples SET frames='many' WHERE id=1")),
    "a row's label empty": ("index.sqlite", _sql("UPDATE samples SET label='   ' WHERE id=1")),
    "a row's hash short": ("index.sqlite", _sql("UPDATE samples SET hash='abc' WHERE id=1")),
    "a dropped samples table": ("index.sqlite", _sql("DROP TABLE samples")),
    "the index from a newer app": ("index.sqlite", _sql("PRAGMA user_version=99")),
}


@pytest.fixture
def filled(tmp_path):
    path = tmp_path / "p"
    Project.create(path).close()
    src = tmp_path / "a.csv"
    src.write_text("timestamp,a,b\n" + "".join(f"{i * 10},{i},{-i}\n" for i in range(50)))
    subprocess.run([sys.executable, "-m", "studio", "import", str(path), str(src)], cwd=ROOT, check=True,
                   capture_output=True)
    return path


@pytest.mark.parametrize("what", PROJECT_CASES)
def test_a_damaged_project_is_one_line_naming_the_file_and_is_left_as_it_is(what, filled, capsys):
    name, damage = PROJECT_CASES[what]
    damage(filled)
    before = snapshot(filled)
    for argv in (["info", filled], ["list", filled], ["label", filled, "1", "--set", "b"], ["delete", filled, "1"]):
        code, _, err = run(argv, capsys)
        assert_refused(code, err, name)
        assert snapshot(filled) == before, f"{argv[0]} changed the project"
