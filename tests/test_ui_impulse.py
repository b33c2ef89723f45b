"""The impulse page: parameters drive the preview; the explorer shows every window."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSettings

from studio.devices.gestures import GestureSynth
from studio.formats.sample import SENSOR, SampleHeader, Sensor
from studio.project import Project
from studio.ui.main_window import MainWindow

AXES = [Sensor(n, "m/s2") for n in ("accX", "accY", "accZ")]


def open_on_impulse(qtbot, tmp_path, project: str):
    """The main window on the Impulse step of a project, once its first preview is drawn."""
    w = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.show()
    w.open_project(str(tmp_path / project))
    w.show_step(1)
    qtbot.waitUntil(lambda: hasattr(w.impulse, "shown_features"), timeout=5000)
    return w, w.impulse


def test_impulse_page_preview_and_explorer(qtbot, tmp_path):
    with Project.create(tmp_path / "p") as project:
        for i, gesture in enumerate(["idle", "wave", "circle"] * 3):
            values = GestureSynth(gesture, 100, seed=i).next(300)
            project.add_sample(gesture, SampleHeader(SENSOR, AXES, 10.0), values, "training")
    w, page = open_on_impulse(qtbot, tmp_path, "p")
    assert page.block_combo.currentData() == "spectral"
    assert "45 windows in all" in page.notes.text() and "circle 15/0" in page.notes.text()
    assert len(page._window_items) == 5  # 3 s sample, 1 s windows every 0.5 s

    before = page.shown_features.copy()
    page.params.set_value("filter_cutoff", 8.0)
    qtbot.waitUntil(lambda: not np.array_equal(page.shown_features, before), timeout=5000)
    assert page.project.config.settings["impulse"]["params"] == {"filter_cutoff": 8.0}

    page.window_spin.setValue(2000)
    qtbot.waitUntil(lambda: len(page._window_items) == 3, timeout=5000)

    page.params.set_value("fft_length", 4096)
    page.params.set_value("filter_cutoff", 80.0)  # above half the rate: shown, not raised
    qtbot.waitUntil(lambda: "cutoff 80 Hz" in page.notes.text(), timeout=5000)
    page.params.set_value("filter_cutoff", 3.0)
    page.params.set_value("fft_length", 128)
    qtbot.waitUntil(lambda: "windows in all" in page.notes.text(), timeout=5000)

    page.generate_button.click()
    try:
        qtbot.waitUntil(lambda: page.explorer_point_count() == 27, timeout=60_000)  # 9 samples x 3 windows
    except Exception:
        raise AssertionError(f"no explorer; log:\n{w.log_view.toPlainText()}") from None
    assert len(page.scatter_items) == 3  # one colour per label
    page.open_window(13)
    fs = page.feature_set
    assert page.sample_combo.currentData() == int(fs.sample_ids[13])
    assert page.window_index.value() == int(fs.window_index[13])

    page.method_combo.setCurrentIndex(1)  # t-SNE
    qtbot.waitUntil(lambda: page.explorer_point_count() == 27 and page.points is not None, timeout=60_000)
    w.close()


def test_audio_project_gets_an_audio_block_and_a_spectrogram_view(qtbot, tmp_path):
    from studio.formats.sample import AUDIO, audio_sensors

    with Project.create(tmp_path / "a") as project:
        t = np.arange(16000) / 16000
        for f in (500, 1000, 2000):
            project.add_sample(f"tone{f}", SampleHeader(AUDIO, audio_sensors(1), 1000 / 16000),
                               (8000 * np.sin(2 * np.pi * f * t)).astype(np.int16).reshape(-1, 1))
    w, page = open_on_impulse(qtbot, tmp_path, "a")
    assert page.block_combo.currentData() == "mfe" and page.shown_features.ndim == 2
    assert "FFT length raised" in page.notes.text()
    w.close()
