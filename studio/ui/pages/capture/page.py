"""Capture: pick a device, watch it live, record labeled samples; the dataset below is ``dataset.py``'s."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QUndoStack
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from studio.devices import capture
from studio.devices.gestures import GESTURES
from studio.devices.listing import IN_PROCESS_VIRTUAL, DeviceEntry, audio_inputs, serial_ports, virtual_boards
from studio.devices.live import DISCONNECTED, STREAMING
from studio.devices.sources import DeviceError, StreamInfo
from studio.project import Project, ProjectError
from studio.text import oneline
from studio.ui.live_plot import LivePlot
from studio.ui.pages.capture.dataset import DatasetPanel


class CapturePage(QWidget):
    log = Signal(str)
    failed = Signal(str)  # a one-line error for the status bar
    samples_changed = Signal()
    _stream_state = Signal(str, str)  # from the stream's thread to the GUI thread

    def __init__(self, undo_stack: QUndoStack, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.project: Project | None = None
        self.undo_stack = undo_stack
        self.stream = None
        self.recording = None
        self.countdown_s = 3
        self._countdown_left = 0
        self._audio_devices: list[DeviceEntry] | None = None
        self._pending_truncated = None
        self._build()
        self._stream_state.connect(self._on_stream_state)
        self.device_timer = QTimer(self)
        self.device_timer.timeout.connect(self.refresh_devices)
        self.device_timer.start(1500)  # hot-plug: serial ports and virtual boards come and go
        self.record_timer = QTimer(self)
        self.record_timer.timeout.connect(self._record_tick)
        self.counter_timer = QTimer(self)
        self.counter_timer.timeout.connect(self._show_counters)
        self.counter_timer.start(500)
        self.refresh_devices()

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        self.device_combo = QComboBox()
        self.device_combo.setToolTip("Serial boards, virtual boards and audio inputs (refreshed when plugged in)")
        self.gesture_combo = QComboBox()
        self.gesture_combo.addItems(GESTURES)
        self.gesture_combo.setToolTip("What the virtual board's simulated person does")
        self.gesture_combo.currentTextChanged.connect(self._gesture_changed)
        self.baud_edit = QLineEdit()
        self.baud_edit.setPlaceholderText("detect")
        self.baud_edit.setToolTip("Serial baud rate; empty detects it (115200 first)")
        self.rate_edit = QLineEdit()
        self.rate_edit.setPlaceholderText("auto")
        self.rate_edit.setToolTip("Sampling rate in Hz: the virtual board's (100) or the microphone's (16000); "
                                  "for a serial board, giving it skips detection")
        self.gyro_check = QCheckBox("Gyroscope too")
        self.gyro_check.setToolTip("The in-app virtual board also streams a 3-axis gyroscope (takes effect on Connect)")
        self.framed_check = QCheckBox("Framed binary (audio)")
        self.framed_check.setToolTip("The board streams int16 audio in the framed binary format")
        self.connect_button = QPushButton("Connect")
        self.connect_button.setToolTip("Start streaming from the device")
        self.connect_button.clicked.connect(self._toggle_connection)
        self.status = QLabel("Not connected")
        self.status.setWordWrap(True)
        self.counters = QLabel("")
        self.counters.setToolTip("Problems seen in the stream: garbage lines, wrong axis counts, bad frames")

        dev_form = QFormLayout()
        dev_form.addRow("Device", self.device_combo)
        dev_form.addRow("Gesture", self.gesture_combo)
        dev_form.addRow(self.gyro_check)
        dev_form.addRow("Baud", self.baud_edit)
        dev_form.addRow("Rate", self.rate_edit)
        dev_form.addRow(self.framed_check)
        dev_form.addRow(self.connect_button)
        dev_form.addRow(self.status)
        dev_form.addRow(self.counters)
        dev_box = QGroupBox("Device")
        dev_box.setLayout(dev_form)

        self.axes_edit = QLineEdit()
        self.axes_edit.setToolTip("Axis names, comma-separated (from the board's header when it sends one)")
        self.label_edit = QLineEdit("idle")
        self.label_edit.setToolTip("The label of the next sample")
        self.length_spin = QDoubleSpinBox()
        self.length_spin.setRange(0.1, 3600)
        self.length_spin.setValue(2.0)
        self.length_spin.setSuffix(" s")
        self.length_spin.setToolTip("Sample length in seconds")
        self.category_combo = QComboBox()
        self.category_combo.addItems(["training", "testing", "split"])
        self.category_combo.setToolTip("training, testing, or split (80/20 by content hash)")
        self.record_button = QPushButton("Record")
        self.record_button.setToolTip("Record one sample (Ctrl+R)")
        self.record_button.setEnabled(False)
        self.record_button.clicked.connect(self.start_recording)
        QShortcut(QKeySequence("Ctrl+R"), self, self.start_recording)
        self.record_progress = QProgressBar()
        self.record_progress.setTextVisible(True)
        self.truncated_label = QLabel("")
        self.truncated_label.setWordWrap(True)
        self.save_truncated_button = QPushButton("Save as truncated")
        self.discard_button = QPushButton("Discard")
        self.save_truncated_button.setToolTip("Keep the frames received before the device went away as a sample")
        self.discard_button.setToolTip("Throw the cut-short recording away")
        self.save_truncated_button.clicked.connect(lambda: self._resolve_truncated(True))
        self.discard_button.clicked.connect(lambda: self._resolve_truncated(False))
        for w in (self.truncated_label, self.save_truncated_button, self.discard_button):
            w.hide()

        rec_form = QFormLayout()
        rec_form.addRow("Axes", self.axes_edit)
        rec_form.addRow("Label", self.label_edit)
        rec_form.addRow("Length", self.length_spin)
        rec_form.addRow("Category", self.category_combo)
        rec_form.addRow(self.record_button)
        rec_form.addRow(self.record_progress)
        rec_form.addRow(self.truncated_label)
        row = QHBoxLayout()
        row.addWidget(self.save_truncated_button)
        row.addWidget(self.discard_button)
        rec_form.addRow(row)
        rec_box = QGroupBox("Record")
        rec_box.setLayout(rec_form)

        left = QVBoxLayout()
        left.addWidget(dev_box)
        left.addWidget(rec_box)
        left.addStretch(1)
        left_w = QWidget()
        left_w.setLayout(left)
        left_w.setMaximumWidth(340)

        self.live = LivePlot()
        self.dataset = DatasetPanel(self.undo_stack)
        for mine, theirs in ((self.log, self.dataset.log), (self.failed, self.dataset.failed),
                             (self.samples_changed, self.dataset.samples_changed)):
            theirs.connect(mine.emit)

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.live)
        split.addWidget(self.dataset)
        split.setSizes([300, 400])
        layout = QHBoxLayout(self)
        layout.addWidget(left_w)
        layout.addWidget(split, 1)

    # ------------------------------------------------------------------ project

    def set_project(self, project: Project | None) -> None:
        self.project = project
        self.dataset.set_project(project)

    def refresh_samples(self) -> None:
        self.dataset.refresh()

    # ------------------------------------------------------------------ devices

    def refresh_devices(self, include_audio: bool = False) -> None:
        if include_audio or self._audio_devices is None:
            try:
                self._audio_devices = audio_inputs()
            except DeviceError as e:
                self._audio_devices = []
                self.log.emit(str(e))
        entries = serial_ports() + virtual_boards() + self._audio_devices
        ids = [e.id for e in entries]
        current = [self.device_combo.itemData(i) for i in range(self.device_combo.count())]
        if ids == current:
            return
        keep = self.device_combo.currentData()
        self.device_combo.clear()
        for e in entries:
            self.device_combo.addItem(f"{e.name} ({e.id})", e.id)
        if keep in ids:
            self.device_combo.setCurrentIndex(ids.index(keep))

    def select_device(self, device_id: str) -> None:
        index = self.device_combo.findData(device_id)
        if index < 0:
            raise ValueError(f"no device {device_id!r} in the list")
        self.device_combo.setCurrentIndex(index)

    def _spec(self) -> capture.DeviceSpec:
        device = self.device_combo.currentData() or IN_PROCESS_VIRTUAL
        baud = int(self.baud_edit.text()) if self.baud_edit.text().strip().isdigit() else None
        try:
            rate = float(self.rate_edit.text()) if self.rate_edit.text().strip() else None
        except ValueError:
            rate = None
        names = [a.strip() for a in self.axes_edit.text().split(",") if a.strip()] or None
        return capture.DeviceSpec(device, baud, rate if rate and rate > 0 else None,
                                  axis_names=None if device == IN_PROCESS_VIRTUAL else names,
                                  framed=self.framed_check.isChecked(), gesture=self.gesture_combo.currentText(),
                                  gyro=self.gyro_check.isChecked())

    def _toggle_connection(self) -> None:
        if self.stream is None:
            self.connect_device()
        else:
            self.disconnect_device()

    def connect_device(self) -> None:
        spec = self._spec()
        self.stream = capture.open_stream(spec)
        self.stream.add_listener(lambda state, msg: self._stream_state.emit(state, msg))
        self.stream.start()
        self.live.attach(self.stream)
        self.connect_button.setText("Disconnect")
        self.status.setText(f"Connecting to {spec.device}…")

    def disconnect_device(self) -> None:
        if self.stream is not None:
            self.stream.stop()
        self.stream = None
        self.live.attach(None)
        self.connect_button.setText("Connect")
        self.record_button.setEnabled(False)
        self.status.setText("Not connected")

    def _show_counters(self) -> None:
        counts = self.stream.counters if self.stream else {}
        shown = {k: v for k, v in counts.items() if v and k not in ("lines", "frames", "headers")}
        self.counters.setText(", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in shown.items()))

    def _gesture_changed(self, gesture: str) -> None:
        source = self.stream.source if self.stream else None
        if hasattr(source, "set_gesture"):
            source.set_gesture(gesture)

    def _on_stream_state(self, state: str, message: str) -> None:
        self.status.setText(message or state)
        if state == STREAMING and self.stream and self.stream.info:
            info: StreamInfo = self.stream.info
            self.axes_edit.setText(", ".join(info.axes))
            self.status.setText(f"Streaming {len(info.axes)} axes at {info.frequency_hz:g} Hz from {info.device}")
        self.record_button.setEnabled(state == STREAMING and self.project is not None)
        if state == DISCONNECTED:
            self.log.emit(message)

    # ------------------------------------------------------------------ recording

    def start_recording(self) -> None:
        if self.stream is None or self.stream.state != STREAMING or self.project is None or self.recording:
            return
        self._countdown_left = self.countdown_s
        self.record_button.setEnabled(False)
        self.record_progress.setValue(0)
        self._record_tick()
        self.record_timer.start(100 if self._countdown_left == 0 else 1000)

    def _record_tick(self) -> None:
        if self.recording is None and self._countdown_left > 0:
            self.record_progress.setFormat(f"Recording in {self._countdown_left}…")
            self._countdown_left -= 1
            return
        if self.recording is None:
            info = self.stream.info
            frames = max(1, int(round(self.length_spin.value() * info.frequency_hz)))
            self.recording = self.stream.record(frames)
            self.record_timer.start(100)
        rec = self.recording
        self.record_progress.setFormat("Recording %p%")
        self.record_progress.setValue(int(100 * rec.fraction))
        if rec.done.is_set():
            self.record_timer.stop()
            self.recording = None
            self.record_button.setEnabled(self.stream is not None and self.stream.state == STREAMING)
            if rec.truncated:
                self._offer_truncated(rec)
            else:
                self._save(rec, truncated=False)

    def _offer_truncated(self, rec) -> None:
        self._pending_truncated = rec
        got = rec.count / rec.info.frequency_hz
        want = rec.wanted / rec.info.frequency_hz
        self.truncated_label.setText(f"The device went away: {got:.2f} s of {want:.2f} s were received.")
        for w in (self.truncated_label, self.save_truncated_button, self.discard_button):
            w.show()
        self.record_progress.setFormat("Cut short")

    def _resolve_truncated(self, save: bool) -> None:
        rec, self._pending_truncated = self._pending_truncated, None
        for w in (self.truncated_label, self.save_truncated_button, self.discard_button):
            w.hide()
        if save and rec is not None and rec.count:
            self._save(rec, truncated=True)

    def _save(self, rec, truncated: bool) -> None:
        info = rec.info
        names = [a.strip() for a in self.axes_edit.text().split(",") if a.strip()]
        if len(names) == len(info.axes):
            info = StreamInfo(info.kind, names, info.units, info.frequency_hz, info.device, info.details)
        category = self.category_combo.currentText()
        try:
            sample = capture.save_recording(self.project, self.label_edit.text(), None if category == "split"
                                            else category, info, rec.data(), truncated)
        except ProjectError as e:
            self.failed.emit(str(e))
            return
        self.log.emit(f"recorded sample {sample.id}: {oneline(sample.label)!r}, {sample.duration_ms / 1000:.2f} s"
                      + (" (truncated)" if truncated else ""))
        self.refresh_samples()

    def shutdown(self) -> None:
        self.record_timer.stop()
        self.device_timer.stop()
        self.counter_timer.stop()
        self.disconnect_device()
