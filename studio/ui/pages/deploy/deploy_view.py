"""Deploying a run to a board, step by step: the board and the target (firmware project, capture firmware,
C library), export into a folder, build an environment with PlatformIO (its log streamed, its RAM and Flash
beside the estimate), flash it to a chosen port (never a guessed one) or, for the emulated board, run it under
QEMU fed with a sensor stream, and monitor the results live. All long work runs as jobs with progress and
cancel; every failure is one readable line, with the whole log kept."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from studio.boards import Board, BoardError, load_boards
from studio.deploy.export.place import earlier_export, replaces
from studio.deploy.export.project import ExportParams, ExportResult, destination
from studio.deploy.export.project import run as export_job
from studio.deploy.export.targets import TARGETS
from studio.deploy.pio import default_core_dir
from studio.deploy.pio.build import BuildParams
from studio.deploy.pio.build import run as build_job
from studio.deploy.pio.runner import PioResult
from studio.errors import StudioError
from studio.estimate.estimate import Estimate, can_estimate
from studio.learn import runs
from studio.project import Project
from studio.project.safepath import own_folder
from studio.ui import theme
from studio.ui.pages.deploy.flash_panel import FlashPanel
from studio.ui.run_picker import RunPicker
from studio.ui.worker import JobRunner

NO_EXPORT = "Export first: there is nothing to build in this folder yet."


def replace_question(out: Path, what: str) -> str:
    """What the user is asked before an export replaces ``out`` (``what`` from ``place.replaces``)."""
    return {"export": f"Replace the earlier export in {out}? Changes made to its files are lost, and it is built "
                      "again.",
            "zip": f"Replace {out}?",
            "files": f"{out} is not empty and holds no earlier export. Delete everything in it and export there?",
            }[what]


# ------------------------------------------------------------------------------------------------ the view


class DeployView(QWidget):
    """Board, target, export and build on the left; flash, monitor and the live results (``panel``) on the right."""

    def __init__(self, runner: JobRunner, run_picker: RunPicker,
                 estimate_for: Callable[[str], Estimate | None] = lambda _board: None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner, self.run_picker, self.estimate_for = runner, run_picker, estimate_for
        self.project: Project | None = None
        self.job: Any = None  # export, build, flash or the emulated run (one at a time)
        self.built: PioResult | None = None
        self._auto_folder = ""  # the default folder shown, replaced when the board or target changes
        try:
            self.boards: dict[str, Board] = {b.id: b for b in load_boards()}
        except BoardError:
            self.boards = {}
        self._build()
        self._board_changed()

    # ------------------------------------------------------------------ layout

    def _button(self, text: str, slot: Callable[[], None], tip: str) -> QPushButton:
        b = QPushButton(text)
        b.setToolTip(tip)
        b.clicked.connect(lambda _c=False: slot())
        return b

    def _build(self) -> None:
        self.board_combo = QComboBox()
        self.board_combo.setToolTip("The board to export, build and flash for")
        for b in self.boards.values():
            self.board_combo.addItem(f"{b.name} ({b.id})", b.id)
        self.board_combo.setCurrentIndex(max(0, self.board_combo.findData("virtual-cortex-m4")))
        self.board_combo.currentIndexChanged.connect(lambda _i: self._board_changed())
        self.estimate_label = QLabel("")
        self.estimate_label.setWordWrap(True)
        self.target_combo = QComboBox()
        self.target_combo.setToolTip("Firmware running the impulse, firmware streaming sensor data for capture, or "
                                     "the impulse as a plain C library")
        for key, entry in TARGETS.items():
            self.target_combo.addItem(entry.title, key)
        self.target_combo.currentIndexChanged.connect(lambda _i: self._board_changed())
        self.folder = QLineEdit()
        self.folder.setToolTip("Where the project is exported (a .zip for the C library)")
        self.folder.textEdited.connect(lambda _t: self._read_marker())
        self.export_button = self._button("Export", self.export, "Write the PlatformIO project (or the zip)")
        self.env_combo = QComboBox()
        self.env_combo.setToolTip("The PlatformIO environment to build (the board's own first)")
        self.build_button = self._button("Build", self.build, "pio run with the offline kit")
        self.sizes = QLabel("")
        self.sizes.setWordWrap(True)
        self.cancel_button = self._button("Cancel", self.cancel, "Stop the running export, build or flash")
        self.progress = QProgressBar()
        self.status = QLabel("")
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(20000)
        self.log.setPlaceholderText("PlatformIO's output")
        self.panel = FlashPanel(self, self.runner)

        form = QFormLayout()
        choose = self._button("Choose…", self.choose_folder, "Pick the export folder")
        for name, items in (("Board", (self.board_combo,)), ("Estimate", (self.estimate_label,)),
                            ("Target", (self.target_combo,)), ("Export", (self.folder, choose, self.export_button)),
                            ("Build", (self.env_combo, self.build_button)), ("Sizes", (self.sizes,))):
            row = QHBoxLayout()
            for i, w in enumerate(items):
                row.addWidget(w, 1 if i == 0 else 0)
            form.addRow(name, row)
        jobs = QHBoxLayout()
        for w, stretch in ((self.progress, 0), (self.status, 1), (self.cancel_button, 0)):
            jobs.addWidget(w, stretch)
        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(form)
        column.addLayout(jobs)
        column.addWidget(self.message)
        column.addWidget(self.log, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.panel)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        QVBoxLayout(self).addWidget(split)

    def say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        theme.set_tone(self.message, "error" if error else None)

    def _enable(self) -> None:
        ready = self.project is not None and self.job is None
        for w in (self.export_button, self.board_combo, self.target_combo):
            w.setEnabled(ready)
        self.build_button.setEnabled(ready and self.env_combo.count() > 0)
        self.cancel_button.setEnabled(self.job is not None)
        self.panel.update_state(self.job is None, TARGETS[self.target()].archive)

    # ------------------------------------------------------------------ what the panel asks

    def board(self) -> str:
        return str(self.board_combo.currentData() or "")

    def target(self) -> str:
        return str(self.target_combo.currentData())

    def env(self) -> str:
        return self.env_combo.currentText()

    def export_folder(self) -> Path:
        return Path(self.folder.text().strip()).expanduser()

    def emulated_board(self) -> bool:
        b = self.boards.get(self.board())
        return b is not None and b.kind == "emulated"

    def host_board(self) -> bool:
        """This computer: built with the app's native platform, run in a terminal, never flashed."""
        b = self.boards.get(self.board())
        return b is not None and b.kind == "host"

    def chosen_run(self) -> runs.Run | None:
        return self._run(quiet=True)

    def _run(self, quiet: bool = False) -> runs.Run | None:
        if self.project is None:
            return None
        try:
            return self.run_picker.load(self.project)
        except StudioError as e:
            if not quiet:
                self.say(f"No training run to deploy: train one on the Train step ({e})", error=True)
            return None

    # ------------------------------------------------------------------ project, board, folder

    def set_project(self, project: Project | None) -> None:
        self.cancel()
        self.panel.stop_monitor()
        self.project = project
        self._auto_folder = ""
        self.folder.clear()
        self.built = None
        self.panel.live.clear()
        self.refresh()

    def refresh(self) -> None:
        """Re-read what may have changed: the run's streams, the ports, the export folder's environments."""
        self.panel.stream.fill(self.project, self.chosen_run())
        self.panel.refresh_ports()
        self._board_changed()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        if self.project is not None and self.job is None:
            self.refresh()
        super().showEvent(event)

    def _board_changed(self) -> None:
        if self.project is not None and (not self.folder.text() or self.folder.text() == self._auto_folder):
            base = own_folder(self.project.path, "deploy")
            name = TARGETS[self.target()].default_name(self.board())
            self._auto_folder = str(base / name)
            self.folder.setText(self._auto_folder)
        self._read_marker()
        self.show_sizes()

    def choose_folder(self) -> None:
        start = self.folder.text() or (str(self.project.path) if self.project else "")
        if TARGETS[self.target()].archive:  # replacing a zip is asked on Export, not twice
            path = QFileDialog.getSaveFileName(self, "C library zip", start, "Zip (*.zip)",
                                               options=QFileDialog.Option.DontConfirmOverwrite)[0]
        else:
            path = QFileDialog.getExistingDirectory(self, "Export folder", start)
        if path:
            self.folder.setText(path)
            self._read_marker()

    def _read_marker(self) -> None:
        """The environments of an earlier export of this board and target in the folder (else none)."""
        envs: list[str] = []
        earlier = earlier_export(self.export_folder())
        if earlier is not None and earlier.board == self.board() and earlier.target == self.target():
            envs = earlier.envs
            self.panel.set_baud(earlier.baud)
        keep = self.env()
        self.env_combo.clear()
        self.env_combo.addItems(envs)
        if keep in envs:
            self.env_combo.setCurrentText(keep)
        self._enable()

    def show_sizes(self) -> None:
        """PlatformIO's sizes of the last build beside the estimate of the board, when there is one."""
        e = self.estimate_for(self.board())
        estimate = f"flash {e.flash['total']:,} B, RAM {e.ram['total']:,} B" if e is not None else ""
        board = self.boards.get(self.board())
        none = ("none for this board yet (add it to the comparison above and press Estimate)"
                if board is None or can_estimate(board) else "none: there is no latency model for this board")
        self.estimate_label.setText(estimate or none)
        built = self.built
        if built is None or (built.flash is None and built.ram is None):
            self.sizes.setText("Build to see PlatformIO's sizes." if built is None else "PlatformIO printed no sizes.")
            return
        parts = [f"{name} {u.used:,} B of {u.total:,} B ({u.fraction:.1%})"
                 for name, u in (("flash", built.flash), ("RAM", built.ram)) if u is not None]
        self.sizes.setText("PlatformIO: " + ", ".join(parts) + (f" (estimated: {estimate})" if estimate else ""))

    # ------------------------------------------------------------------ jobs

    def start_job(self, name: str, job: Callable, params: Any, done: Callable[[Any], None]) -> None:
        """Run ``job`` with progress, cancel, its log lines and live results shown; one at a time."""
        self.say("")
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.job = handle = self.runner.start(name, job, params)
        handle.progressed.connect(self._progressed)
        handle.partial.connect(self._partial)
        handle.finished.connect(done)
        handle.failed.connect(lambda msg: self._failed(name, msg))
        handle.cancelled.connect(lambda: self.say(f"{name} cancelled."))
        for sig in (handle.finished, handle.failed, handle.cancelled):
            sig.connect(lambda *_a, h=handle: self._ended(h))
        self._enable()

    def _progressed(self, fraction: float, status: str) -> None:
        self.progress.setValue(int(fraction * 100))
        self.status.setText(status)

    def _partial(self, item: Any) -> None:
        if isinstance(item, str):
            self.log.appendPlainText(item)
        else:
            self.panel.live.show_line(item)

    def _failed(self, name: str, message: str) -> None:
        self.log.appendPlainText(f"{name} failed: {message}")
        self.say(message.splitlines()[0] if message else f"{name} failed", error=True)

    def _ended(self, handle: Any) -> None:
        if self.job is handle:
            self.job = None
            self.progress.setRange(0, 100)
            self.status.setText("")
        self.panel.live.flush()
        self._enable()

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def export(self) -> None:
        needs_run = TARGETS[self.target()].needs_run
        run = self._run(quiet=not needs_run)
        if self.job is not None or (run is None and needs_run):
            return
        if not self.folder.text().strip():
            self.say("Choose the export folder first.", error=True)
            return
        out = destination(self.export_folder(), self.target())
        what = replaces(out, TARGETS[self.target()].archive)
        if what is not None:
            answer = QMessageBox.question(self, "Replace?", replace_question(out, what),
                                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                          QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                self.say(f"Not exported: {out} is left as it was.")
                return
        params = ExportParams(run, self.board(), self.export_folder(), self.target(), overwrite=what is not None)
        self.start_job(f"Export for {self.board()}", export_job, params, self._exported)

    def _exported(self, result: ExportResult) -> None:
        self.built = None
        if self.folder.text() == self._auto_folder:
            self._auto_folder = str(result.path)
        self.folder.setText(str(result.path))
        self._read_marker()
        self.log.appendPlainText(f"exported {result.path} ({len(result.files)} files; environments: "
                                 f"{', '.join(result.envs) or '-'})")
        self.say(f"Exported to {result.path}" + "".join(f"\n{n}" for n in result.notes))
        self.show_sizes()

    def build(self) -> None:
        if self.job is not None:
            return
        if not self.env():
            self.say(NO_EXPORT, error=True)
            return
        self.log.clear()
        self.built = None
        self.show_sizes()
        params = BuildParams(self.export_folder(), self.env(), default_core_dir())
        self.start_job(f"Build {self.env()}", build_job, params, self._built)
        self.progress.setRange(0, 0)  # pio says what it does, not how far it is

    def _built(self, result: PioResult) -> None:
        self.built = result
        self.say(f"Built {self.env()} in {result.seconds:.1f} s.")
        self.show_sizes()
