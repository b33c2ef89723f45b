"""The main window: welcome screen, the wizard's steps, a log dock, one progress bar with cancel
for the running job, shortcuts, the theme, About; geometry, recent projects and the theme persist in QSettings.

Keys: Ctrl+1..Ctrl+5 (or Alt+1..Alt+5, the step buttons' mnemonics) show a step, Ctrl+PgDown and Ctrl+PgUp
the next and previous one, Ctrl+0 the welcome screen; a step shown puts the focus on its first input."""

from __future__ import annotations

import platform
import time
from pathlib import Path

import numpy
import pyqtgraph
from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QSettings, Qt, QTimer, qVersion
from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from studio import __version__
from studio.dataset import importer
from studio.demo import flow
from studio.project import NeedsRepair, Project, ProjectError
from studio.ui import keyboard, theme
from studio.ui.icons import app_icon
from studio.ui.pages.capture import CapturePage
from studio.ui.pages.deploy import DeployPage
from studio.ui.pages.impulse import ImpulsePage
from studio.ui.pages.test import TestPage
from studio.ui.pages.train import TrainPage
from studio.ui.repair_offer import offer_repair
from studio.ui.step_bar import STEP_TIPS, STEPS, StepBar
from studio.ui.welcome import WelcomePage
from studio.ui.worker import JobHandle, JobRunner

THEMES = (("system", "&System"), ("light", "&Light"), ("dark", "&Dark"))
MAX_RECENT = 10


class MainWindow(QMainWindow):
    DEFAULT_SIZE = (1280, 820)

    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or QSettings()
        self.project: Project | None = None
        self.runner = JobRunner()
        self.runner.started.connect(self._track_job)
        self.job: JobHandle | None = None
        self.undo_stack = QUndoStack(self)
        self.setWindowTitle("TinyML Studio")
        self.setWindowIcon(app_icon())
        self.theme = theme.manager()
        self.theme.set_choice(theme.initial_choice(self.settings))

        self.welcome = WelcomePage()
        self.welcome.new_requested.connect(self.new_project_dialog)
        self.welcome.open_requested.connect(self.open_project_dialog)
        self.welcome.recent_chosen.connect(self.open_project)
        self.welcome.demo_requested.connect(self._open_default_demo)
        self.capture = CapturePage(self.undo_stack)
        self.capture.log.connect(self.log)
        self.capture.failed.connect(self.error)
        self.impulse = ImpulsePage(self.runner)
        self.impulse.log.connect(self.log)
        self.impulse.failed.connect(self.error)
        self.train = TrainPage(self.runner)
        self.train.log.connect(self.log)
        self.test = TestPage(self.runner)
        self.test.log.connect(self.log)
        self.pages = [self.capture, self.impulse, self.train, self.test, DeployPage(self.runner)]

        self.stack = QStackedWidget()
        self.stack.addWidget(self.welcome)
        for page in self.pages:
            self.stack.addWidget(page)

        self.nav = StepBar()
        self.nav.group.idClicked.connect(self.show_step)
        self.nav.setEnabled(False)

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.nav)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self.log_view = QPlainTextEdit()
        self.log_view.setReadOnly(True)
        self.log_view.setMaximumBlockCount(5000)
        self.log_dock = QDockWidget("Log", self)
        self.log_dock.setObjectName("log")
        self.log_dock.setWidget(self.log_view)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.log_dock)

        self.job_label = QLabel("")
        self.job_bar = QProgressBar()
        self.job_bar.setMaximumWidth(240)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Cancel the running job (Esc)")
        self.cancel_button.clicked.connect(self.cancel_job)
        for w in (self.job_label, self.job_bar, self.cancel_button):
            self.statusBar().addPermanentWidget(w)
            w.hide()

        self._build_menus()
        self._restore()

    # ------------------------------------------------------------------ menus and shortcuts

    def _action(self, menu, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self._action(file_menu, "&New project…", self.new_project_dialog, QKeySequence.StandardKey.New)
        self._action(file_menu, "&Open project…", self.open_project_dialog, QKeySequence.StandardKey.Open)
        self.recent_menu = file_menu.addMenu("Recent projects")
        self.import_action = self._action(file_menu, "&Import data…", self.import_dialog, "Ctrl+I",
                                          "Import CSV, WAV and Edge Impulse files or folders")
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        edit = bar.addMenu("&Edit")
        undo = self.undo_stack.createUndoAction(self, "&Undo")
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        redo = self.undo_stack.createRedoAction(self, "&Redo")
        redo.setShortcut(QKeySequence.StandardKey.Redo)
        edit.addAction(undo)
        edit.addAction(redo)
        view = bar.addMenu("&View")
        view.addAction(self.log_dock.toggleViewAction())
        view.addSeparator()
        self.step_actions = [self._action(view, name, lambda _=False, i=i: self.show_step(i), f"Ctrl+{i + 1}",
                                          STEP_TIPS[i].capitalize())
                             for i, name in enumerate(STEPS)]
        self.step_actions += [
            self._action(view, "&Next step", lambda: self.step_by(1), "Ctrl+PgDown", "Show the next step"),
            self._action(view, "&Previous step", lambda: self.step_by(-1), "Ctrl+PgUp", "Show the previous step")]
        for action in self.step_actions:
            action.setEnabled(False)
        self._action(view, "Welcome", lambda: self.stack.setCurrentWidget(self.welcome), "Ctrl+0")
        view.addSeparator()
        theme_menu = view.addMenu("&Theme")
        self.theme_group = QActionGroup(self)
        self.theme_actions: dict[str, QAction] = {}
        for choice, text in THEMES:
            action = self._action(theme_menu, text, lambda _=False, c=choice: self.set_theme(c),
                                  tip="Follow the system's light or dark scheme" if choice == "system"
                                  else f"Always {choice}")
            action.setCheckable(True)
            action.setChecked(choice == self.theme.choice)
            self.theme_group.addAction(action)
            self.theme_actions[choice] = action
        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&About TinyML Studio", self.about, QKeySequence.StandardKey.HelpContents)
        cancel = QAction(self)
        cancel.setShortcut(QKeySequence("Esc"))
        cancel.triggered.connect(self.cancel_job)
        self.addAction(cancel)

    # ------------------------------------------------------------------ settings

    def set_theme(self, choice: str) -> None:
        """System, light or dark, applied now and kept for the next start (``$TINYML_STUDIO_THEME`` wins there)."""
        self.theme.set_choice(choice)
        self.theme_actions[choice].setChecked(True)
        self.settings.setValue(theme.SETTING, choice)

    def _restore(self) -> None:
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(*self.DEFAULT_SIZE)
        state = self.settings.value("window/state")
        if state is not None:
            self.restoreState(state)
        else:
            self.resizeDocks([self.log_dock], [120], Qt.Orientation.Vertical)
        self._show_recent()

    def recent_projects(self) -> list[str]:
        value = self.settings.value("recent", [])
        items = [value] if isinstance(value, str) else list(value or [])
        return [p for p in items if (Path(p) / "project.json").is_file()]

    def _remember(self, path: Path) -> None:
        items = [str(path)] + [p for p in self.recent_projects() if p != str(path)]
        self.settings.setValue("recent", items[:MAX_RECENT])
        self._show_recent()

    def _show_recent(self) -> None:
        items = self.recent_projects()
        self.welcome.set_recent(items)
        self.recent_menu.clear()
        for p in items:
            self._action(self.recent_menu, p, lambda _=False, p=p: self.open_project(p))
        self.recent_menu.setEnabled(bool(items))

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.sync()
        self.capture.shutdown()
        self.impulse.shutdown()
        self.runner.shutdown(5000)
        if self.project is not None:
            self.project.close()
        super().closeEvent(event)

    # ------------------------------------------------------------------ projects

    def new_project_dialog(self) -> None:
        folder = QFileDialog.getSaveFileName(self, "New project folder")[0]
        if folder:
            self.create_project(folder)

    def open_project_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open project folder")
        if folder:
            self.open_project(folder)

    def create_project(self, folder: str) -> bool:
        try:
            Project.create(Path(folder)).close()
        except ProjectError as e:
            self.error(str(e))
            return False
        return self.open_project(folder)

    def _open_default_demo(self) -> None:
        if self.job is not None and not self.job.done:
            self.error("wait for the running job to finish (or cancel it) before opening the demo project")
            return
        try:
            self.open_demo(flow.default_workdir())
        except flow.DemoError as e:
            self.error(str(e))

    def open_demo(self, workdir: Path, params: object | None = None) -> JobHandle | None:
        """Open the demo project in ``workdir``; when it is not there yet, prepare it first as a job (recordings
        from virtual boards, the impulse, a trained model) with the progress bar, and open it when done. Raises
        ``DemoError`` for a folder the demo may not clear."""
        if flow.is_trained_demo(workdir):
            self.open_project(str(Path(workdir) / flow.PROJECT))
            return None
        flow.check_workdir(Path(workdir))  # DemoError: a folder the demo may not clear
        self.log(f"preparing the demo project in {workdir}")
        handle = self.runner.start("Preparing the demo project", flow.run,
                                   params or flow.DemoParams(Path(workdir), until="train"))
        handle.partial.connect(lambda p: self.log(f"demo: {p.name}: {p.summary}")
                               if isinstance(p, flow.StepDone) else None)
        handle.finished.connect(lambda report: self.open_project(report.project))
        return handle

    def open_project(self, folder: str) -> bool:
        try:
            project = Project.open(Path(folder))
        except NeedsRepair as e:
            offer_repair(self, folder, e)
            return False
        except ProjectError as e:
            self.error(str(e))
            return False
        if self.project is not None:
            self.project.close()
        self.project = project
        self.undo_stack.clear()
        for page in self.pages:
            page.set_project(project)
        for note in project.recovery_notes:
            self.log(f"recovered: {note}")
        self._remember(project.path)
        self.nav.setEnabled(True)
        for action in self.step_actions:
            action.setEnabled(True)
        self.nav.project_label.setText(f"{project.config.name} — {project.path}")
        self.setWindowTitle(f"{project.config.name} — TinyML Studio")
        self.show_step(0)
        self.log(f"opened {project.path}")
        return True

    def show_step(self, index: int) -> None:
        if self.project is None or not 0 <= index < len(self.pages):
            return
        self.stack.setCurrentWidget(self.pages[index])
        self.nav.select(index)
        if self.pages[index] is self.impulse:
            self.impulse.refresh_samples()
        elif self.pages[index] in (self.train, self.test):
            self.pages[index].refresh()
        # after the event loop has shown the widgets the refresh may have made (a parameter form's)
        page = self.pages[index]
        QTimer.singleShot(0, self, lambda: keyboard.focus_first_input(page) if self.stack.currentWidget() is page
                          else None)

    def current_step(self) -> int:
        """The step shown, -1 on the welcome screen."""
        page = self.stack.currentWidget()
        return self.pages.index(page) if page in self.pages else -1

    def step_by(self, delta: int) -> None:
        """The next (1) or previous (-1) step, stopping at the first and the last."""
        self.show_step(min(max(self.current_step() + delta, 0), len(self.pages) - 1))

    # ------------------------------------------------------------------ jobs

    def import_dialog(self) -> None:
        if self.project is None:
            return
        files = QFileDialog.getOpenFileNames(self, "Import data", "", "Samples (*.csv *.wav *.json *.cbor)")[0]
        if files:
            self.run_import([Path(f) for f in files])

    def run_import(self, paths: list[Path], **options) -> JobHandle:
        params = importer.ImportParams(self.project.path, paths, **options)
        handle = self.runner.start("Import", importer.run, params)
        handle.finished.connect(self._import_done)
        return handle

    def _import_done(self, report) -> None:
        for line in report.error_lines():
            self.log(f"refused {line}")
        self.log(report.summary())
        self.capture.refresh_samples()

    def _track_job(self, handle: JobHandle) -> None:
        self.job = handle
        self.job_label.setText(handle.name)
        self.job_bar.setValue(0)
        for w in (self.job_label, self.job_bar, self.cancel_button):
            w.show()
        handle.progressed.connect(lambda f, s: (self.job_bar.setValue(int(f * 100)), self.job_label.setText(
            f"{handle.name}: {s}" if s else handle.name)))
        handle.failed.connect(lambda msg: (self.log(f"{handle.name} failed: {msg}"), self.error(msg.splitlines()[0])))
        handle.cancelled.connect(lambda: self.log(f"{handle.name} cancelled"))
        for sig in (handle.finished, handle.failed, handle.cancelled):
            sig.connect(self._job_ended)

    def _job_ended(self, *_args) -> None:
        if not self.runner.active:
            for w in (self.job_label, self.job_bar, self.cancel_button):
                w.hide()
            self.job = None

    def cancel_job(self) -> None:
        if self.job is not None:
            self.job.cancel()

    # ------------------------------------------------------------------ messages

    def log(self, message: str) -> None:
        self.log_view.appendPlainText(f"{time.strftime('%H:%M:%S')}  {message}")

    def error(self, message: str) -> None:
        self.log(f"error: {message}")
        self.statusBar().showMessage(message, 10000)

    def about_text(self) -> str:
        return (f"<h3>TinyML Studio {__version__}</h3><p>Machine learning on microcontrollers, offline.</p>"
                f"<p>Python {platform.python_version()}, Qt {qVersion()}, PySide6 {pyside_version}, "
                f"pyqtgraph {pyqtgraph.__version__}, NumPy {numpy.__version__}</p>")

    def about(self) -> None:
        QMessageBox.about(self, "About TinyML Studio", self.about_text())
