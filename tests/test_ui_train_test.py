"""The Train and Test pages on a small, fast model: settings, the layer editor, curves drawn
while training, stopping, runs, the testing set, and live classification of the virtual board."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from studio.dataset.synthetic import add_gestures
from studio.dsp import features
from studio.dsp.windowing import ImpulseConfig
from studio.learn import blocks
from studio.project import Project
from studio.ui.main_window import MainWindow

GESTURES = ("idle", "wave", "circle", "shake")


def test_train_and_test_pages(qtbot, tmp_path):
    with Project.create(tmp_path / "p") as project:
        add_gestures(project, GESTURES, range(0, 3), 6.0, 100.0, "training")
        add_gestures(project, GESTURES, range(3, 4), 6.0, 100.0, "testing")
        features.save_config(project, ImpulseConfig(2000, 500, "spectral"))
    w = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.show()
    w.open_project(str(tmp_path / "p"))
    w.show_step(2)
    page = w.train
    assert page.train_button.isEnabled() and page.layer_editor.list.count() == 3  # dense, dense, output
    assert "parameters" in page.layer_editor.message.text()

    # the layer editor refuses what the firmware cannot run, and saves what it can
    assert not page.layer_editor.add_layer("lstm")
    assert "WHILE" in page.layer_editor.message.text()
    assert page.layer_editor.add_layer("dropout")
    assert blocks.load(page.project).layers[1] == {"type": "dropout"}
    page.layer_editor.remove_layer()
    assert blocks.load(page.project).layers is None  # back to the template
    page.params.set_value("epochs", 6)
    page.params.set_value("validation_split", 0.34)
    assert blocks.load(page.project).classifier == {"epochs": 6, "validation_split": 0.34}

    page.train_button.click()
    qtbot.waitUntil(lambda: page.job is None and page.runs_table.rowCount() == 1, timeout=120_000)
    assert page.shown_curves["run 1"]["loss"] and len(page.shown_curves["run 1"]["val_accuracy"]) == 6
    assert "Run 1" in page.summary.text() and "int8" in page.summary.text()
    assert sum(map(sum, page.confusion.cell_values())) == 4 * 9  # 4 samples of 6 s: 9 windows each
    assert page.classes.rowCount() == 4

    # stopping keeps the best model so far and still makes a run
    page.params.set_value("epochs", 2000)  # far more than can run before the cancel lands, even on a busy machine
    page.train_button.click()
    qtbot.waitUntil(lambda: len(page.live_curves.get("loss", [])) >= 2, timeout=60_000)
    page.cancel_button.click()
    qtbot.waitUntil(lambda: page.job is None and page.runs_table.rowCount() == 2, timeout=120_000)
    assert "stopped" in page.runs_table.item(1, 0).text()
    page.runs_table.selectRow(0)
    page.choose_button.click()
    assert page.runs_table.item(0, 8).text() == "yes"

    w.show_step(3)
    test = w.test
    assert test.run_combo.currentData() == 1 and "(deploy)" in test.run_combo.currentText()
    test.classify_button.click()
    qtbot.waitUntil(lambda: test.report is not None, timeout=60_000)
    assert test.samples_table.rowCount() == 4 and "window accuracy" in test.summary.text()
    assert sum(map(sum, test.confusion.cell_values())) == 36
    test.model_combo.setCurrentText("float")
    assert sum(map(sum, test.confusion.cell_values())) == 36

    test.device_combo.setCurrentIndex(test.device_combo.findData("virtual"))
    test.gesture_combo.setCurrentText("wave")
    test.live_button.click()
    qtbot.waitUntil(lambda: len(test.live_results) >= 3, timeout=30_000)
    assert test.live_table.rowCount() == 4 and test.live_history.count() >= 3
    assert "(int8)" in test.live_label.text()
    test.live_button.click()
    qtbot.waitUntil(lambda: test.live_job is None, timeout=10_000)
    assert test.live_button.text() == "Start live classification"
    w.close()
