"""The capture page end to end, offscreen: the virtual board, recording, curating, undo."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from studio.ui.main_window import MainWindow


@pytest.fixture
def window(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    w = MainWindow(settings)
    qtbot.addWidget(w)
    w.show()
    w.create_project(str(tmp_path / "gestures"))
    yield w
    w.close()


def record(qtbot, page, label, gesture, seconds):
    rows = page.dataset.table.rowCount()
    page.gesture_combo.setCurrentText(gesture)
    page.label_edit.setText(label)
    page.length_spin.setValue(seconds)
    page.record_button.click()
    qtbot.waitUntil(lambda: page.dataset.table.rowCount() == rows + 1, timeout=15_000)


def test_capture_page_end_to_end(qtbot, window):
    page = window.capture
    page.countdown_s = 1
    page.select_device("virtual")
    page.connect_button.click()
    qtbot.waitUntil(lambda: page.record_button.isEnabled(), timeout=10_000)
    assert page.axes_edit.text() == "accX, accY, accZ"
    qtbot.waitUntil(lambda: page.live.redraws > 10, timeout=5000)

    record(qtbot, page, "idle", "idle", 1.0)
    record(qtbot, page, "wave", "wave", 2.0)
    record(qtbot, page, "wave", "wave", 1.5)
    project = window.project
    samples = project.samples()
    assert [s.label for s in samples] == ["idle", "wave", "wave"]
    assert [s.frames for s in samples] == [100, 200, 150]
    assert [page.dataset.table.item(r, 1).text() for r in range(3)] == ["idle", "wave", "wave"]
    assert page.dataset.table.item(1, 2).text() == "2.00 s"
    # the wave sample moves much more than the idle one
    assert project.read(samples[1]).std(axis=0).max() > 3 * project.read(samples[0]).std(axis=0).max()

    # crop: select the sample, drag the region, crop
    page.dataset.table.selectRow(1)
    assert page.dataset.region.isVisible()
    page.dataset.region.setRegion((0.5, 1.5))
    page.dataset.buttons["crop"].click()
    cropped = project.get(samples[1].id)
    assert (cropped.crop_start, cropped.crop_end) == (50, 150)
    assert page.dataset.table.item(1, 2).text() == "1.00 s"

    # split the 1.5 s sample into 500 ms windows
    page.dataset.table.selectRow(2)
    page.dataset.split_spin.setValue(500)
    page.dataset.buttons["split"].click()
    assert page.dataset.table.rowCount() == 5
    assert sorted(s.frames for s in project.samples(label="wave")) == [50, 50, 50, 200]

    # delete one, then undo
    page.dataset.table.selectRow(0)
    page.dataset.buttons["delete"].click()
    assert page.dataset.table.rowCount() == 4 and not project.samples(label="idle")
    window.undo_stack.undo()
    assert page.dataset.table.rowCount() == 5
    (idle,) = project.samples(label="idle")
    assert idle.id == samples[0].id and idle.frames == 100

    # relabel and move, undone
    page.dataset.table.selectRow(0)
    page.dataset.relabel_edit.setText("rest")
    page.dataset.buttons["relabel"].click()
    page.dataset.buttons["test"].click()
    assert project.get(idle.id).label == "rest" and project.get(idle.id).category == "testing"
    window.undo_stack.undo()
    window.undo_stack.undo()
    assert project.get(idle.id).label == "idle" and project.get(idle.id).category == "training"

    page.connect_button.click()  # disconnect
    assert page.stream is None and not page.record_button.isEnabled()
    page.gyro_check.setChecked(True)
    page.connect_button.click()
    qtbot.waitUntil(lambda: page.record_button.isEnabled(), timeout=10_000)
    assert page.axes_edit.text() == "accX, accY, accZ, gyrX, gyrY, gyrZ"
    page.disconnect_device()


def test_unplugged_board_offers_to_save_the_truncated_recording(qtbot, window, tmp_path):
    from studio.devices.virtual_board import VirtualBoard

    link = tmp_path / "board"
    board = VirtualBoard(rate_hz=100, gesture="shake", link=link)
    board.start()
    page = window.capture
    page.countdown_s = 0
    page.device_combo.addItem("test board", str(link))
    page.select_device(str(link))
    page.baud_edit.setText("115200")
    page.connect_button.click()
    qtbot.waitUntil(lambda: page.record_button.isEnabled(), timeout=10_000)
    page.length_spin.setValue(5.0)
    page.label_edit.setText("shake")
    page.record_button.click()
    qtbot.wait(1000)
    board.stop()
    qtbot.waitUntil(lambda: page.save_truncated_button.isVisible(), timeout=10_000)
    assert "went away" in page.truncated_label.text()
    page.save_truncated_button.click()
    (s,) = window.project.samples()
    assert s.name.endswith("(truncated)") and 50 <= s.frames < 500
    assert "disconnected" in page.status.text()
    # the board comes back at the same path: the page reconnects by itself
    again = VirtualBoard(rate_hz=100, link=link)
    again.start()
    qtbot.waitUntil(lambda: page.record_button.isEnabled(), timeout=10_000)
    again.stop()
    page.disconnect_device()


def test_device_list_follows_boards_that_come_and_go(qtbot, window, tmp_path, monkeypatch):
    import subprocess
    import sys

    from conftest import ROOT

    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))  # the registry of running virtual boards
    page = window.capture
    board = subprocess.Popen([sys.executable, "-m", "studio", "virtual-board", "--seconds", "30"], cwd=ROOT,
                             env=dict(__import__("os").environ), stdout=subprocess.PIPE, text=True)
    try:
        port = board.stdout.readline().strip()
        qtbot.waitUntil(lambda: page.device_combo.findData(port) >= 0, timeout=5000)
    finally:
        board.terminate()
        board.wait(10)
    qtbot.waitUntil(lambda: page.device_combo.findData(port) < 0, timeout=5000)
