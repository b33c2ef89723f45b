"""The layer list editor: add, remove, reorder and set the parameters of a classifier's layers.

Each change is checked at once by :func:`studio.learn.layers.plan` against the feature shape;
a layer outside what the firmware runs is refused when it is added, with the reason, and the
list shows every layer's output shape.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.learn import layers
from studio.ui import theme
from studio.ui.param_form import ParamForm


class LayerEditor(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.specs: list[dict[str, Any]] = []
        self.input_shape: tuple[int, ...] = (1,)
        self.classes = 2
        self.template: list[dict[str, Any]] = []
        self.arch: layers.Architecture | None = None
        self.list = QListWidget()
        self.list.setToolTip("Hidden layers, input at the top; the output layer (dense + softmax) is added")
        self.list.currentRowChanged.connect(self._select)
        self.add_combo = QComboBox()
        self.add_combo.setEditable(True)
        self.add_combo.addItems(list(layers.SCHEMAS))
        self.add_combo.setToolTip("Layer type to add (you may type one; layers the firmware cannot run are refused)")
        self.add_button = QPushButton("Add")
        self.add_button.setToolTip("Add a layer of this type after the selected one")
        self.add_button.clicked.connect(lambda: self.add_layer(self.add_combo.currentText()))
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Remove the selected layer")
        self.remove_button.clicked.connect(self.remove_layer)
        self.up_button = QPushButton("Up")
        self.up_button.setToolTip("Move the selected layer towards the input")
        self.up_button.clicked.connect(lambda: self.move_layer(-1))
        self.down_button = QPushButton("Down")
        self.down_button.setToolTip("Move the selected layer towards the output")
        self.down_button.clicked.connect(lambda: self.move_layer(1))
        self.reset_button = QPushButton("Template")
        self.reset_button.setToolTip("Back to the template for these features")
        self.reset_button.clicked.connect(self.reset)
        self.form = ParamForm()
        self.form.changed.connect(self._form_changed)
        self.message = QLabel("")
        self.message.setWordWrap(True)

        add_row = QHBoxLayout()
        add_row.addWidget(self.add_combo, 1)
        add_row.addWidget(self.add_button)
        buttons = QHBoxLayout()
        for b in (self.remove_button, self.up_button, self.down_button, self.reset_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list, 1)
        layout.addLayout(add_row)
        layout.addLayout(buttons)
        layout.addWidget(self.form)
        layout.addWidget(self.message)

    def set_layers(self, specs: list[dict[str, Any]] | None, input_shape: tuple[int, ...], classes: int,
                   template: list[dict[str, Any]]) -> None:
        """``specs`` None: the template."""
        self.input_shape, self.classes, self.template = tuple(input_shape), max(2, classes), template
        self.specs = [dict(s) for s in (template if specs is None else specs)]
        self._replan(keep_row=0)

    def is_template(self) -> bool:
        return self._resolved(self.specs) == self._resolved(self.template)

    @staticmethod
    def _resolved(specs: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
        try:
            return [layers.check_layer(s) for s in specs]
        except layers.LayerError:
            return None

    def add_layer(self, kind: str) -> bool:
        kind = kind.strip().lower()
        try:
            spec = layers.check_layer({"type": kind})
        except layers.LayerError as e:
            self._say(str(e), error=True)
            return False
        row = self.list.currentRow() + 1 if self.list.currentRow() >= 0 else len(self.specs)
        self.specs.insert(row, {"type": spec["type"]})
        self._replan(keep_row=row)
        self.changed.emit()
        return True

    def remove_layer(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self.specs):
            del self.specs[row]
            self._replan(keep_row=min(row, len(self.specs) - 1))
            self.changed.emit()

    def move_layer(self, step: int) -> None:
        row = self.list.currentRow()
        to = row + step
        if 0 <= row < len(self.specs) and 0 <= to < len(self.specs):
            self.specs[row], self.specs[to] = self.specs[to], self.specs[row]
            self._replan(keep_row=to)
            self.changed.emit()

    def reset(self) -> None:
        self.specs = [dict(s) for s in self.template]
        self._replan(keep_row=0)
        self.changed.emit()

    def _select(self, row: int) -> None:
        if 0 <= row < len(self.specs):
            spec = self.specs[row]  # a layer the firmware cannot run (refused by plan) has no parameters to show
            self.form.set_schema(layers.SCHEMAS.get(spec.get("type"), ()), spec)
        else:
            self.form.set_schema((), {})

    def _form_changed(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self.specs):
            self.specs[row] = {"type": self.specs[row]["type"], **self.form.values()}
            self._replan(keep_row=row, keep_form=True)
            self.changed.emit()

    def _replan(self, keep_row: int, keep_form: bool = False) -> None:
        try:
            self.arch = layers.plan(self.specs, self.input_shape, self.classes)
            planned = self.arch.layers
            self._say(f"{self.arch.params:,} parameters, {self.arch.macs:,} multiply-accumulates per window"
                      + "".join(f"\n{n}" for n in self.arch.notes))
        except layers.LayerError as e:
            self.arch, planned = None, []
            self._say(str(e), error=True)
        self.list.blockSignals(True)
        self.list.clear()
        for i, spec in enumerate(self.specs):
            shape = f"  -> {planned[i].output}" if i < len(planned) else ""
            detail = ", ".join(f"{k}={v}" for k, v in spec.items() if k != "type")
            self.list.addItem(f"{layers.TITLES.get(spec['type'], spec['type'])}"
                              f"{' (' + detail + ')' if detail else ''}{shape}")
        self.list.addItem(f"Output: dense {self.classes} + softmax" + (f"  -> ({self.classes},)" if planned else ""))
        row = max(0, min(keep_row, len(self.specs) - 1)) if self.specs else -1
        self.list.setCurrentRow(row)
        self.list.blockSignals(False)
        if not keep_form:
            self._select(row)

    def _say(self, text: str, error: bool = False) -> None:
        theme.set_tone(self.message, "error" if error else None)
        self.message.setText(text)
