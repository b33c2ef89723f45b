"""Tables for classification results: the confusion matrix and per-class precision, recall, F1."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem, QWidget


def _item(text: str, tip: str = "") -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    if tip:
        item.setToolTip(tip)
    return item


class ConfusionTable(QTableWidget):
    """Rows: true label; columns: predicted. Cells are shaded by their share of the row."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)

    def show_matrix(self, labels: list[str], confusion: list[list[int]]) -> None:
        self.clear()
        self.setRowCount(len(labels))
        self.setColumnCount(len(labels))
        self.setHorizontalHeaderLabels(labels)
        self.setVerticalHeaderLabels(labels)
        for i, row in enumerate(confusion):
            total = sum(row) or 1
            for j, v in enumerate(row):
                share = v / total
                item = _item(f"{v}", f"true {labels[i]}, predicted {labels[j]}: {100 * share:.1f}% of the row")
                good = i == j
                shade = QColor(60, 160, 90) if good else QColor(200, 60, 60)
                shade.setAlpha(int(30 + 180 * share) if v else 0)
                item.setBackground(QBrush(shade))
                self.setItem(i, j, item)

    def cell_values(self) -> list[list[int]]:
        return [[int(self.item(i, j).text()) for j in range(self.columnCount())] for i in range(self.rowCount())]


class ClassTable(QTableWidget):
    """Per class: precision, recall, F1 and support, float32 and int8 side by side."""

    HEADERS = ("label", "float P", "float R", "float F1", "int8 P", "int8 R", "int8 F1", "windows")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(self.HEADERS), parent)
        self.setHorizontalHeaderLabels(self.HEADERS)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.verticalHeader().hide()
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

    def show_classes(self, float_metrics: dict[str, Any], int8_metrics: dict[str, Any]) -> None:
        labels = list(float_metrics["per_class"])
        self.setRowCount(len(labels))
        for r, label in enumerate(labels):
            f, q = float_metrics["per_class"][label], int8_metrics["per_class"][label]
            cells = [label, *(f"{f[k]:.3f}" for k in ("precision", "recall", "f1")),
                     *(f"{q[k]:.3f}" for k in ("precision", "recall", "f1")), str(f["support"])]
            for c, text in enumerate(cells):
                self.setItem(r, c, _item(text))
