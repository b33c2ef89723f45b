"""The live plot: a curve per axis over a rolling window, fed from a :class:`LiveStream`.

Cost control, measured on this kind of machine: the grid's redraw is the main cost, so there is
no grid; pyqtgraph's automatic downsampling does not engage at ~10,000 points over ~1,000
pixels, so the curves are peak-decimated here (min and max per pixel column, all channels in
one numpy pass) with the factor taken from the plot's pixel width; ``skipFiniteCheck`` skips a
scan of every point. The x range is fixed and the y range is set here with hysteresis, so the
axes are not re-laid out on every frame (pyqtgraph's auto-range scans every curve's bounds and
re-renders the axes each time). When redraws fall behind, a flood guard thins the curves
further and says so; the recording itself keeps every frame.
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.ui import theme

PALETTE = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45",
           "#469990", "#9a6324", "#800000", "#808000", "#000075", "#a9a9a9", "#fabed4", "#ffd8b1"]
FRAME_MS = 20  # 50 redraws per second


class LivePlot(QWidget):
    thinning_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.stream = None
        self.window_s = 10
        self.paused = False
        self.thin = 1  # extra thinning from the flood guard
        self.redraws = 0
        self._late = 0
        self._last_tick = 0.0
        self._curves: list[pg.PlotCurveItem] = []
        self._factor = 1
        self._x = np.zeros(0)

        self.plot = theme.plot_widget()
        self.plot.showGrid(x=False, y=False)
        self.plot.setLabel("bottom", "time (s)")
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=True)
        self.plot.disableAutoRange()
        self._y_range: tuple[float, float] | None = None
        self.legend = theme.add_legend(self.plot, offset=(10, 10))
        self.spectrogram = theme.plot_widget()
        self.spectrogram.setMenuEnabled(False)
        self.spectrogram.setLabel("left", "frequency", units="Hz")
        self.spectrogram.setLabel("bottom", "time", units="s")
        self.image = pg.ImageItem()
        self.image.setColorMap(pg.colormap.get("viridis"))
        self.spectrogram.addItem(self.image)
        self.spectrogram.hide()

        self.window_spin = QSpinBox()
        self.window_spin.setRange(1, 60)
        self.window_spin.setValue(self.window_s)
        self.window_spin.setSuffix(" s")
        self.window_spin.setToolTip("How many seconds of the stream the plot shows (1 to 60)")
        self.window_spin.valueChanged.connect(self._set_window)
        self.pause_button = QPushButton("Pause")
        self.pause_button.setCheckable(True)
        self.pause_button.setToolTip("Freeze the plot (recording goes on)")
        self.pause_button.toggled.connect(self._set_paused)
        self.autorange = QCheckBox("Auto-range")
        self.autorange.setChecked(True)
        self.autorange.setToolTip("Fit the vertical axis to the data shown")
        self.autorange.toggled.connect(self._set_autorange)
        self.notice = QLabel("")
        theme.set_tone(self.notice, "warning")

        bar = QHBoxLayout()
        bar.addWidget(QLabel("Window"))
        bar.addWidget(self.window_spin)
        bar.addWidget(self.pause_button)
        bar.addWidget(self.autorange)
        bar.addStretch(1)
        bar.addWidget(self.notice)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.plot, 3)
        layout.addWidget(self.spectrogram, 2)

        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self.refresh)

    # ------------------------------------------------------------------ binding

    def attach(self, stream) -> None:
        """Follow a LiveStream (``None`` detaches)."""
        self.stream = stream
        self._curves.clear()
        self.plot.clear()
        self.legend.clear()
        self.redraws = 0
        if stream is None:
            self.timer.stop()
            return
        self.timer.start(FRAME_MS)

    def _build(self, info) -> None:
        for i, name in enumerate(info.axes):
            curve = pg.PlotCurveItem(pen=pg.mkPen(PALETTE[i % len(PALETTE)], width=1), name=name,
                                     skipFiniteCheck=True)
            self.plot.addItem(curve)  # a named item joins the legend by itself
            self._curves.append(curve)
        self.spectrogram.setVisible(info.kind == "audio")
        self._configure_downsampling()
        self._y_range = None

    def _set_window(self, seconds: int) -> None:
        self.window_s = seconds
        self._configure_downsampling()
        self.plot.setXRange(-seconds, 0, padding=0)

    def _set_paused(self, paused: bool) -> None:
        self.paused = paused
        self.pause_button.setText("Resume" if paused else "Pause")

    def _set_autorange(self, on: bool) -> None:
        self._y_range = None if on else self._y_range

    def _points(self) -> int:
        info = self.stream.info if self.stream else None
        return int(self.window_s * info.frequency_hz) if info else 0

    def _configure_downsampling(self) -> None:
        """Points per drawn min/max pair: about one pair per pixel column, times the flood guard's."""
        points = self._points()
        width = max(200, self.plot.width())
        self._factor = max(1, points // width) * self.thin
        self.plot.setXRange(-self.window_s, 0, padding=0)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._configure_downsampling()

    # ------------------------------------------------------------------ drawing

    def refresh(self) -> None:
        now = time.perf_counter()
        if self._last_tick:
            self._flood_guard(now - self._last_tick)
        self._last_tick = now
        stream = self.stream
        if stream is None or stream.info is None or self.paused:
            return
        if not self._curves:
            self._build(stream.info)
        n = self._points()
        data = stream.latest(n)
        if not len(data):
            return
        rate = stream.info.frequency_hz
        x, y = peak_decimate(data, self._factor, rate)
        for i, curve in enumerate(self._curves):
            curve.setData(x, y[:, i], skipFiniteCheck=True)
        if self.autorange.isChecked():
            self._fit_y(float(y.min()), float(y.max()))
        if stream.info.kind == "audio" and self.redraws % 5 == 0:
            self._update_spectrogram(data[-int(2 * rate):, 0], rate)
        self.redraws += 1

    def _fit_y(self, lo: float, hi: float) -> None:
        """Change the y range only when the data leaves it or fills less than half of it."""
        pad = 0.05 * max(hi - lo, 1e-9)
        current = self._y_range
        if current is not None:
            span = current[1] - current[0]
            if current[0] <= lo and hi <= current[1] and (hi - lo) >= 0.5 * span:
                return
        self._y_range = (lo - pad, hi + pad)
        self.plot.setYRange(*self._y_range, padding=0)

    def _flood_guard(self, interval: float) -> None:
        """Thin more when redraws come late repeatedly; thin less when they are on time again."""
        if interval > 1.6 * FRAME_MS / 1000:
            self._late += 1
        elif self._late > 0:
            self._late -= 1
        old = self.thin
        if self._late >= 10 and self.thin < 64:
            self.thin *= 2
            self._late = 0
        elif self._late == 0 and self.thin > 1 and interval < 1.1 * FRAME_MS / 1000:
            self.thin //= 2
        if self.thin != old:
            self._configure_downsampling()
            self.notice.setText(f"Data arrives faster than it can be drawn: showing 1 in {self.thin} points "
                                "more (all are recorded)" if self.thin > 1 else "")
            self.thinning_changed.emit(self.thin)

    def _update_spectrogram(self, audio: np.ndarray, rate: float) -> None:
        nfft, hop = 256, 128
        if len(audio) < nfft:
            return
        frames = np.lib.stride_tricks.sliding_window_view(audio.astype(np.float32), nfft)[::hop]
        power = np.abs(np.fft.rfft(frames * np.hanning(nfft).astype(np.float32), axis=1)) ** 2
        db = 10 * np.log10(power + 1e-3)
        self.image.setImage(db, autoLevels=False, levels=(db.max() - 80, db.max()))
        self.image.setRect(-len(audio) / rate, 0, len(audio) / rate, rate / 2)


def peak_decimate(data: np.ndarray, factor: int, rate: float) -> tuple[np.ndarray, np.ndarray]:
    """Min and max of every ``factor`` frames, all channels at once; x in seconds before now."""
    n = len(data)
    if factor <= 1:
        return (np.arange(n) - n) / rate, np.asarray(data, dtype=np.float64)
    m = (n // factor) * factor
    head = n - m  # the oldest frames that do not fill a block are dropped
    blocks = np.asarray(data[head:], dtype=np.float64).reshape(m // factor, factor, -1)
    y = np.empty((2 * (m // factor), data.shape[1]))
    y[0::2] = blocks.min(axis=1)
    y[1::2] = blocks.max(axis=1)
    starts = (np.arange(m // factor) * factor + head - n) / rate
    x = np.repeat(starts, 2)
    x[1::2] += (factor - 1) / rate
    return x, y


def plot_sample(plot: pg.PlotWidget, values: np.ndarray, interval_ms: float, max_points: int = 4000) -> None:
    """A recorded sample, a curve per axis, thinned to about ``max_points`` points per curve."""
    t = np.arange(len(values)) * interval_ms / 1000
    step = max(1, len(values) // max_points)
    for i in range(values.shape[1]):
        plot.plot(t[::step], values[::step, i], pen=pg.mkPen(PALETTE[i % len(PALETTE)]), skipFiniteCheck=True)
