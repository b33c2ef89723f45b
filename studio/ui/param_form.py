"""A form built from a block's parameter schema: one widget per parameter, with its help."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QLineEdit, QSpinBox, QWidget

from studio.params import Param, ParamError
from studio.ui.keyboard import tab_in_place


class ParamForm(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layout_ = QFormLayout(self)
        self.widgets: dict[str, tuple[Param, QWidget]] = {}
        self.refused: list[str] = []

    def set_schema(self, schema: tuple[Param, ...], values: dict[str, Any]) -> None:
        """One row per parameter, its help as the tooltip. A value that does not fit its parameter (a hand-edited
        project.json, a setting from another version) shows the default instead and is listed in ``refused``."""
        while self.layout_.rowCount():
            self.layout_.removeRow(0)
        self.widgets.clear()
        self.refused = []
        for p in schema:
            value = values.get(p.name, p.default)
            try:
                value = p.parse(value)
            except ParamError as e:
                self.refused.append(str(e))
                value = p.default
            w = self._widget(p, value)
            w.setToolTip(tooltip(p))
            self.widgets[p.name] = (p, w)
            self.layout_.addRow(p.name.replace("_", " "), w)
        tab_in_place(self, [w for _, w in self.widgets.values()])

    def _widget(self, p: Param, value: Any) -> QWidget:
        if p.kind == "bool":
            w = QCheckBox()
            w.setChecked(bool(value))
            w.toggled.connect(self.changed)
        elif p.kind == "choice":
            w = QComboBox()
            w.addItems(list(p.choices))
            w.setCurrentText(str(value))
            w.currentTextChanged.connect(self.changed)
        elif p.kind == "int":
            w = QSpinBox()
            w.setRange(int(p.minimum if p.minimum is not None else -10**6), int(p.maximum or 10**6))
            w.setValue(int(value))
            w.valueChanged.connect(self.changed)
        elif p.kind == "float":
            w = QDoubleSpinBox()
            w.setDecimals(6 if 0 < abs(p.default) < 0.01 else 3)
            w.setRange(p.minimum if p.minimum is not None else -1e6, p.maximum if p.maximum is not None else 1e6)
            w.setValue(float(value))
            w.valueChanged.connect(self.changed)
        elif p.kind == "text":
            w = QLineEdit(str(value))
            w.editingFinished.connect(self.changed)
        else:  # list of floats
            w = QLineEdit(", ".join(f"{v:g}" for v in value))
            w.editingFinished.connect(self.changed)
        return w

    def values(self) -> dict[str, Any]:
        """Only what differs from the defaults: defaults can then adapt (e.g. the FFT length)."""
        out: dict[str, Any] = {}
        for name, (p, w) in self.widgets.items():
            if isinstance(w, QCheckBox):
                v: Any = w.isChecked()
            elif isinstance(w, QComboBox):
                v = w.currentText()
            elif isinstance(w, QSpinBox | QDoubleSpinBox):
                v = w.value()
            elif p.kind == "text":
                v = w.text().strip()
            else:
                v = w.text()
                if _floats(v) == list(p.default):  # unchanged list: leave it to the default
                    continue
            if v != p.default:
                out[name] = v
        return out

    def set_value(self, name: str, value: Any) -> None:
        _, w = self.widgets[name]
        if isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        elif isinstance(w, QComboBox):
            w.setCurrentText(str(value))
        elif isinstance(w, QSpinBox | QDoubleSpinBox):
            w.setValue(value)
        else:
            w.setText(str(value))
            self.changed.emit()


def tooltip(p: Param) -> str:
    """The parameter's help from its schema, with its default and range."""
    if p.kind == "floats":
        default = ", ".join(f"{v:g}" for v in p.default)
    elif p.kind in ("int", "float"):
        default = f"{p.default:g}"
    elif p.kind == "bool":
        default = "on" if p.default else "off"
    else:
        default = str(p.default)
    bounds = ""
    if p.minimum is not None and p.maximum is not None:
        bounds = f"; {p.minimum:g} to {p.maximum:g}"
    elif p.minimum is not None:
        bounds = f"; at least {p.minimum:g}"
    elif p.maximum is not None:
        bounds = f"; at most {p.maximum:g}"
    return f"{p.help}\n(default: {default or 'empty'}{bounds})"


def _floats(text: str) -> list[float] | None:
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        return None
