"""Screenshots for the README and the user guide, taken from the real app on a virtual screen.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/make_screenshots.py

Makes a project in a temp folder, records from the in-app virtual board, and saves
docs/images/capture.png (live data on the plot), docs/images/impulse.png (windows, features
and the feature explorer), docs/images/train.png (curves, results, runs) and
docs/images/test.png (the testing set and live classification) and docs/images/deploy.png
(estimates for three boards, a build for the emulated board and its live classification).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from studio.dataset.synthetic import add_gestures
from studio.ui.app import make_app
from studio.ui.main_window import MainWindow

OUT = Path(__file__).resolve().parent / "images"
GESTURES = ("idle", "wave", "circle", "shake")


def pump(app: QApplication, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.005)


def wait_for(app: QApplication, done, seconds: float) -> None:
    end = time.monotonic() + seconds
    while not done() and time.monotonic() < end:
        pump(app, 0.2)


def train_and_test(app: QApplication, window: MainWindow) -> None:
    """More people's gestures (some held out for testing), a training run, the testing set and
    live classification of the virtual board."""
    add_gestures(window.project, GESTURES, range(0, 6), 12.0, 100.0, "training")
    add_gestures(window.project, GESTURES, range(6, 8), 12.0, 100.0, "testing")
    window.show_step(2)
    page = window.train
    page.params.set_value("epochs", 40)
    page.anomaly_check.setChecked(True)
    page.start_training()
    wait_for(app, lambda: page.job is None, 300)
    pump(app, 0.5)
    window.grab().save(str(OUT / "train.png"))
    print(f"wrote {OUT / 'train.png'}")
    window.show_step(3)
    test = window.test
    test.classify_all()
    wait_for(app, lambda: test.report is not None, 120)
    test.device_combo.setCurrentIndex(test.device_combo.findData("virtual"))
    test.gesture_combo.setCurrentText("circle")
    test.start_live()
    wait_for(app, lambda: len(test.live_results) >= 8, 30)
    window.grab().save(str(OUT / "test.png"))
    print(f"wrote {OUT / 'test.png'}")
    test.stop_live()
    wait_for(app, lambda: test.live_job is None, 10)
    window.show_step(4)
    view = window.pages[4].estimates
    for board in ("nano33ble", "nucleo_h743zi", "esp32dev"):
        view.add_board(board)
    view.estimate()
    pump(app, 0.5)
    wait_for(app, lambda: view.job is None and not view.queue, 180)
    view.measure_virtual()
    pump(app, 0.5)
    wait_for(app, lambda: view.job is None and not view.queue, 60)
    deploy = window.pages[4].deploy  # the virtual board: export, build, run a recorded sample on it
    deploy.export_button.click()
    wait_for(app, lambda: deploy.job is None, 120)
    deploy.build_button.click()
    pump(app, 0.5)
    wait_for(app, lambda: deploy.job is None, 180)
    sample = window.project.samples(category="testing")[0]
    deploy.panel.stream.choose("sample", sample.id)
    deploy.panel.stream.realtime.setChecked(False)
    deploy.panel.flash_button.click()
    pump(app, 0.5)
    wait_for(app, lambda: deploy.job is None, 180)
    pump(app, 1.0)
    window.grab().save(str(OUT / "deploy.png"))
    print(f"wrote {OUT / 'deploy.png'}")


def main() -> int:
    if not os.environ.get("DISPLAY"):
        print("run under xvfb-run", file=sys.stderr)
        return 1
    app = make_app()
    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(settings)
        window.resize(1500, 940)
        window.show()
        window.create_project(str(Path(tmp) / "gestures"))
        page = window.capture
        page.countdown_s = 0
        page.select_device("virtual")
        page.connect_device()
        for gesture, seconds in (("idle", 1.5), ("wave", 2.0), ("circle", 2.0), ("wave", 2.0)):
            page.gesture_combo.setCurrentText(gesture)
            page.label_edit.setText(gesture)
            page.length_spin.setValue(seconds)
            pump(app, 0.6)
            page.start_recording()
            pump(app, seconds + 0.6)
        page.gesture_combo.setCurrentText("wave")
        page.table.selectRow(2)
        pump(app, 2.5)
        OUT.mkdir(exist_ok=True)
        window.grab().save(str(OUT / "capture.png"))
        print(f"wrote {OUT / 'capture.png'}")
        for gesture in ("idle", "wave", "circle", "shake") * 2:  # more data for the explorer
            page.gesture_combo.setCurrentText(gesture)
            page.label_edit.setText(gesture)
            page.length_spin.setValue(3.0)
            pump(app, 0.4)
            page.start_recording()
            pump(app, 3.4)
        page.disconnect_device()
        window.show_step(1)
        impulse = window.impulse
        pump(app, 0.5)
        impulse.generate()
        end = time.monotonic() + 60
        while impulse.explorer_point_count() == 0 and time.monotonic() < end:
            pump(app, 0.2)
        impulse.window_index.setValue(1)
        pump(app, 0.5)
        window.grab().save(str(OUT / "impulse.png"))
        print(f"wrote {OUT / 'impulse.png'}")
        train_and_test(app, window)
        window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
