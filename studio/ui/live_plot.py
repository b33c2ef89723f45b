"""The live plot: a curve per axis over a rolling window, fed from a :class:`LiveStream`.

Cost control, measured on this kind of machine: the grid's redraw is the main cost, so there is
no grid; pyqtgraph's automatic downsampling does not engage at ~10,000 points over ~1,000
pixels, so a fixed peak-downsampling factor is chosen from the plot's pixel width;
``skipFiniteCheck`` skips a scan of every point. Each redraw takes what arrived since the last
one (sized from elapsed time, not timer ticks). When redraws fall behind, a flood guard thins
the curves further and says so; the recording itself keeps every frame.
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
        self._curves: list[pg.PlotDataItem] = []
        self._x = np.zeros(0)

        self.plot = pg.PlotWidget(background="w")
        self.plot.showGrid(x=False, y=False)
        self.plot.setLabel("bottom", "time", units="s")
        self.plot.setClipToView(True)
        self.plot.setMenuEnabled(False)
        self.legend = self.plot.addLegend(offset=(10, 10), labelTextColor="k")
        self.spectrogram = pg.PlotWidget(background="w")
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
        self.notice.setStyleSheet("color: #a05a00")

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
            pen = pg.mkPen(PALETTE[i % len(PALETTE)], width=1)
            curve = self.plot.plot(pen=pen, name=name, skipFiniteCheck=True)
            self._curves.append(curve)
        self.spectrogram.setVisible(info.kind == "audio")
        self._configure_downsampling()

    def _set_window(self, seconds: int) -> None:
        self.window_s = seconds
        self._configure_downsampling()

    def _set_paused(self, paused: bool) -> None:
        self.paused = paused
        self.pause_button.setText("Resume" if paused else "Pause")

    def _set_autorange(self, on: bool) -> None:
        if on:
            self.plot.enableAutoRange()
        else:
            self.plot.disableAutoRange()

    def _points(self) -> int:
        info = self.stream.info if self.stream else None
        return int(self.window_s * info.frequency_hz) if info else 0

    def _configure_downsampling(self) -> None:
        points = self._points()
        width = max(200, self.plot.width())
        factor = max(1, points // width) * self.thin
        for c in self._curves:
            c.setDownsampling(ds=factor, auto=False, method="peak")

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
        if len(self._x) != n:
            self._x = (np.arange(n) - n) / rate
        x = self._x[-len(data):]
        for i, curve in enumerate(self._curves):
            curve.setData(x, data[:, i], skipFiniteCheck=True)
        if stream.info.kind == "audio" and self.redraws % 5 == 0:
            self._update_spectrogram(data[-int(2 * rate):, 0], rate)
        self.redraws += 1

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
