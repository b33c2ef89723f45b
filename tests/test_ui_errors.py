"""Errors reach the user as one line naming the file or device and the reason, never as a traceback or a
wrapped repr: jobs the system refuses, refused dataset edits and their undo, a project with unusable saved
settings, and anything escaping a slot."""

from __future__ import annotations

import json
import sys

import pytest
from PySide6.QtCore import QSettings

from studio.dataset.synthetic import add_gestures
from studio.project import Project, ProjectError
from studio.ui.main_window import MainWindow
from studio.ui.messages import describe, install_excepthook


@pytest.fixture
def window(qtbot, tmp_path):
    w = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.show()
    yield w
    w.close()


def status(w: MainWindow) -> str:
    return w.statusBar().currentMessage()


def test_describe_is_one_line_naming_the_file():
    assert describe(ProjectError("/p/project.json: not valid JSON\nmore")) == "/p/project.json: not valid JSON"
    assert describe(PermissionError(13, "Permission denied", "/p/deploy")) == "/p/deploy: Permission denied"
    assert describe(OSError(18, "Invalid cross-device link", "/a", None, "/b")) == "/a -> /b: Invalid cross-device link"
    assert describe(OSError(28, "No space left on device")) == "No space left on device"
    assert describe(KeyError("x")) == "internal error KeyError: 'x'"
    assert describe(ValueError("line 1\nline 2")) == "internal error ValueError: line 1"


def refused_by_the_system(params, progress):
    raise PermissionError(13, "Permission denied", str(params))


def test_a_job_the_system_refuses_names_the_file_and_the_reason(qtbot, window, tmp_path):
    w = window
    target = tmp_path / "deploy" / "board"
    handle = w.runner.start("Export", refused_by_the_system, target)
    with qtbot.waitSignal(handle.failed, timeout=10_000) as blocker:
        pass
    first, *rest = blocker.args[0].splitlines()
    assert first == f"{target}: Permission denied"  # was "internal error PermissionError: [Errno 13] ..."
    assert any("Traceback" in line for line in rest)  # the log keeps where
    qtbot.waitUntil(lambda: status(w) == f"{target}: Permission denied", timeout=5000)


def test_a_refused_edit_is_one_line_and_leaves_nothing_to_undo(qtbot, window, tmp_path):
    with Project.create(tmp_path / "p") as project:
        add_gestures(project, ("idle",), range(1), 2.0, 100.0, "training")
    w = window
    assert w.open_project(str(tmp_path / "p"))
    page = w.capture
    page.dataset.table.selectRow(0)
    page.dataset.relabel_edit.setText("   ")
    page.dataset.buttons["relabel"].click()
    assert status(w) == "bad label '   ': empty label"  # not "Error calling Python override of ...redo()"
    assert w.undo_stack.count() == 0 and w.project.samples()[0].label == "idle"

    # an undo the project refuses (its data gone meanwhile) says so instead of raising through the undo stack
    page.dataset.table.selectRow(0)
    page.dataset.buttons["delete"].click()
    assert w.undo_stack.count() == 1 and not w.project.samples()

    def gone(sample, values):
        raise ProjectError(f"sample {sample.id}: cannot restore (disk full)")

    w.project.restore = gone
    w.undo_stack.undo()
    assert status(w) == "sample 1: cannot restore (disk full)"


def test_a_project_with_unusable_saved_settings_opens_with_the_defaults(qtbot, window, tmp_path):
    Project.create(tmp_path / "p").close()
    path = tmp_path / "p" / "project.json"
    config = json.loads(path.read_text())
    config["settings"]["impulse"] = {"window_ms": 1000, "stride_ms": 500, "block": "wavelets"}
    config["settings"]["learn"] = {"classifier": {"epochs": "lots"}, "layers": [{"type": "lstm"}]}
    path.write_text(json.dumps(config))
    w = window
    assert w.open_project(str(tmp_path / "p"))  # was: an exception half-way through opening
    assert status(w).startswith(f"{path}: the saved impulse is not usable (unknown DSP block 'wavelets'")
    assert w.impulse.block_combo.currentData() == "spectral"
    w.show_step(2)
    assert f"{path}: saved training settings not used, defaults shown: epochs must be a whole number, got 'lots'" \
        in w.train.settings_message.text()
    assert w.train.params.widgets["epochs"][1].value() == 30
    assert "lstm" in w.train.layer_editor.message.text()


def test_an_error_escaping_a_slot_reaches_the_window_as_one_line(qtbot, window, monkeypatch, capsys):
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # put back after the test
    w = window
    install_excepthook(w)
    try:
        {}["settings"]
    except KeyError:
        sys.excepthook(*sys.exc_info())
    assert status(w) == "internal error KeyError: 'settings'"
    assert "Traceback" in w.log_view.toPlainText()  # the details, for a bug report
    assert "KeyError" in capsys.readouterr().err
    try:
        raise FileNotFoundError(2, "No such file or directory", "/dev/ttyACM0")
    except OSError:
        sys.excepthook(*sys.exc_info())
    assert status(w) == "/dev/ttyACM0: No such file or directory"


@pytest.mark.parametrize("answer", ["yes", "no"])
def test_opening_a_damaged_project_offers_the_repair(qtbot, window, tmp_path, monkeypatch, answer):
    from PySide6.QtWidgets import QMessageBox

    with Project.create(tmp_path / "p") as project:
        add_gestures(project, ("idle", "wave"), range(2), 2.0, 100.0, "training")
        count = len(project.samples())
    (tmp_path / "p" / "index.sqlite").unlink()
    import sqlite3

    db = sqlite3.connect(tmp_path / "p" / "index.sqlite")  # an index without its samples table
    db.execute("PRAGMA user_version=1")
    db.commit()
    db.close()
    asked = []
    reply = QMessageBox.StandardButton.Yes if answer == "yes" else QMessageBox.StandardButton.No
    monkeypatch.setattr(QMessageBox, "question", lambda parent, title, text, *a: asked.append(text) or reply)
    assert window.open_project(str(tmp_path / "p")) is False
    assert asked and "has no samples table" in asked[0] and "quarantine" in asked[0]
    if answer == "no":
        assert window.project is None and "check" in status(window)
        return
    qtbot.waitUntil(lambda: window.project is not None, timeout=20_000)
    assert len(window.project.samples()) == count
    assert "repaired: index.sqlite" in window.log_view.toPlainText()
