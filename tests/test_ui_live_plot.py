"""The live plot: exact peak decimation, the flood guard, audio spectrogram."""

from __future__ import annotations

import numpy as np

from studio.devices.live import History
from studio.devices.sources import StreamInfo
from studio.ui.live_plot import FRAME_MS, LivePlot, peak_decimate


def test_peak_decimation_keeps_every_extreme():
    rng = np.random.default_rng(0)
    data = rng.normal(size=(10_007, 3))
    data[5000, 1] = 50.0  # a single-sample spike must survive
    x, y = peak_decimate(data, 8, 1000.0)
    assert y.shape == (2 * (10_007 // 8), 3)
    assert y[:, 1].max() == 50.0
    kept = data[10_007 % 8 :]
    np.testing.assert_array_equal(y[0::2], kept.reshape(-1, 8, 3).min(axis=1))
    assert x[-1] == -1 / 1000.0 and np.all(np.diff(x) >= 0)
    x1, y1 = peak_decimate(data, 1, 1000.0)
    np.testing.assert_array_equal(y1, data)


class Stream:
    def __init__(self, kind="sensor", channels=3, rate=100.0):
        self.info = StreamInfo(kind, [f"c{i}" for i in range(channels)], [""] * channels, rate, "test")
        self.history = History(int(rate * 60), channels)

    def latest(self, n):
        return self.history.latest(n)


def test_flood_guard_thins_and_says_so_then_recovers(qtbot):
    plot = LivePlot()
    qtbot.addWidget(plot)
    late = 3 * FRAME_MS / 1000
    for _ in range(10):
        plot._flood_guard(late)
    assert plot.thin == 2 and "faster than it can be drawn" in plot.notice.text()
    for _ in range(12):
        plot._flood_guard(FRAME_MS / 1000)
    assert plot.thin == 1 and plot.notice.text() == ""


def test_draws_curves_and_an_audio_spectrogram(qtbot):
    plot = LivePlot()
    qtbot.addWidget(plot)
    plot.resize(800, 400)
    plot.show()
    stream = Stream("audio", 1, 16000.0)
    t = np.arange(32000) / 16000
    stream.history.add((8000 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16).reshape(-1, 1))
    plot.attach(stream)
    qtbot.waitUntil(lambda: plot.redraws >= 6, timeout=5000)
    assert plot.spectrogram.isVisible()
    assert len(plot.legend.items) == 1  # one entry per axis
    image = plot.image.image
    assert image is not None and image.shape[1] == 129
    assert int(np.argmax(image.mean(axis=0))) == 16  # 1 kHz in 62.5 Hz bins
    plot.attach(None)
