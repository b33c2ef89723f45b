"""Screenshots for the README and the user guide, taken from the real app on a virtual screen.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/make_screenshots.py [--out DIR]

Set TINYML_STUDIO_PIO_CORE to a temp folder so the Deploy build does not touch the app's own PlatformIO
core. Makes a project in a temp folder, records from the in-app virtual board, and saves, in docs/images
(or DIR):

- welcome.png: the welcome screen, with the project in the recent list;
- capture.png: live data on the plot, the dataset and a selected sample;
- impulse.png: windows over a sample, the features of one window, the feature explorer;
- train.png: curves, results and the runs table;
- test.png: the testing set and live classification of the virtual board;
- deploy.png: estimates for three boards, a build for the emulated board and its live classification;
- deploy-board.png: the same page set for a real board (nano33ble): its estimate, an export and its notes,
  the port and monitor controls;
- train-dark.png: the train page in the dark theme.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from studio.dataset.synthetic import add_gestures
from studio.project import Project
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


def shoot(window: MainWindow, name: str) -> None:
    window.grab().save(str(OUT / name))
    print(f"wrote {OUT / name}")


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
    shoot(window, "train.png")
    window.show_step(3)
    test = window.test
    test.classify_all()
    wait_for(app, lambda: test.report is not None, 120)
    test.device_combo.setCurrentIndex(test.device_combo.findData("virtual"))
    test.gesture_combo.setCurrentText("circle")
    test.start_live()
    wait_for(app, lambda: len(test.live_results) >= 8, 30)
    shoot(window, "test.png")
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
    shoot(window, "deploy.png")
    deploy_board(app, window)


def deploy_board(app: QApplication, window: MainWindow) -> None:
    """The Deploy page for a real board: its estimate beside the export, the notes of an export (the board's
    platform comes from PlatformIO's registry), and the port and monitor rows instead of the stream."""
    deploy = window.pages[4].deploy
    deploy.board_combo.setCurrentIndex(deploy.board_combo.findData("nano33ble"))
    deploy.target_combo.setCurrentIndex(deploy.target_combo.findData("firmware"))
    deploy.panel.live.clear()  # the emulated board's results are not this board's
    pump(app, 0.3)
    deploy.export_button.click()
    wait_for(app, lambda: deploy.job is None, 120)
    pump(app, 0.5)
    shoot(window, "deploy-board.png")
    window.set_theme("dark")  # the same window in the dark theme (the choice stays in this run's settings)
    window.show_step(2)
    pump(app, 1.0)
    shoot(window, "train-dark.png")


def main(argv: list[str] | None = None) -> int:
    global OUT
    parser = argparse.ArgumentParser(description="Retake the screenshots of the README and the user guide.")
    parser.add_argument("--out", type=Path, default=OUT, help=f"where the images go (default {OUT})")
    OUT = parser.parse_args(argv).out.resolve()
    if not os.environ.get("DISPLAY"):
        print("run under xvfb-run", file=sys.stderr)
        return 1
    app = make_app()
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "gestures"
        Project.create(folder).close()
        settings = QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat)
        settings.setValue("recent", [str(folder)])  # the welcome screen lists it
        window = MainWindow(settings)
        window.resize(1500, 940)
        window.show()
        pump(app, 0.5)
        shoot(window, "welcome.png")
        window.open_project(str(folder))
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
        shoot(window, "capture.png")
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
        shoot(window, "impulse.png")
        train_and_test(app, window)
        window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
