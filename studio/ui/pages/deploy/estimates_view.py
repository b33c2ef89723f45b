"""On-device estimates before building anything: pick up to three boards, run the estimate job
(studio.estimate) for each, and see flash and RAM against the boards' memories, latency, energy,
battery life, the per-layer costs, and the instructions counted on the virtual board. A thin view:
every number comes from the job's Estimate."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from studio.boards import Board, BoardError, get_board, load_boards
from studio.estimate.estimate import Estimate, EstimateParams, can_estimate, not_estimable
from studio.estimate.estimate import run as estimate_job
from studio.learn import runs
from studio.learn.runs import Run
from studio.project import Project, ProjectError
from studio.ui import theme
from studio.ui.pages.deploy.estimate_cards import BoardCard, board_line, fill_layout
from studio.ui.pages.deploy.estimate_details import MEASURING, LayersBox, VirtualBox
from studio.ui.run_picker import RunPicker
from studio.ui.worker import JobRunner

MAX_BOARDS = 3
VIRTUAL_BOARD = "virtual-cortex-m4"
NO_RUN = "No training run yet: train one on the Train step, then estimate it here."
NO_PROJECT = "Open a project first."
HINT = f"Choose up to {MAX_BOARDS} boards and press Estimate."


def board_matches(b: Board, text: str) -> bool:
    """Every word of ``text`` occurs in the board's id, name, vendor, MCU or core."""
    hay = " ".join((b.id, b.name, b.vendor, b.mcu, b.core)).lower()
    return all(word in hay for word in text.lower().split())


def _button(text: str, slot: Callable[[], None], tip: str = "") -> QPushButton:
    b = QPushButton(text)
    b.setToolTip(tip)
    b.clicked.connect(lambda _checked=False: slot())
    return b


def _spin(low: float, high: float, value: float, suffix: str, slot: Callable[[], None]) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(low, high)
    spin.setValue(value)
    spin.setSuffix(suffix)
    spin.valueChanged.connect(lambda _v: slot())
    return spin


class EstimatesView(QWidget):
    def __init__(self, runner: JobRunner, run_picker: RunPicker | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.run_combo = run_picker or RunPicker("The training run whose impulse is estimated")
        self.project: Project | None = None
        self.job = None
        self.queue: list[tuple[str, bool]] = []  # (board id, is the virtual measurement)
        self.total = 0
        self.chosen: list[str] = []
        self.cards: dict[str, BoardCard] = {}
        self.virtual: Estimate | None = None
        self.errors: list[str] = []
        self._run_obj: Run | None = None
        try:
            catalogue = load_boards()
            problem = ""
        except BoardError as e:
            catalogue, problem = [], str(e)
        # boards without a latency model (the host computer) cannot be estimated: they are not offered
        self.boards = [b for b in catalogue if can_estimate(b)]
        self.unlisted = [b for b in catalogue if not can_estimate(b)]
        self._build()
        self.say(problem or NO_PROJECT, error=bool(problem))
        self._enable()

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter boards: name, MCU, core …")
        self.filter.setClearButtonEnabled(True)
        self.filter.setToolTip("Show the boards whose name, vendor, MCU or core has every word; Enter adds the first")
        self.filter.textChanged.connect(self.apply_filter)
        self.filter.returnPressed.connect(self._add_first_visible)
        self.board_list = QListWidget()
        for b in self.boards:
            item = QListWidgetItem(board_line(b))
            item.setData(Qt.ItemDataRole.UserRole, b.id)
            item.setToolTip(board_line(b))
            self.board_list.addItem(item)
        unlisted = ", ".join(b.name for b in self.unlisted)
        self.board_list.setToolTip("The board catalogue: double-click a board to compare it" + (
            f". Not listed, as there is no latency model for it: {unlisted}" if unlisted else ""))
        self.board_list.itemDoubleClicked.connect(lambda item: self.add_board(item.data(Qt.ItemDataRole.UserRole)))
        self.add_button = _button("Add board", self._add_selected, "Add the selected board (or double-click it)")
        self.chosen_list = QListWidget()
        self.chosen_list.setToolTip(f"Up to {MAX_BOARDS} boards, compared side by side")
        self.remove_button = _button("Remove board", self._remove_selected, "Take the selected board out of the "
                                     "comparison")
        picker = QGroupBox("Boards")
        fill_layout(QVBoxLayout(picker), self.filter, self.board_list, self.add_button, QLabel("Compare"),
              self.chosen_list, self.remove_button)
        picker.setMinimumWidth(240)
        picker.setMaximumWidth(380)

        self.run_combo.currentIndexChanged.connect(lambda _i: self.clear_results())
        self.estimate_button = _button("Estimate", self.estimate, "Compile the impulse for each board and measure it")
        self.cancel_button = _button("Cancel", self.cancel, "Stop the running estimate")
        self.tflm_check = QCheckBox("Compare with TFLM's arena")
        self.tflm_check.setToolTip("Also find the smallest arena TensorFlow Lite Micro runs the model with (slower)")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(200)
        self.status, self.message = QLabel(""), QLabel("")
        self.message.setWordWrap(True)
        self.cards_row = QHBoxLayout()
        self.capacity = _spin(1, 1_000_000, 1000, " mAh", self.show_battery)
        self.rate = _spin(0.01, 10_000, 1.0, " /s", self.show_battery)
        self.capacity.setToolTip("Battery capacity for the battery-life figure of each board")
        self.rate.setToolTip("Inferences per second for the battery-life figure (the board sleeps in between)")

        self.layers = LayersBox()
        self.virtual_box = VirtualBox(self.measure_virtual)

        self.cards_widget = QWidget()
        self.cards_widget.setLayout(self.cards_row)
        scroll = QScrollArea()  # scrolls rather than squashes the cards in a small window
        scroll.setWidget(self.cards_widget)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        bottom = QWidget()
        fill_layout(QHBoxLayout(bottom), (self.layers, 1), self.virtual_box).setContentsMargins(0, 0, 0, 0)
        self.split = split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(scroll)
        split.addWidget(bottom)
        split.setChildrenCollapsible(False)
        split.setStretchFactor(1, 1)
        controls = fill_layout(QHBoxLayout(), QLabel("Run"), self.run_combo, self.estimate_button,
                               self.cancel_button, self.tflm_check, 1, self.status, self.progress)
        battery = fill_layout(QHBoxLayout(), QLabel("Battery"), self.capacity, QLabel("inferences per second"),
                              self.rate, 1)
        right = fill_layout(QVBoxLayout(), controls, self.message, battery, (split, 1))
        fill_layout(QHBoxLayout(self), picker, (right, 1))

    def say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))
        theme.set_tone(self.message, "error" if error else None)

    def _enable(self) -> None:
        ready = self.project is not None and self.run_combo.count() > 0 and self.job is None
        self.estimate_button.setEnabled(ready)
        self.virtual_box.measure_button.setEnabled(ready)
        self.cancel_button.setEnabled(self.job is not None)
        self.run_combo.setEnabled(self.job is None)

    # ------------------------------------------------------------------ project and runs

    def set_project(self, project: Project | None) -> None:
        self.cancel()
        self.project = project
        self.clear_results()
        self.refresh()

    def refresh(self) -> None:
        """Re-read the runs (called when shown: one may have been trained)."""
        if self.run_combo.fill(self.project):
            self.clear_results()
        numbers = runs.numbers(self.project) if self.project is not None else []
        if self.project is None:
            self.say(NO_PROJECT)
        elif not numbers:
            self.say(NO_RUN, error=True)
        elif self.message.text() in (NO_PROJECT, NO_RUN):
            self.say(HINT)
        self._enable()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        if self.project is not None and self.job is None:
            self.refresh()
        super().showEvent(event)

    # ------------------------------------------------------------------ boards

    def apply_filter(self, text: str = "") -> None:
        by_id = {b.id: b for b in self.boards}
        for i in range(self.board_list.count()):
            item = self.board_list.item(i)
            item.setHidden(not board_matches(by_id[item.data(Qt.ItemDataRole.UserRole)], text))

    def visible_boards(self) -> list[str]:
        items = (self.board_list.item(i) for i in range(self.board_list.count()))
        return [it.data(Qt.ItemDataRole.UserRole) for it in items if not it.isHidden()]

    def add_board(self, board_id: str) -> bool:
        if board_id in self.chosen:
            return False
        board = next((b for b in self.boards if b.id == board_id), None)
        if board is None:
            refused = next((b for b in self.unlisted if b.id == board_id), None)
            self.say(not_estimable(refused) if refused else f"{board_id}: no such board in the catalogue", error=True)
            return False
        if len(self.chosen) >= MAX_BOARDS:
            self.say(f"At most {MAX_BOARDS} boards side by side: remove one first.", error=True)
            return False
        self.chosen.append(board_id)
        item = QListWidgetItem(f"{board.name} ({board.id})")
        item.setData(Qt.ItemDataRole.UserRole, board_id)
        self.chosen_list.addItem(item)
        return True

    def remove_board(self, board_id: str) -> None:
        if board_id in self.chosen and self.job is None:
            self.chosen_list.takeItem(self.chosen.index(board_id))
            self.chosen.remove(board_id)
            card = self.cards.pop(board_id, None)
            if card is not None:
                card.deleteLater()
                self._list_layers()

    def _add_selected(self) -> None:
        item = self.board_list.currentItem()
        if item is not None and not item.isHidden():
            self.add_board(item.data(Qt.ItemDataRole.UserRole))

    def _add_first_visible(self) -> None:
        visible = self.visible_boards()
        if visible:
            self.add_board(visible[0])

    def _remove_selected(self) -> None:
        item = self.chosen_list.currentItem()
        if item is not None:
            self.remove_board(item.data(Qt.ItemDataRole.UserRole))

    # ------------------------------------------------------------------ jobs

    def _run(self) -> Run | None:
        if self.project is None:
            self.say(NO_PROJECT, error=True)
            return None
        try:
            return self.run_combo.load(self.project)
        except ProjectError as e:
            self.say(NO_RUN if not runs.numbers(self.project) else str(e), error=True)
            return None

    def estimate(self) -> None:
        if self.job is not None:
            return
        run = self._run()
        if run is None:
            return
        if not self.chosen:
            self.say("Choose a board first: filter the list and add one (up to three).", error=True)
            return
        self.clear_results()
        for board_id in self.chosen:
            card = BoardCard(next(b for b in self.boards if b.id == board_id))
            self.cards[board_id] = card
            self.cards_row.addWidget(card)
        self._start(run, [(b, False) for b in self.chosen])

    def measure_virtual(self) -> None:
        if self.job is None and (run := self._run()) is not None:
            self.virtual = None
            self.virtual_box.clear(MEASURING)
            self._start(run, [(VIRTUAL_BOARD, True)])

    def _start(self, run: Run, items: list[tuple[str, bool]]) -> None:
        self.queue, self.total, self._run_obj, self.errors = list(items), len(items), run, []
        self.say("")
        self._next()

    def _next(self) -> None:
        if not self.queue:
            self.job = None
            self.progress.setValue(100)
            self.status.setText("")
            if self.errors:
                self.say("\n".join(self.errors), error=True)
            self._enable()
            return
        board_id, virtual = self.queue.pop(0)
        done = self.total - len(self.queue) - 1
        try:
            board = get_board(board_id)
        except BoardError as e:
            self._failed(board_id, virtual, str(e))
            return
        if not virtual:
            self.cards[board_id].show_status("estimating …")
        params = EstimateParams(board, run=self._run_obj, tflm=self.tflm_check.isChecked() and not virtual)
        self.job = self.runner.start(f"Estimate on {board.id}", estimate_job, params)
        self.job.progressed.connect(lambda f, s, i=done, n=board.name: self._progressed(i, n, f, s))
        self.job.finished.connect(lambda e, b=board_id, v=virtual: self._finished(b, v, e))
        self.job.failed.connect(lambda msg, b=board_id, v=virtual: self._failed(b, v, msg))
        self.job.cancelled.connect(self._cancelled)
        self._enable()

    def _progressed(self, index: int, name: str, fraction: float, status: str) -> None:
        self.progress.setValue(int((index + fraction) / max(self.total, 1) * 100))
        self.status.setText(f"{name}: {status}" if status else name)

    def _finished(self, board_id: str, virtual: bool, e: Estimate) -> None:
        if virtual:
            self.virtual = e
            self.virtual_box.show_estimate(e)
        elif board_id in self.cards:
            self.cards[board_id].show_estimate(e)
            self.cards[board_id].show_battery(self.capacity.value(), self.rate.value())
            self._list_layers()
            self._fit_cards()
        self._next()

    def _failed(self, board_id: str, virtual: bool, message: str) -> None:
        line = message.splitlines()[0] if message else "failed"
        if virtual:
            self.virtual_box.label.setText(line)
        elif board_id in self.cards:
            self.cards[board_id].show_status(line, error=True)
        self.errors.append(line if line.startswith(board_id) else f"{board_id}: {line}")
        self._next()

    def _cancelled(self) -> None:
        for card in self.cards.values():
            if card.estimate is None and card.status.text() in ("waiting", "estimating …"):
                card.show_status("cancelled")
        if self.virtual is None:
            self.virtual_box.cancelled()
        self.queue, self.job = [], None
        self.status.setText("")
        self.say("Estimate cancelled.")
        self._enable()

    def cancel(self) -> None:
        self.queue = []
        if self.job is not None:
            self.job.cancel()

    # ------------------------------------------------------------------ results

    def clear_results(self) -> None:
        for card in self.cards.values():
            card.deleteLater()
        self.cards = {}
        self.virtual = None
        self.virtual_box.clear()
        self._list_layers()

    def _fit_cards(self) -> None:
        """Give the cards the height they ask for, leaving the layer table some room."""
        total = sum(self.split.sizes())
        top = min(self.cards_widget.sizeHint().height() + 4, max(total - 220, 0))
        if total and top > self.split.sizes()[0]:
            self.split.setSizes([top, total - top])

    def estimates(self) -> dict[str, Estimate]:
        return {b: c.estimate for b, c in self.cards.items() if c.estimate is not None}

    def show_battery(self) -> None:
        for card in self.cards.values():
            card.show_battery(self.capacity.value(), self.rate.value())

    def _list_layers(self) -> None:
        self.layers.list_boards(self.estimates())
