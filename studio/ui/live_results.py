"""Running the built firmware and watching it: the flash and monitor controls (a port chosen by the user, never
guessed), the stream fed to the emulated board (a recorded sample of the project or a gesture of the virtual
sensor), and the live classification view (a bar per class and a timeline of the top class) fed with the parsed
lines of the serial monitor or of the emulated run."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

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
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.deploy import default_core_dir, emulated, flash, monitor
from studio.deploy.result_line import ErrorLine, ImpulseLine, ResultLine
from studio.devices.gestures import GESTURES
from studio.devices.listing import serial_ports
from studio.errors import StudioError
from studio.formats.sample import SENSOR
from studio.jobs import ProgressLike
from studio.project import Project
from studio.ui import theme

TIMELINE = 600  # results kept on the timeline
BAR_STEPS = 1000  # a bar's value is the score in thousandths
REDRAW_MS = 50
BAUDS = ("115200", "9600", "57600", "230400", "460800", "921600")
RELEASE_WAIT = 3.0  # seconds an upload waits for the app's own monitor to let go of the port
NO_PORT = "no port chosen: pick the board's serial port (ports are never guessed)"
ON_HOST = ("This computer is not flashed and has no serial port: build the native environment, then run the "
           "program in a terminal, {program} [FILE] (frames one a line, from FILE or standard input), or "
           "pio run -e native -t exec in the export folder.")


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
        self.frequency_hz = 0.0
        self.axes = 0

    def _is_gesture(self) -> bool:
        return str(self.combo.currentData() or "").startswith("gesture:")

    def fill(self, project: Project | None, config: dict | None) -> None:
        """List what fits the run's impulse (``config`` is the run's config; None: nothing)."""
        keep = self.combo.currentData()
        self.combo.clear()
        if project is None or config is None:
            return
        f = config["framing"]
        self.frequency_hz, self.axes = float(f["frequency_hz"]), int(f["axes"])
        if f["kind"] == SENSOR and self.axes in (3, 6):
            for g in GESTURES:
                self.combo.addItem(f"Virtual sensor: {g}", f"gesture:{g}")
        for category in ("testing", "training"):
            for s in project.samples(category=category, enabled=True):
                if (s.kind == f["kind"] and len(s.sensors) == self.axes
                        and abs(s.frequency_hz - self.frequency_hz) <= 1e-3 * self.frequency_hz):
                    self.combo.addItem(f"{category} sample {s.name} ({s.label})", f"sample:{s.id}")
        self.combo.setCurrentIndex(max(0, self.combo.findData(keep)))

    def choose(self, kind: str, value: Any) -> bool:
        """Select ``("gesture", name)`` or ``("sample", id)``; False when it is not listed."""
        index = self.combo.findData(f"{kind}:{value}")
        if index >= 0:
            self.combo.setCurrentIndex(index)
        return index >= 0

    def frames(self, project: Project) -> tuple[np.ndarray, str]:
        """The chosen stream's frames and a description; raises ``StudioError``."""
        kind, _, value = str(self.combo.currentData()).partition(":")
        if kind == "gesture":
            return (emulated.gesture_frames(value, self.seconds.value(), self.frequency_hz, self.axes),
                    f"{self.seconds.value():g} s of the virtual sensor's {value}")
        sample = project.samples(ids=[int(value)])[0]
        return project.read(sample), f"sample {sample.name} ({sample.label})"


class Host(Protocol):
    """What the flash panel needs from the deploy view around it."""

    project: Project | None

    def board(self) -> str: ...

    def emulated_board(self) -> bool: ...

    def host_board(self) -> bool: ...

    def export_folder(self) -> Path: ...

    def env(self) -> str: ...

    def run_config(self) -> dict | None: ...

    def say(self, text: str, error: bool = False) -> None: ...

    def start_job(self, name: str, job: Callable, params: Any, done: Callable[[Any], None]) -> None: ...


@dataclass
class UploadParams:
    project: Path
    env: str
    port: str
    core: Path
    release: Callable[[str], None]


def upload_job(p: UploadParams, progress: ProgressLike) -> Any:
    progress.update(0.0, f"flashing {p.port}")
    return flash.upload(p.project, p.env, p.port, p.core, release=p.release, on_line=progress.partial,
                        progress=progress)


def _row(*widgets: QWidget) -> QWidget:
    row = QWidget()
    box = QHBoxLayout(row)
    box.setContentsMargins(0, 0, 0, 0)
    for i, w in enumerate(widgets):
        box.addWidget(w, 1 if i == 0 else 0)
    return row


class FlashPanel(QWidget):
    """Port, stream, Flash (or run on the emulated board) and the monitor, above the live results."""

    def __init__(self, host: Host, runner: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.host, self.runner = host, runner
        self.monitor_job: Any = None
        self.monitor_port = ""
        self.port_combo = QComboBox()
        self.port_combo.setEditable(True)
        self.port_combo.lineEdit().setPlaceholderText("choose or type the board's port, e.g. /dev/ttyACM0")
        self.port_combo.setToolTip("The board's serial port: never guessed, choose it")
        self.ports_button = QPushButton("Refresh")
        self.ports_button.setToolTip("List the serial ports again")
        self.ports_button.clicked.connect(lambda _c=False: self.refresh_ports())
        self.stream = StreamPicker()
        self.flash_button = QPushButton("Flash")
        self.flash_button.clicked.connect(lambda _c=False: self.flash())
        self.baud_combo = QComboBox()
        self.baud_combo.addItems(BAUDS)
        self.baud_combo.setToolTip("The serial monitor's baud rate (the exported firmware uses 115200)")
        self.monitor_button = QPushButton("Start monitor")
        self.monitor_button.setToolTip("Read the board's result lines on the port")
        self.monitor_button.clicked.connect(lambda _c=False: self.toggle_monitor())
        self.live = LiveResults()
        self.host_note = _plain("")
        self.host_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.form = QFormLayout()
        self.rows = {"Port": _row(self.port_combo, self.ports_button), "Stream": _row(self.stream),
                     "Flash": _row(self.flash_button), "Monitor": _row(self.baud_combo, self.monitor_button),
                     "Run": _row(self.host_note)}
        for name, row in self.rows.items():
            self.form.addRow(name, row)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.form)
        layout.addWidget(self.live, 1)

    def port(self) -> str:
        return self.port_combo.currentText().strip()

    def update_state(self, idle: bool, library: bool) -> None:
        """Rows and buttons for the host's board and target; ``idle``: no export, build or flash running."""
        virtual, on_host = self.host.emulated_board(), self.host.host_board()
        if on_host:
            self.host_note.setText(self.on_host())
        for name, shown in (("Port", not virtual and not on_host), ("Monitor", not virtual and not on_host),
                            ("Stream", virtual), ("Flash", not on_host), ("Run", on_host and not library)):
            self.form.setRowVisible(self.rows[name], shown)
        self.flash_button.setText("Run on the emulated board" if virtual else "Flash")
        self.flash_button.setToolTip("Start the firmware under QEMU and stream the sensor data to it" if virtual else
                                     "Upload the built environment to the chosen port")
        self.flash_button.setEnabled(idle and self.host.project is not None and not library and not on_host)
        self.monitor_button.setEnabled(self.host.project is not None and not on_host)

    def on_host(self) -> str:
        """How the program for this computer is run (it is not flashed)."""
        return ON_HOST.format(program=self.host.export_folder() / ".pio" / "build" / "native" / "program")

    def refresh_ports(self) -> None:
        keep = self.port()
        self.port_combo.clear()
        try:
            ports = serial_ports()
        except Exception:  # noqa: BLE001 - listing is best effort; a port can still be typed
            ports = []
        for p in ports:
            self.port_combo.addItem(p.id, p.id)
            self.port_combo.setItemData(self.port_combo.count() - 1, f"{p.name} ({p.detail})",
                                        Qt.ItemDataRole.ToolTipRole)
        self.port_combo.setCurrentIndex(-1)  # never a guessed port
        self.port_combo.setEditText(keep)

    # ------------------------------------------------------------------ flash

    def flash(self) -> None:
        host = self.host
        if host.project is None:
            return
        if host.host_board():
            host.say(self.on_host())
            return
        if host.emulated_board():
            self._run_emulated()
            return
        port = self.port()
        if not port:
            host.say(NO_PORT, error=True)
            return
        if not host.env():
            host.say("Export and build first: there is no environment to flash.", error=True)
            return
        params = UploadParams(host.export_folder(), host.env(), port, default_core_dir(), self._release)
        host.start_job(f"Flash {port}", upload_job, params,
                       lambda _r: host.say(f"Flashed {port}: start the monitor to see its results."))

    def _release(self, port: str) -> None:
        """Close the app's own monitor on ``port`` before an upload (called from the flash job's thread)."""
        job = self.monitor_job
        if job is not None and self.monitor_port == port:
            job.cancel()
            deadline = time.monotonic() + RELEASE_WAIT
            while not job.done and time.monotonic() < deadline:
                time.sleep(0.02)

    def _run_emulated(self) -> None:
        host = self.host
        if host.run_config() is None or self.stream.combo.currentData() is None:
            host.say("Nothing to stream: the run's impulse needs 3 or 6 sensor axes or fitting samples.", error=True)
            return
        try:
            frames, what = self.stream.frames(host.project)
        except StudioError as e:
            host.say(str(e), error=True)
            return
        elf = host.export_folder() / ".pio" / "build" / host.board() / "firmware.elf"
        params = emulated.EmulatedParams(elf, frames, self.stream.frequency_hz, self.stream.realtime.isChecked())
        self.live.clear(f"Streaming {what} to the emulated board …")
        host.start_job("Emulated board", emulated.run, params, self._emulated_done)

    def _emulated_done(self, report: emulated.EmulatedReport) -> None:
        expected = "?" if report.windows_expected is None else report.windows_expected
        end = "." if report.complete else "; it fell silent before the end."
        self.host.say(f"The emulated board classified {report.windows_done} of {expected} windows of "
                      f"{report.lines_sent} frames in {report.seconds:.1f} s{end}", error=not report.complete)

    # ------------------------------------------------------------------ monitor

    def toggle_monitor(self) -> None:
        if self.monitor_job is not None:
            self.stop_monitor()
            return
        if not self.port():
            self.host.say(NO_PORT, error=True)
            return
        self.monitor_port = self.port()
        self.live.clear(f"Listening on {self.monitor_port} …")
        params = monitor.MonitorParams(self.monitor_port, int(self.baud_combo.currentText()))
        handle = self.monitor_job = self.runner.start(f"Monitor {self.monitor_port}", monitor.run, params)
        handle.partial.connect(self.live.show_line)
        handle.failed.connect(lambda msg: self.host.say(msg.splitlines()[0], error=True))
        for sig in (handle.finished, handle.failed, handle.cancelled):
            sig.connect(lambda *_a, h=handle: self._monitor_ended(h))
        self.monitor_button.setText("Stop monitor")

    def stop_monitor(self) -> None:
        if self.monitor_job is not None:
            self.monitor_job.cancel()

    def _monitor_ended(self, handle: Any) -> None:
        if self.monitor_job is handle:
            self.monitor_job = None
            self.monitor_button.setText("Start monitor")
        self.live.flush()
