"""Watching the built firmware run: the stream fed to the emulated board (a recorded sample of the project or a
gesture of the virtual sensor), and the live classification view (a bar per class and a timeline of the top
class) fed with the parsed lines of the serial monitor or of the emulated run. The controls are flash_panel's."""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from studio.deploy.running.result_line import ErrorLine, ImpulseLine, ResultLine
from studio.deploy.running.streams import stream_frames, streams_for
from studio.errors import StudioError
from studio.learn.runs import Run
from studio.project import Project
from studio.ui import theme

TIMELINE = 600  # results kept on the timeline
BAR_STEPS = 1000  # a bar's value is the score in thousandths
REDRAW_MS = 50


def _plain(text: str = "") -> QLabel:
    """A label that shows text as it is (labels come from the user: never rich text)."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    return label


class LiveResults(QWidget):
    """A bar per class with the latest scores, the top class, and a timeline of the top class."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.labels: tuple[str, ...] = ()
        self.results: deque[ResultLine] = deque(maxlen=TIMELINE)
        self.count = 0
        self.errors = 0
        self.bars: dict[str, QProgressBar] = {}
        self.title = _plain("No results yet: flash a board and monitor it, or run the emulated board.")
        self.top = _plain("")
        self.top.setStyleSheet("font-size: 16pt; font-weight: bold")
        self.problems = _plain("")
        theme.set_tone(self.problems, "error")
        self.bars_widget = QWidget()
        self.bars_form = QFormLayout(self.bars_widget)
        self.plot = theme.plot_widget()
        self.plot.setLabel("bottom", "time (s)")
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setMinimumHeight(140)
        self.curve = self.plot.plot([], [], pen=pg.mkPen("#4363d8", width=1), symbol="s", symbolSize=6,
                                    symbolBrush="#4363d8", symbolPen=None)
        self._dirty = False
        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self.flush)
        layout = QVBoxLayout(self)
        for w in (self.title, self.top, self.bars_widget, self.problems):
            layout.addWidget(w)
        layout.addWidget(self.plot, 1)

    def clear(self, note: str = "") -> None:
        self.results.clear()
        self.count = self.errors = 0
        self._set_labels(())
        self.title.setText(note)
        self.top.setText("")
        self.problems.setText("")
        self._dirty = True
        self.flush()

    def _set_labels(self, labels: tuple[str, ...]) -> None:
        if labels == self.labels:
            return
        self.labels = labels
        while self.bars_form.rowCount():
            self.bars_form.removeRow(0)
        self.bars = {}
        for label in labels:
            bar = QProgressBar()
            bar.setRange(0, BAR_STEPS)
            bar.setTextVisible(True)
            self.bars[label] = bar
            self.bars_form.addRow(_plain(label), bar)
        self.plot.getAxis("left").setTicks([[(i, label) for i, label in enumerate(labels)]])
        self.plot.setYRange(-0.5, max(len(labels) - 0.5, 0.5), padding=0)

    def show_line(self, parsed: Any) -> None:
        """Show one parsed line of the firmware (anything else is ignored)."""
        if isinstance(parsed, ImpulseLine):
            f = parsed.fields
            self.title.setText(f"{parsed.project} on {parsed.board}: {f.get('classes', '?')} classes, window "
                               f"{f.get('window', '?')} frames at {f.get('hz', '?')} Hz")
        elif isinstance(parsed, ErrorLine):
            self.errors += 1
            self.problems.setText(f"{self.errors} error line(s); last: stage {parsed.stage}, code {parsed.code}")
        elif isinstance(parsed, ResultLine):
            if parsed.labels != self.labels:
                self.results.clear()
                self._set_labels(parsed.labels)
            self.results.append(parsed)
            self.count += 1
            for label, score in zip(parsed.labels, parsed.scores, strict=True):
                bar = self.bars[label]
                bar.setValue(int(round(min(max(score, 0.0), 1.0) * BAR_STEPS)) if np.isfinite(score) else 0)
                bar.setFormat(f"{score:.3f}")
            anomaly = "" if parsed.anomaly is None else f", anomaly {parsed.anomaly:.3f}"
            self.top.setText(f"{parsed.top}  (t = {parsed.t_ms / 1000:.2f} s{anomaly}; {self.count} windows)")
            self._dirty = True
            if not self._timer.isActive():
                self._timer.start()

    def flush(self) -> None:
        """Redraw the timeline now (it is redrawn at most every REDRAW_MS while results come)."""
        if not self._dirty:
            self._timer.stop()
            return
        self._dirty = False
        t, y = self.timeline()
        self.curve.setData(t, np.array([self.labels.index(label) for label in y], float))
        if len(t):
            self.plot.setXRange(float(t[0]), float(max(t[-1], t[0] + 1e-3)), padding=0.02)

    def timeline(self) -> tuple[np.ndarray, list[str]]:
        """The times (s) and top classes of the results on the timeline."""
        return np.array([r.t_ms / 1000 for r in self.results], float), [r.top for r in self.results]

    def bar_scores(self) -> dict[str, float]:
        """The scores the bars show (in thousandths)."""
        return {label: bar.value() / BAR_STEPS for label, bar in self.bars.items()}


class StreamPicker(QWidget):
    """What the emulated board's UART is fed with: a testing (or training) sample of the project that fits the
    impulse, or seconds of the virtual sensor making a gesture; optionally paced in real time."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.setToolTip("The sensor data streamed to the emulated board over its UART")
        self.seconds = QDoubleSpinBox()
        self.seconds.setRange(1, 3600)
        self.seconds.setValue(10)
        self.seconds.setSuffix(" s")
        self.seconds.setToolTip("How long the virtual sensor's gesture lasts")
        self.realtime = QCheckBox("real time")
        self.realtime.setChecked(True)
        self.realtime.setToolTip("Send the frames at the sensor's rate (else as fast as the emulated UART takes them)")
        self.combo.currentIndexChanged.connect(lambda _i: self.seconds.setEnabled(self._is_gesture()))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo, 1)
        layout.addWidget(self.seconds)
        layout.addWidget(self.realtime)
        self.project: Project | None = None
        self.run: Run | None = None

    def _is_gesture(self) -> bool:
        return str(self.combo.currentData() or "").startswith("gesture:")

    def fill(self, project: Project | None, run: Run | None) -> None:
        """List what fits the run's impulse (None: nothing)."""
        keep = self.combo.currentData()
        self.combo.clear()
        self.project, self.run = project, run
        if project is None or run is None:
            return
        for stream in streams_for(project, run):
            self.combo.addItem(stream.title, stream.key)
        self.combo.setCurrentIndex(max(0, self.combo.findData(keep)))

    def choose(self, kind: str, value: Any) -> bool:
        """Select ``("gesture", name)`` or ``("sample", id)``; False when it is not listed."""
        index = self.combo.findData(f"{kind}:{value}")
        if index >= 0:
            self.combo.setCurrentIndex(index)
        return index >= 0

    @property
    def frequency_hz(self) -> float:
        return self.run.framing.frequency_hz if self.run is not None else 0.0

    def frames(self, project: Project) -> tuple[np.ndarray, str]:
        """The chosen stream's frames and a description; raises ``StudioError``."""
        if self.run is None or self.combo.currentData() is None:
            raise StudioError("nothing to stream: no run, or nothing fits its impulse")
        return stream_frames(project, self.run, str(self.combo.currentData()), self.seconds.value())
