"""The Capture step's dataset: the table of samples, a preview of the selected one with its crop region, and the
edits (relabel, crop, split, move, delete), each one an undoable command on the project."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.project import Project, ProjectError, Sample
from studio.text import oneline
from studio.ui import theme
from studio.ui.live_plot import plot_sample
from studio.ui.pages.capture import undo

COLUMNS = ("id", "label", "length", "category", "device")


class DatasetPanel(QWidget):
    log = Signal(str)
    failed = Signal(str)  # a one-line error for the status bar
    samples_changed = Signal()

    def __init__(self, undo_stack: QUndoStack, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.project: Project | None = None
        self.undo_stack = undo_stack
        self._build()

    def _build(self) -> None:
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels([c.capitalize() for c in COLUMNS])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.itemSelectionChanged.connect(self._selection_changed)
        QShortcut(QKeySequence.StandardKey.Delete, self.table, self.delete_selected)

        self.preview = theme.plot_widget()
        self.preview.setMenuEnabled(False)
        self.region = pg.LinearRegionItem(brush=(80, 120, 220, 40))
        self.region.setZValue(10)
        self.region.hide()

        self.relabel_edit = QLineEdit()
        self.relabel_edit.setPlaceholderText("new label")
        self.relabel_edit.setToolTip("The label Relabel gives the selected samples")
        buttons = {}
        for key, text, tip, slot in (
            ("relabel", "Relabel", "Give the selected samples this label", self.relabel_selected),
            ("crop", "Crop to region", "Keep only the shaded region (drag its edges)", self.crop_selected),
            ("split", "Split", "Cut the sample into windows of the given length", self.split_selected),
            ("train", "To training", "Move the selected samples to training", lambda: self.move_selected("training")),
            ("test", "To testing", "Move the selected samples to testing", lambda: self.move_selected("testing")),
            ("delete", "Delete", "Delete the selected samples (undo with Ctrl+Z)", self.delete_selected),
        ):
            b = QPushButton(text)
            b.setToolTip(tip)
            b.clicked.connect(slot)
            buttons[key] = b
        self.buttons = buttons
        self.split_spin = QDoubleSpinBox()
        self.split_spin.setRange(10, 600000)
        self.split_spin.setValue(1000)
        self.split_spin.setSuffix(" ms")
        self.split_spin.setToolTip("Window length for Split")
        edit_row = QHBoxLayout()
        edit_row.addWidget(self.relabel_edit)
        edit_row.addWidget(buttons["relabel"])
        edit_row.addWidget(buttons["crop"])
        edit_row.addWidget(self.split_spin)
        edit_row.addWidget(buttons["split"])
        edit_row.addWidget(buttons["train"])
        edit_row.addWidget(buttons["test"])
        edit_row.addWidget(buttons["delete"])

        data_l = QVBoxLayout(self)
        data_l.setContentsMargins(0, 0, 0, 0)
        data_l.addWidget(QLabel("Dataset"))
        data_l.addWidget(self.table, 2)
        data_l.addLayout(edit_row)
        data_l.addWidget(self.preview, 2)

    def set_project(self, project: Project | None) -> None:
        self.project = project
        self.refresh()

    def refresh(self) -> None:
        selected = {s.id for s in self.selected_samples()}
        self.table.setRowCount(0)
        if self.project is None:
            return
        samples = self.project.samples()
        self.table.setRowCount(len(samples))
        for r, s in enumerate(samples):
            length = (s.crop_end - s.crop_start if s.crop_start is not None else s.frames) * s.interval_ms / 1000
            cells = (str(s.id), oneline(s.label, 60), f"{length:.2f} s", s.category, oneline(s.device, 40))
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, s.id)
                if not s.enabled:
                    item.setForeground(Qt.GlobalColor.gray)
                self.table.setItem(r, c, item)
            if s.id in selected:
                self.table.selectRow(r)
        self.samples_changed.emit()

    def selected_samples(self) -> list[Sample]:
        if self.project is None:
            return []
        ids = sorted({self.table.item(i.row(), 0).data(Qt.ItemDataRole.UserRole)
                      for i in self.table.selectionModel().selectedRows()})
        return self.project.samples(ids=ids) if ids else []

    def _selection_changed(self) -> None:
        samples = self.selected_samples()
        self.preview.clear()
        self.region.hide()
        if len(samples) != 1:
            return
        s = samples[0]
        try:
            values = self.project.read(s, cropped=False)
        except ProjectError as e:
            self.failed.emit(str(e))
            return
        plot_sample(self.preview, values, s.interval_ms)
        start = (s.crop_start or 0) * s.interval_ms / 1000
        end = (s.crop_end if s.crop_end is not None else s.frames) * s.interval_ms / 1000
        self.preview.addItem(self.region)
        self.region.setBounds((0, s.duration_ms / 1000))
        self.region.setRegion((start, end))
        self.region.show()

    # ------------------------------------------------------------------ edits

    def _edit(self, make) -> None:
        samples = self.selected_samples()
        if not samples or self.project is None:
            return
        try:
            command = make(samples)  # reads the samples (a delete keeps their data for undo)
        except ProjectError as e:
            self.failed.emit(str(e))
            return
        self.undo_stack.push(command)  # a refused edit reports itself through failed and is dropped

    def relabel_selected(self) -> None:
        label = self.relabel_edit.text()
        self._edit(lambda ss: undo.Reassign(self.project, ss, "label", label, self.refresh, self.failed.emit))

    def move_selected(self, category: str) -> None:
        self._edit(lambda ss: undo.Reassign(self.project, ss, "category", category, self.refresh,
                                            self.failed.emit))

    def delete_selected(self) -> None:
        self._edit(lambda ss: undo.DeleteSamples(self.project, ss, self.refresh, self.failed.emit))

    def crop_selected(self) -> None:
        samples = self.selected_samples()
        if len(samples) != 1:
            return
        s = samples[0]
        lo, hi = self.region.getRegion()
        start = max(0, int(round(lo * 1000 / s.interval_ms)))
        end = min(s.frames, int(round(hi * 1000 / s.interval_ms)))
        self._edit(lambda ss: undo.Crop(self.project, s, start, end, self.refresh, self.failed.emit))

    def split_selected(self) -> None:
        samples = self.selected_samples()
        if len(samples) != 1 or self.project is None:
            return
        try:
            parts = self.project.split_sample(samples[0].id, self.split_spin.value())
        except ProjectError as e:
            self.failed.emit(str(e))
            return
        self.undo_stack.clear()  # a split replaces files; earlier edits can no longer be undone safely
        self.log.emit(f"sample {samples[0].id} split into {len(parts)} samples")
        self.refresh()
