"""The project store: every operation, recovery, migrations, portability."""

from __future__ import annotations

import json
import shutil
import sqlite3

import numpy as np
import pytest
from conftest import tone

from studio.formats.sample import AUDIO, SENSOR, SampleHeader, Sensor, audio_sensors
from studio.fsutil import TMP_PREFIX, temp_path_for
from studio.project import Project, ProjectError
from studio.project import config as config_mod

AXES = [Sensor("ax", "m/s2"), Sensor("ay", "m/s2"), Sensor("az", "m/s2")]


def motion(seed, frames=100):
    return np.random.default_rng(seed).normal(size=(frames, 3)).round(4)


def add(project, label, seed, category="training", frames=100):
    return project.add_sample(label, SampleHeader(SENSOR, AXES, 10.0), motion(seed, frames), category)


def test_create_writes_config_index_and_data_folders(tmp_path):
    p = Project.create(tmp_path / "p", "My project")
    cfg = json.loads((tmp_path / "p" / "project.json").read_text())
    assert cfg["schema_version"] == config_mod.SCHEMA_VERSION and cfg["name"] == "My project"
    assert len(cfg["hmac_key"]) == 64
    db = sqlite3.connect(tmp_path / "p" / "index.sqlite")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert (tmp_path / "p" / "data" / "training").is_dir() and (tmp_path / "p" / "data" / "testing").is_dir()
    p.close()
    with pytest.raises(ProjectError, match="already exists"):
        Project.create(tmp_path / "p")


def test_open_refuses_non_projects(tmp_path):
    with pytest.raises(ProjectError, match="no such project"):
        Project.open(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ProjectError, match="not a TinyML Studio project"):
        Project.open(tmp_path / "empty")
    (tmp_path / "empty" / "project.json").write_text("{not json")
    with pytest.raises(ProjectError, match="not valid JSON"):
        Project.open(tmp_path / "empty")


def test_add_and_read_sensor_and_audio_samples(project):
    s = add(project, "wave", 1)
    assert s.kind == SENSOR and s.frames == 100 and s.frequency_hz == 100 and s.enabled
    assert s.file.startswith("data/training/wave.") and s.file.endswith(".cbor")
    np.testing.assert_array_equal(project.read(s), motion(1))
    a = project.add_sample("yes", SampleHeader(AUDIO, audio_sensors(1), 1000 / 16000), tone().reshape(-1, 1))
    assert a.file.endswith(".wav") and a.frequency_hz == pytest.approx(16000)
    np.testing.assert_array_equal(project.read(a)[:, 0], tone())


def test_stored_sensor_file_is_a_signed_edge_impulse_document(project):
    from studio.formats import edge_impulse

    s = add(project, "wave", 2)
    raw = (project.path / s.file).read_bytes()
    doc = edge_impulse.parse_document(raw, "cbor", project.config.key_bytes)
    assert doc.signature_verified
    with pytest.raises(Exception, match="bad signature"):
        edge_impulse.parse_document(raw, "cbor", b"wrong")


def test_list_filter_and_stats(project):
    for i in range(3):
        add(project, "idle", i)
    add(project, "wave", 10, "testing", frames=50)
    assert [s.label for s in project.samples(label="idle")] == ["idle"] * 3
    assert len(project.samples(category="testing")) == 1
    project.set_enabled([1], False)
    assert [s.id for s in project.samples(enabled=False)] == [1]
    st = project.stats()
    assert st["labels"]["idle"]["training"] == {"samples": 3, "duration_ms": 3000.0}
    assert st["labels"]["wave"]["testing"]["duration_ms"] == 500.0
    assert st["disabled"] == 1 and st["samples"] == 4


def test_relabel_rename_label_and_move_rename_files(project):
    a, b = add(project, "idle", 1), add(project, "idle", 2)
    project.relabel([a.id], 'say "hi"\n\u00e9t\u00e9/../x')
    a2 = project.get(a.id)
    assert a2.label == 'say "hi"\n\u00e9t\u00e9/../x'
    assert a2.file.startswith("data/training/") and "/" not in a2.file[len("data/training/"):]
    assert (project.path / a2.file).is_file() and not (project.path / a.file).exists()
    assert project.rename_label("idle", "rest") == 1 and project.get(b.id).label == "rest"
    project.move([b.id], "testing")
    b2 = project.get(b.id)
    assert b2.category == "testing" and b2.file.startswith("data/testing/rest.")
    np.testing.assert_array_equal(project.read(b2), motion(2))
    with pytest.raises(ProjectError, match="no samples labelled"):
        project.rename_label("idle", "x")
    with pytest.raises(ProjectError, match="bad label"):
        project.relabel([a.id], "   ")
    with pytest.raises(ProjectError, match="no sample with id 99"):
        project.relabel([99], "x")
    with pytest.raises(ProjectError, match="unknown category"):
        project.move([a.id], "validation")


def test_delete_removes_row_and_file(project):
    s = add(project, "idle", 1)
    project.delete([s.id])
    assert project.samples() == [] and not (project.path / s.file).exists()


def test_crop_is_non_destructive_and_validated(project):
    s = add(project, "wave", 3)
    c = project.crop(s.id, 10, 60)
    np.testing.assert_array_equal(project.read(c), motion(3)[10:60])
    assert project.read(c, cropped=False).shape[0] == 100
    with pytest.raises(ProjectError, match="outside"):
        project.crop(s.id, 50, 200)
    with pytest.raises(ProjectError, match="outside"):
        project.crop(s.id, 30, 30)
    assert project.crop(s.id, None, None).crop_start is None


def test_split_sample_into_windows_replaces_the_original(project):
    s = add(project, "wave", 4, frames=1050)
    parts = project.split_sample(s.id, 200)  # 20 frames at 10 ms
    assert len(parts) == 52 and all(p.frames == 20 and p.label == "wave" for p in parts)
    np.testing.assert_array_equal(project.read(parts[1]), motion(4, 1050)[20:40])
    assert s.id not in [x.id for x in project.samples()] and not (project.path / s.file).exists()
    with pytest.raises(ProjectError, match="fewer than two windows"):
        project.split_sample(parts[0].id, 200)


def test_rebalance_is_deterministic_and_exact_per_label(tmp_path):
    def build(where):
        p = Project.create(where)
        for i in range(10):
            add(p, "idle", i)
        for i in range(5):
            add(p, "wave", 100 + i)
        p.rebalance(0.2)
        return p

    p1, p2 = build(tmp_path / "a"), build(tmp_path / "b")
    t1 = sorted(s.hash for s in p1.samples(category="testing"))
    t2 = sorted(s.hash for s in p2.samples(category="testing"))
    assert t1 == t2
    assert len(p1.samples(label="idle", category="testing")) == 2
    assert len(p1.samples(label="wave", category="testing")) == 1
    assert p1.rebalance(0.2) == 0  # already balanced: nothing moves
    assert all(s.file.startswith(f"data/{s.category}/") for s in p1.samples())


def test_import_time_split_is_by_content_hash(project):
    s1 = add(project, "idle", 7, category=None)
    s2 = add(project, "idle", 7, category=None)
    assert s1.category == s2.category
    cats = {add(project, "idle", 1000 + i, category=None).category for i in range(40)}
    assert cats == {"training", "testing"}


def test_duplicates_are_found_by_content(project):
    a = add(project, "idle", 1)
    add(project, "idle", 2)
    c = add(project, "wave", 1)  # same values, other label
    assert project.duplicates() == [[a.id, c.id]]
    assert project.find_by_hash(a.hash) == [a.id, c.id]


def test_project_folder_is_portable(project, tmp_path):
    s = add(project, "wave", 5)
    project.close()
    moved = tmp_path / "elsewhere" / "copy"
    shutil.copytree(project.path, moved)
    shutil.rmtree(project.path)
    with Project.open(moved) as p:
        np.testing.assert_array_equal(p.read(p.get(s.id)), motion(5))
        assert p.integrity_problems() == []


def test_recovery_removes_only_its_own_temps_and_finds_renamed_files(project):
    a, b, c = add(project, "idle", 1), add(project, "idle", 2), add(project, "idle", 3)
    data = project.path / "data" / "training"
    temp_path_for(data / "idle.0123456789ab.cbor").write_bytes(b"half")  # an import that never committed
    (data / f"{TMP_PREFIX}abc-idle.x.cbor").write_bytes(b"not our temp name")
    (data / "orphan.0123456789ab.cbor").write_bytes(b"never indexed")
    (project.path / a.file).rename(project.path / "data" / "testing" / f"other.{a.uid}.cbor")  # interrupted move
    (project.path / b.file).unlink()  # deleted by hand
    project.close()
    p = Project.open(project.path)
    notes = " | ".join(p.recovery_notes)
    assert "unfinished temp" in notes and "rename undone" in notes and "missing" in notes
    assert "orphan.0123456789ab.cbor: not indexed" in notes
    # the row of the missing file is kept (check --repair drops it); unreadable files stay where they are
    assert [s.id for s in p.samples()] == [a.id, b.id, c.id]
    assert p.get(a.id).file == a.file and p.get(a.id).category == "training"
    assert sorted(x.name for x in data.iterdir()) == sorted(
        [f"{TMP_PREFIX}abc-idle.x.cbor", "orphan.0123456789ab.cbor"] + [project.path.joinpath(x.file).name
                                                                       for x in (a, c)])
    assert p.integrity_problems() == [f"sample {b.id}: missing {b.file}"]
    p.close()


def test_failed_write_leaves_nothing(project):
    class Boom(Exception):
        pass

    def chunks():
        yield motion(1, 10)
        raise Boom()

    with pytest.raises(Boom), project.writing() as w:
        w.add("idle", "training", SampleHeader(SENSOR, AXES, 10.0, 20), chunks(), "0" * 64)
    assert project.samples() == []
    assert list((project.path / "data" / "training").iterdir()) == []


def test_config_migrations_run_and_newer_schema_is_refused(tmp_path, monkeypatch):
    p = Project.create(tmp_path / "p")
    p.close()
    cfg_path = tmp_path / "p" / "project.json"
    data = json.loads(cfg_path.read_text())
    data["schema_version"] = config_mod.SCHEMA_VERSION + 1
    cfg_path.write_text(json.dumps(data))
    with pytest.raises(ProjectError, match="newer TinyML Studio"):
        Project.open(tmp_path / "p")
    # an older schema is migrated step by step and saved
    old = dict(data, schema_version=config_mod.SCHEMA_VERSION - 1, project_title=data["name"])
    old.pop("name")
    cfg_path.write_text(json.dumps(old))

    def rename_title(d):
        d["name"] = d.pop("project_title")
        return d

    monkeypatch.setitem(config_mod.MIGRATIONS, config_mod.SCHEMA_VERSION - 1, rename_title)
    with Project.open(tmp_path / "p") as p2:
        assert p2.config.name == data["name"]
    saved = json.loads(cfg_path.read_text())
    assert saved["schema_version"] == config_mod.SCHEMA_VERSION and "project_title" not in saved


def test_unknown_config_keys_survive_a_save(tmp_path):
    p = Project.create(tmp_path / "p")
    p.close()
    path = tmp_path / "p" / "project.json"
    path.write_text(json.dumps(dict(json.loads(path.read_text()), future_feature={"x": 1})))
    with Project.open(tmp_path / "p") as p2:
        p2.config.settings["impulse"] = {"window_ms": 1000}
        p2.save_config()
    saved = json.loads(path.read_text())
    assert saved["future_feature"] == {"x": 1} and saved["settings"]["impulse"]["window_ms"] == 1000


def test_restore_brings_a_deleted_sample_back_with_its_id(project):
    a = add(project, "idle", 1)
    b = add(project, "wave", 2)
    project.crop(b.id, 5, 50)
    project.set_enabled([b.id], False)
    kept = project.get(b.id)
    values = project.read(kept, cropped=False)
    project.delete([b.id])
    back = project.restore(kept, values)
    assert back == kept
    np.testing.assert_array_equal(project.read(back), motion(2)[5:50])
    assert [s.id for s in project.samples()] == [a.id, b.id]
