"""Test: classify every testing sample with a run's float32 and int8 models (per-sample results
fill in as they come, then the confusion matrix and per-class table), and live classification
of a connected device or the virtual board."""

from __future__ import annotations

from collections import deque
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.devices.capture import DeviceSpec
from studio.devices.gestures import GESTURES
from studio.devices.listing import serial_ports, virtual_boards
from studio.learn import classify, live, runs
from studio.learn.metrics import percent
from studio.project import Project
from studio.ui.metrics_views import ClassTable, ConfusionTable
from studio.ui.run_picker import RunPicker

SAMPLE_COLUMNS = ("sample", "label", "windows", "float", "int8", "anomaly")
HISTORY = 12


class TestPage(QWidget):
    log = Signal(str)

    def __init__(self, runner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.project: Project | None = None
        self.job = None
        self.live_job = None
        self.report: classify.TestReport | None = None
        self.live_results: deque[live.Classification] = deque(maxlen=500)
        self._build()

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        self.run_combo = RunPicker("The run to test (the one chosen for deployment first)")
        self.classify_button = QPushButton("Classify testing set")
        self.classify_button.setToolTip("Classify every testing sample with the run's float32 and int8 models")
        self.classify_button.clicked.connect(self.classify_all)
        self.model_combo = QComboBox()
        self.model_combo.addItems(["int8", "float"])
        self.model_combo.setToolTip("Which model's confusion matrix to show")
        self.model_combo.currentTextChanged.connect(self._show_matrix)
        self.summary = QLabel("Choose a run and classify the testing set.")
        self.summary.setWordWrap(True)
        self.samples_table = QTableWidget(0, len(SAMPLE_COLUMNS))
        self.samples_table.setHorizontalHeaderLabels(SAMPLE_COLUMNS)
        self.samples_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.samples_table.verticalHeader().hide()
        self.samples_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.samples_table.setToolTip("Each testing sample: the class with the highest mean probability over its "
                                      "windows, and its confidence; red where a model is wrong")
        self.confusion = ConfusionTable()
        self.classes = ClassTable()

        self.device_combo = QComboBox()
        self.device_combo.setToolTip("A board streaming the impulse's sensors, or a virtual board")
        self.gesture_combo = QComboBox()
        self.gesture_combo.addItems(GESTURES)
        self.gesture_combo.setToolTip("What the in-app virtual board's simulated person does")
        self.live_button = QPushButton("Start live classification")
        self.live_button.setToolTip("Classify the device's stream window by window with the run (press again to "
                                    "stop)")
        self.live_button.clicked.connect(self.toggle_live)
        self.live_label = QLabel("")
        self.live_label.setWordWrap(True)
        self.live_label.setTextFormat(Qt.TextFormat.RichText)
        self.live_table = QTableWidget(0, 3)
        self.live_table.setHorizontalHeaderLabels(["class", "float", "int8"])
        self.live_table.verticalHeader().hide()
        self.live_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.live_history = QListWidget()
        self.live_history.setToolTip("Latest classifications, newest first")

        top = QHBoxLayout()
        top.addWidget(QLabel("Run"))
        top.addWidget(self.run_combo, 1)
        top.addWidget(self.classify_button)
        top.addWidget(QLabel("Matrix"))
        top.addWidget(self.model_combo)
        tables = QSplitter(Qt.Orientation.Vertical)
        tables.addWidget(self.samples_table)
        bottom = QWidget()
        bl = QHBoxLayout(bottom)
        bl.addWidget(self.confusion, 1)
        bl.addWidget(self.classes, 1)
        tables.addWidget(bottom)
        left = QVBoxLayout()
        left.addLayout(top)
        left.addWidget(self.summary)
        left.addWidget(tables, 1)
        left_w = QWidget()
        left_w.setLayout(left)

        form = QFormLayout()
        form.addRow("Device", self.device_combo)
        form.addRow("Gesture", self.gesture_combo)
        form.addRow(self.live_button)
        live_box = QGroupBox("Live classification")
        lb = QVBoxLayout(live_box)
        lb.addLayout(form)
        lb.addWidget(self.live_label)
        lb.addWidget(self.live_table, 1)
        lb.addWidget(self.live_history, 1)
        live_box.setMaximumWidth(380)
        layout = QHBoxLayout(self)
        layout.addWidget(left_w, 1)
        layout.addWidget(live_box)

    # ------------------------------------------------------------------ project

    def set_project(self, project: Project | None) -> None:
        self.stop_live()
        self.project = project
        self.report = None
        self.samples_table.setRowCount(0)
        if project is not None:
            self.refresh()

    def refresh(self) -> None:
        """Called when the page is shown: runs may have been added."""
        if self.project is None:
            return
        self.run_combo.fill(self.project)
        numbers = runs.numbers(self.project)
        self.classify_button.setEnabled(bool(numbers) and self.job is None)
        self.live_button.setEnabled(bool(numbers))
        if not numbers:
            self.summary.setText("No run yet: train one on the Train step.")
        self.refresh_devices()

    def refresh_devices(self) -> None:
        keep = self.device_combo.currentData()
        self.device_combo.clear()
        for e in virtual_boards() + serial_ports():
            self.device_combo.addItem(f"{e.name} ({e.id})", e.id)
        self.device_combo.addItem("Microphone (default input)", "mic")
        index = self.device_combo.findData(keep)
        self.device_combo.setCurrentIndex(max(0, index))

    # ------------------------------------------------------------------ testing set

    def classify_all(self) -> None:
        if self.project is None or self.job is not None or self.run_combo.currentData() is None:
            return
        self.samples_table.setRowCount(0)
        self.report = None
        params = classify.TestParams(self.project.path, self.run_combo.currentData())
        self.job = self.runner.start("Testing", classify.run, params)
        self.job.partial.connect(self._sample_done)
        self.job.finished.connect(self._tested)
        self.job.failed.connect(lambda msg: self.summary.setText(msg.splitlines()[0]))
        for sig in (self.job.finished, self.job.failed, self.job.cancelled):
            sig.connect(self._job_ended)
        self.classify_button.setEnabled(False)

    def _job_ended(self, *_: Any) -> None:
        self.job = None
        self.classify_button.setEnabled(True)

    def _sample_done(self, r: Any) -> None:
        if not isinstance(r, classify.SampleResult):
            return
        row = self.samples_table.rowCount()
        self.samples_table.insertRow(row)
        cells = [r.name, r.label, str(r.windows), f"{r.float_label} ({r.float_confidence:.2f})",
                 f"{r.int8_label} ({r.int8_confidence:.2f})", "" if r.anomaly_max is None else f"{r.anomaly_max:.2f}"]
        for col, text in enumerate(cells):
            item = QTableWidgetItem(text)
            wrong = (col == 3 and r.float_label != r.label) or (col == 4 and r.int8_label != r.label)
            if wrong:
                item.setBackground(QBrush(QColor(220, 60, 60, 110)))  # over the base colour: light or dark
            self.samples_table.setItem(row, col, item)

    def _tested(self, report: classify.TestReport) -> None:
        self.report = report
        self.summary.setText(
            f"<b>Run {report.run}</b>, {len(report.samples)} testing samples, {report.float['windows']} windows: "
            f"window accuracy float32 {percent(report.float['accuracy'])}, int8 {percent(report.int8['accuracy'])}; "
            f"sample accuracy float32 {percent(report.sample_accuracy['float'])}, "
            f"int8 {percent(report.sample_accuracy['int8'])}" + "".join(f"<br>{n}" for n in report.notes))
        self._show_matrix()
        self.classes.show_classes(report.float, report.int8)
        self.log.emit(f"tested run {report.run}: float {percent(report.float['accuracy'])}, "
                      f"int8 {percent(report.int8['accuracy'])}")

    def _show_matrix(self) -> None:
        if self.report is not None:
            metrics = self.report.int8 if self.model_combo.currentText() == "int8" else self.report.float
            self.confusion.show_matrix(self.report.classes, metrics["confusion"])

    # ------------------------------------------------------------------ live

    def toggle_live(self) -> None:
        if self.live_job is None:
            self.start_live()
        else:
            self.stop_live()

    def start_live(self) -> None:
        if self.project is None or self.run_combo.currentData() is None:
            return
        spec = DeviceSpec(self.device_combo.currentData() or "virtual", gesture=self.gesture_combo.currentText())
        self.live_results.clear()
        self.live_history.clear()
        params = live.LiveParams(self.project.path, spec, self.run_combo.currentData())
        self.live_job = self.runner.start("Live classification", live.run, params)
        self.live_job.partial.connect(self._live_result)
        self.live_job.failed.connect(lambda msg: self.live_label.setText(msg.splitlines()[0]))
        for sig in (self.live_job.finished, self.live_job.failed, self.live_job.cancelled):
            sig.connect(self._live_ended)
        self.live_button.setText("Stop live classification")
        self.live_label.setText(f"connecting to {spec.device} ...")

    def stop_live(self) -> None:
        if self.live_job is not None:
            self.live_job.cancel()

    def _live_ended(self, *_: Any) -> None:
        self.live_job = None
        self.live_button.setText("Start live classification")

    def _live_result(self, r: Any) -> None:
        if not isinstance(r, live.Classification):
            return
        self.live_results.append(r)
        anomaly = "" if r.anomaly is None else f"; anomaly {r.anomaly:.2f}" + (" <b>(anomalous)</b>" if r.anomalous
                                                                               else "")
        self.live_label.setText(f"<span style='font-size:18pt'><b>{r.int8_label}</b></span> (int8), "
                                f"{r.float_label} (float32){anomaly}")
        classes = list(r.int8_probabilities)
        self.live_table.setRowCount(len(classes))
        for row, c in enumerate(classes):
            for col, text in enumerate((c, f"{r.float_probabilities[c]:.2f}", f"{r.int8_probabilities[c]:.2f}")):
                self.live_table.setItem(row, col, QTableWidgetItem(text))
        self.live_history.insertItem(0, f"frame {r.frame}: {r.int8_label} / {r.float_label}")
        while self.live_history.count() > HISTORY:
            self.live_history.takeItem(self.live_history.count() - 1)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.stop_live()
        super().closeEvent(event)

