"""Two handles on one project, as two processes would hold them: no lost update of the config, and
edits of samples that the other one changed report what was really done."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

from studio.formats.sample import SENSOR, SampleHeader, Sensor
from studio.project import Project, ProjectError

AXES = [Sensor("ax", "m/s2"), Sensor("ay", "m/s2")]


def add(p, label, seed):
    return p.add_sample(label, SampleHeader(SENSOR, AXES, 10.0), np.random.default_rng(seed).normal(size=(50, 2)))


def test_a_config_write_keeps_what_another_handle_wrote_meanwhile(tmp_path):
    Project.create(tmp_path / "p").close()
    importing = Project.open(tmp_path / "p")  # opened first, like an import that has been running a while
    designing = Project.open(tmp_path / "p")
    designing.set_setting("impulse", {"window_ms": 1000, "block": "spectral"})
    importing.remember_sensors(SampleHeader(SENSOR, AXES, 10.0))  # as an import does after its first sample
    importing.set_setting("learn", {"epochs": 5})
    saved = json.loads((tmp_path / "p" / "project.json").read_text())
    assert saved["settings"]["impulse"] == {"window_ms": 1000, "block": "spectral"}
    assert saved["settings"]["learn"] == {"epochs": 5}
    assert [s["name"] for s in saved["sensors"]] == ["ax", "ay"] and saved["frequency_hz"] == 100
    assert importing.config.settings["impulse"]["window_ms"] == 1000  # the handle sees it too
    importing.close()
    designing.close()


def test_config_writes_from_two_processes_at_once_lose_nothing(tmp_path):
    Project.create(tmp_path / "p").close()
    code = ("import sys\nfrom studio.project import Project\np = Project.open(sys.argv[1])\n"
            "for i in range(40):\n    p.set_setting(sys.argv[2] + str(i), i)\np.close()\n")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "p"), who], cwd=ROOT) for who in "ab"]
    assert all(p.wait(120) == 0 for p in procs)
    settings = json.loads((tmp_path / "p" / "project.json").read_text())["settings"]
    assert set(settings) == {f"{w}{i}" for w in "ab" for i in range(40)}


@pytest.mark.parametrize("edit", ["relabel", "move", "delete", "set_enabled", "crop"])
def test_editing_samples_another_handle_deleted_changes_nothing_and_says_so(tmp_path, edit):
    Project.create(tmp_path / "p").close()
    a = Project.open(tmp_path / "p")
    b = Project.open(tmp_path / "p")
    ids = [add(a, "wave", i).id for i in range(4)]
    assert b.delete(ids[:3]) == 3
    call = {"relabel": lambda: a.relabel(ids, "new"), "move": lambda: a.move(ids, "testing"),
            "delete": lambda: a.delete(ids), "set_enabled": lambda: a.set_enabled(ids, False),
            "crop": lambda: a.crop(ids[0], 1, 5)}[edit]
    with pytest.raises(ProjectError, match=f"no sample with id {ids[0]}.*nothing changed"):
        call()
    (left,) = a.samples()
    assert left.id == ids[3] and left.label == "wave" and left.category == "training" and left.enabled
    files = sorted(f.name for f in (tmp_path / "p" / "data" / "training").iterdir())
    assert files == [(tmp_path / "p" / left.file).name], "no orphan files"
    a.close()
    b.close()
