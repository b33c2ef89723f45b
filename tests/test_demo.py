"""The demo: ``tinyml-studio demo --headless`` runs the whole flow (virtual-board captures, spectral impulse,
training, int8, test, estimate, export, native and emulated-board builds, live gestures on the emulated
Cortex-M4) and reports; the window opens on the prepared demo project; folders that are not the demo's are
never cleared."""

from __future__ import annotations

import json
import os
import sys

import pytest
from conftest import ROOT, have, run_cli
from PySide6.QtCore import QSettings

from studio.cortexm import available
from studio.demo import flow
from studio.demo.report import text
from studio.deploy.pio.runner import PioNotFound, find_pio

try:
    find_pio()
except PioNotFound as e:
    pytest.skip(f"PlatformIO is not installed: {e}", allow_module_level=True)
if available() is not None or not have("qemu-system-arm"):
    pytest.skip(f"the emulated board cannot run here: {available()}", allow_module_level=True)


def demo_env(tmp_path, **extra: str) -> dict[str, str]:
    return {**os.environ, "TINYML_STUDIO_PIO_CORE": str(tmp_path / "pio-core"), **extra}


def test_headless_demo_runs_the_whole_flow_and_the_board_agrees_with_python(tmp_path):
    import subprocess

    workdir = tmp_path / "demo"
    done = subprocess.run([sys.executable, "-m", "studio", "demo", "--headless", "--workdir", str(workdir)],
                          capture_output=True, text=True, timeout=600, env=demo_env(tmp_path), cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "NodeDef" not in done.stderr and "Traceback" not in done.stderr
    report = json.loads((workdir / "report.json").read_text())
    assert report["ok"] and not report["problems"]
    assert list(report["steps"]) == ["project", "capture", "impulse", "train", "test", "estimate", "export", "build",
                                     "native program", "emulated board"]
    # 16 real recordings of 20 s through the virtual boards' pseudo-terminals, nothing rejected
    assert report["data"]["samples"] == 16 and report["data"]["frames"] == 16 * 2000
    assert report["data"]["rejected_lines"] == 0
    assert report["training"]["float_accuracy"] >= 0.95 and report["training"]["int8_accuracy"] >= 0.95
    e = report["estimate"]
    assert e["board"] == "nano33ble" and e["verdicts"] == {"flash": "fits", "ram": "fits"}
    assert 0 < e["flash_bytes"] < 64 * 1024 and 0 < e["ram_bytes"] < 32 * 1024 and e["latency_ms"]["total"] > 0
    counted, modelled = e["counted_instructions"], e["modelled_instructions"]
    assert counted["pipeline"] >= counted["dsp"] + counted["network"] > 0
    assert abs(modelled["network"] - counted["network"]) <= 0.15 * counted["network"]
    assert set(report["builds"]) == {"native", "virtual-cortex-m4"}
    assert report["builds"]["virtual-cortex-m4"]["flash_bytes"] > 0
    # the host program on every testing window and the emulated board on live gestures: Python's answers
    native, board = report["native"], report["emulated"]
    assert native["exact"] and native["windows"] == report["training"]["testing_windows"]
    assert board["exact"] and board["complete"] and board["windows"] == board["windows_expected"] > 0
    assert board["recognised"] == {g: g for g in flow.GESTURES}
    assert (workdir / "firmware-nano33ble" / "platformio.ini").is_file()
    assert report["seconds"] < 300
    # what it printed: one line per step as it happened, then the report
    out = done.stdout
    assert out.index("] capture:") < out.index("] train:") < out.index("] emulated board:")
    for needle in ("accuracy   float32", "estimate   Arduino Nano 33 BLE Sense", "measured ", "host ",
                   "board ", "every step passed"):
        assert needle in out, needle


def test_demo_refuses_a_folder_that_is_not_its_own_and_falls_back_to_headless_without_a_display(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.txt").write_text("keep me")
    env = {k: v for k, v in demo_env(tmp_path).items() if k not in ("DISPLAY", "WAYLAND_DISPLAY",
                                                                     "QT_QPA_PLATFORM")}
    import subprocess

    done = subprocess.run([sys.executable, "-m", "studio", "demo", "--workdir", str(mine)], capture_output=True,
                          text=True, timeout=120, env=env, cwd=ROOT)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert "no display" in lines[0] and "headless" in lines[0]
    assert lines[-1] == (f"tinyml-studio: error: {mine}: not empty and not an earlier demo's folder; choose an "
                         "empty or new folder")
    assert (mine / "thesis.txt").read_text() == "keep me" and len(list(mine.iterdir())) == 1


def test_a_rerun_clears_only_the_demo_s_own_folder(tmp_path):
    workdir = flow.prepare_workdir(tmp_path / "d")
    (workdir / "project").mkdir()
    (workdir / "project" / "x").write_text("old")
    assert flow.prepare_workdir(workdir) == workdir
    assert sorted(p.name for p in workdir.iterdir()) == [flow.MARK]
    with pytest.raises(flow.DemoError, match="not a folder"):
        flow.prepare_workdir(workdir / flow.MARK)
    assert run_cli("demo", "--help").returncode == 0


def test_the_window_prepares_the_demo_project_with_its_progress_bar_and_opens_it(qtbot, tmp_path, monkeypatch):
    """What ``tinyml-studio demo`` does with a display: the window shows at once, prepares the demo up to a
    trained model as a job (shorter recordings here), then opens that project; the next time it opens at once."""
    from studio.ui.main_window import MainWindow

    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    w = MainWindow(settings)
    qtbot.addWidget(w)
    w.show()
    workdir = tmp_path / "demo"
    params = flow.DemoParams(workdir, seconds=8.0, training_people=2, epochs=8, until="train")
    handle = w.open_demo(workdir, params)
    assert handle is not None and w.job is handle and w.job_bar.isVisible()
    steps, reports = [], []
    handle.partial.connect(lambda p: steps.append(p.name) if isinstance(p, flow.StepDone) else None)
    handle.finished.connect(reports.append)
    qtbot.waitUntil(lambda: w.project is not None, timeout=240_000)
    report = reports[0]
    assert steps == list(report.steps) == ["project", "capture", "impulse", "train"] and report.ok
    assert "every step passed" in text(report)[-1]
    assert w.project.path == workdir / "project" and w.stack.currentWidget() is w.pages[0]
    assert len(w.project.samples()) == 12 and w.project.labels() == sorted(flow.GESTURES)
    assert flow.is_trained_demo(workdir) and not flow.is_trained_demo(tmp_path)
    w.close()

    # the welcome screen's Demo project button: the prepared project opens at once
    monkeypatch.setattr(flow, "default_workdir", lambda: workdir)
    again = MainWindow(settings)
    qtbot.addWidget(again)
    again.welcome.demo_button.click()
    assert again.job is None and again.project.path == workdir / "project"
    again.close()

    # a folder the demo may not clear: one line in the status bar, nothing touched
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    monkeypatch.setattr(flow, "default_workdir", lambda: tmp_path / "mine")
    third = MainWindow(settings)
    qtbot.addWidget(third)
    third.welcome.demo_button.click()
    assert third.project is None and "not an earlier demo's folder" in third.statusBar().currentMessage()
    assert [p.name for p in (tmp_path / "mine").iterdir()] == ["notes.txt"]
    third.close()
