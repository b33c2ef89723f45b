"""The per-board card of the estimates view: flash and RAM bars coloured by verdict, latency,
energy, battery life, TFLM's arena and the notes of one Estimate."""

from __future__ import annotations

import textwrap

from PySide6.QtWidgets import (
    QBoxLayout,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLayout,
    QProgressBar,
    QWidget,
)

from studio.boards import Board
from studio.estimate.estimate import Estimate
from studio.ui import theme

COLOURS = {"fits": "#2e9d4a", "tight": "#e0a020", "does not fit": "#d03b3b", "no limit": "#8a8a8a"}
SEVERITY = ("no limit", "fits", "tight", "does not fit")
VERDICT_TONES = {"fits": "good", "tight": "warning", "does not fit": "error", "no limit": "muted"}


def board_line(b: Board) -> str:
    clock = f"{b.clock_mhz:g} MHz" if b.clock_mhz else "no clock"
    flash, ram = b.program_flash_bytes, b.program_ram_bytes
    memory = f"{flash / 1024:,.0f} KB flash / {ram / 1024:,.0f} KB RAM for a program" if flash and ram \
        else "no memory limits"
    return f"{b.name} — {b.mcu}, {b.core}, {clock}, {memory}"


def _kb(n: int) -> str:
    return f"{n / 1024:,.1f} KB"


def _ms(v: float) -> str:
    return f"{v:.3f} ms" if v < 10 else f"{v:,.1f} ms"


def _parts(parts: dict[str, int]) -> str:
    return "\n".join(f"{k}: {v:,} B" for k, v in parts.items() if k != "total") + f"\ntotal: {parts['total']:,} B"


def _wrap(text: str, width: int = 40) -> str:
    return "\n".join(textwrap.fill(line, width) for line in text.splitlines())


def difference(modelled: int, counted: int) -> str:
    """How far the model is from the count, in percent of the count."""
    return f"{(modelled - counted) / counted * 100:+.1f}%" if counted else "-"


def fill_layout(layout: QBoxLayout, *items: QWidget | QLayout | int | tuple[QWidget | QLayout, int]) -> QBoxLayout:
    """Widgets and layouts in order; an int is a stretch, a pair an item with its stretch factor."""
    for item in items:
        if isinstance(item, int):
            layout.addStretch(item)
            continue
        item, stretch = item if isinstance(item, tuple) else (item, 0)
        if isinstance(item, QLayout):
            layout.addLayout(item, stretch)
        else:
            layout.addWidget(item, stretch)
    return layout


class MemoryBar(QProgressBar):
    """Bytes used against a board's memory, coloured by verdict; the tooltip breaks it down."""

    def show_usage(self, name: str, parts: dict[str, int], limit: int | None, verdict: str) -> None:
        used = parts["total"]
        self.setRange(0, max(limit or 0, used, 1))
        self.setValue(used)
        self.setFormat(f"{_kb(used)} of {_kb(limit)} (%p%) — {verdict}" if limit else f"{_kb(used)} — {verdict}")
        self.setStyleSheet(f"QProgressBar::chunk {{ background-color: {COLOURS.get(verdict, '#8a8a8a')}; }}")
        self.setToolTip(f"{name} by part\n{_parts(parts)}")


class BoardCard(QGroupBox):
    """One board's result: verdict, memory bars, latency, energy, battery, arena, notes."""

    def __init__(self, board: Board, parent: QWidget | None = None) -> None:
        super().__init__(board.name if len(board.name) <= 34 else board.name[:33] + "…", parent)
        self.setToolTip(board_line(board))
        self.board = board
        self.estimate: Estimate | None = None
        self.status = QLabel("")
        self.verdict = QLabel("")
        self.flash_bar, self.ram_bar = MemoryBar(), MemoryBar()
        self.latency, self.energy, self.battery, self.arena = QLabel(""), QLabel(""), QLabel(""), QLabel("")
        self.modelled = QLabel("")
        self.notes = QLabel("")
        form = QFormLayout(self)
        form.addRow(self.status)
        form.addRow(self.verdict)
        form.addRow("Flash", self.flash_bar)
        form.addRow("RAM", self.ram_bar)
        font = self.modelled.font()
        font.setItalic(True)
        self.modelled.setFont(font)
        for w in (self.latency, self.energy, self.battery, self.arena, self.modelled, self.notes):
            form.addRow(w)  # lines broken here, not word-wrapped: wrapped labels get squashed in tight layouts
        self.show_status("waiting")

    def show_status(self, text: str, error: bool = False) -> None:
        self.status.setText(_wrap(text))
        theme.set_tone(self.status, "error" if error else None)
        self.status.setVisible(bool(text))
        for w in (self.verdict, self.flash_bar, self.ram_bar, self.latency, self.energy, self.battery, self.arena,
                  self.modelled, self.notes):
            w.setVisible(self.estimate is not None and not error)

    def show_estimate(self, e: Estimate) -> None:
        self.estimate = e
        v = e.verdicts
        overall = max(v.values(), key=lambda s: SEVERITY.index(s) if s in SEVERITY else 0)
        self.verdict.setText(f"<b>{overall.capitalize()}</b>: flash {v['flash']}, RAM {v['ram']}")
        theme.set_tone(self.verdict, VERDICT_TONES.get(overall, "muted"))
        self.flash_bar.show_usage("flash", e.flash, e.limits.get("flash_bytes"), v["flash"])
        self.ram_bar.show_usage("RAM", e.ram, e.limits.get("ram_bytes"), v["ram"])
        lat = e.latency
        self.latency.setText(f"latency {_ms(lat['total'])}: DSP {_ms(lat['dsp'])},\n"
                             f"network {_ms(lat['network'])}, quantising {_ms(lat['io'])}, "
                             f"anomaly {_ms(lat['anomaly'])}")
        self.latency.setToolTip(f"{e.core} code, {e.cpi:g} cycles per instruction: {e.cpi_source}")
        self.energy.setText("energy: no power figures for this board" if e.energy_uj is None
                            else f"energy: {e.energy_uj:,.1f} µJ per inference")
        arena = f"arena: {e.ram['arena']:,} B"
        self.arena.setText(arena if e.tflm_arena is None else f"{arena}; TFLM's minimum arena: {e.tflm_arena:,} B")
        self.modelled.setText(_wrap(f"modelled: {e.modelled}") if e.modelled else "")
        notes = [n for n in e.notes if not (e.modelled and e.modelled in n)]
        self.notes.setText(_wrap("\n".join(notes)))
        self.show_status("")
        self.modelled.setVisible(bool(e.modelled))
        self.notes.setVisible(bool(notes))

    def show_battery(self, capacity_mah: float, per_second: float) -> None:
        if self.estimate is None:
            return
        hours = self.estimate.battery_hours(capacity_mah, per_second)
        b = self.estimate.board
        if hours is not None:
            self.battery.setText(f"battery: {hours:,.0f} h ({hours / 24:,.1f} days) at {per_second:g}/s")
        elif not b.get("active_current_ma") or b.get("sleep_current_ua") is None:
            self.battery.setText("battery: no power figures for this board")
        else:
            self.battery.setText(f"battery: cannot keep up with {per_second:g} inferences/s")
