"""Below the estimate cards: the per-layer costs of one board's estimate, and the instructions counted on the
virtual board beside the modelled ones. Both only show what an ``Estimate`` holds."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.estimate.estimate import Estimate
from studio.ui.pages.deploy.estimate_cards import difference, fill_layout

LAYER_COLUMNS = ("#", "op", "output", "MACs", "weights", "act. bytes", "cycles", "ms")
MEASURING = "measuring …"


def read_only_table(columns: tuple[str, ...]) -> QTableWidget:
    t = QTableWidget(0, len(columns))
    t.setHorizontalHeaderLabels(columns)
    t.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    t.verticalHeader().hide()
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    return t


class LayersBox(QWidget):
    """A board chooser over the estimated boards and the table of its layers."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.shown: dict[str, Estimate] = {}
        self.combo = QComboBox()
        self.combo.setToolTip("The board whose per-layer costs the table shows")
        self.combo.currentIndexChanged.connect(lambda _i: self.show_layers())
        self.table = read_only_table(LAYER_COLUMNS)
        layout = fill_layout(QVBoxLayout(self), fill_layout(QHBoxLayout(), QLabel("Layers on"), (self.combo, 1)),
                             (self.table, 1))
        layout.setContentsMargins(0, 0, 0, 0)

    def list_boards(self, estimates: dict[str, Estimate]) -> None:
        """Offer the boards of ``estimates`` (keeping the shown one when it is still there)."""
        self.shown = estimates
        keep = self.combo.currentData()
        self.combo.blockSignals(True)
        self.combo.clear()
        for board_id, e in estimates.items():
            self.combo.addItem(e.board["name"], board_id)
        self.combo.setCurrentIndex(max(0, self.combo.findData(keep)))
        self.combo.blockSignals(False)
        self.show_layers()

    def show_layers(self) -> None:
        e = self.shown.get(self.combo.currentData())
        rows = e.layers if e is not None else []
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            cells = (str(row.index), row.op, "×".join(map(str, row.output_shape)), f"{row.macs:,}",
                     f"{row.weight_bytes:,}", f"{row.activation_bytes:,}", f"{row.cycles:,}", f"{row.ms:.4f}")
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c not in (1, 2):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)


class VirtualBox(QGroupBox):
    """The button measuring on the virtual board, what happened, and the counted against modelled table."""

    def __init__(self, measure: Callable[[], None], parent: QWidget | None = None) -> None:
        super().__init__("Virtual board", parent)
        self.measure_button = QPushButton("Measure on the virtual board")
        self.measure_button.setToolTip("Run the impulse on the emulated Cortex-M4 and count its instructions")
        self.measure_button.clicked.connect(lambda _checked=False: measure())
        self.label = QLabel("")
        self.label.setWordWrap(True)
        self.table = read_only_table(("instructions", "modelled", "counted", "difference"))
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setMinimumHeight(84)
        fill_layout(QVBoxLayout(self), self.measure_button, self.label, self.table).addStretch(1)
        self.setMinimumWidth(340)
        self.setMaximumWidth(420)

    def clear(self, text: str = "") -> None:
        self.table.setRowCount(0)
        self.label.setText(text)

    def cancelled(self) -> None:
        if self.label.text() == MEASURING:
            self.label.setText("cancelled")

    def show_estimate(self, e: Estimate) -> None:
        self.label.setText(f"Counted under QEMU on the emulated {e.core}, beside the modelled counts:")
        rows = [("network", e.instructions["network"], e.measured.get("network", 0)),
                ("DSP", e.instructions["dsp"], e.measured.get("dsp", 0))]
        self.table.setRowCount(len(rows))
        for r, (name, modelled, counted) in enumerate(rows):
            for c, text in enumerate((name, f"{modelled:,}", f"{counted:,}", difference(modelled, counted))):
                self.table.setItem(r, c, QTableWidgetItem(text))
