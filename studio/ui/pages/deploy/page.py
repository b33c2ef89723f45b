"""The Deploy step: on-device estimates (flash, RAM, latency, energy) against chosen boards, then for one
board: the target, export, build with PlatformIO, flash (or run on the emulated board) and the live monitor."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGroupBox, QScrollArea, QSplitter, QVBoxLayout, QWidget

from studio.project import Project
from studio.ui.pages.deploy.deploy_view import DeployView
from studio.ui.pages.deploy.estimates_view import EstimatesView
from studio.ui.run_picker import RunPicker
from studio.ui.worker import JobRunner


class DeployPage(QWidget):
    def __init__(self, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.run_picker = RunPicker("The training run whose impulse is estimated and deployed")
        self.estimates = EstimatesView(runner, self.run_picker)
        self.deploy = DeployView(runner, self.run_picker, lambda board: self.estimates.estimates().get(board))
        self.run_picker.currentIndexChanged.connect(lambda _i: self.deploy.refresh())
        scroll = QScrollArea()  # scrolls rather than stretches the window in a small screen
        scroll.setWidget(self.deploy)
        scroll.setWidgetResizable(True)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes to its inputs, which it scrolls into view
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        split = QSplitter(Qt.Orientation.Vertical)
        for title, view in (("On-device estimates", self.estimates), ("Export, build, flash and monitor", scroll)):
            box = QGroupBox(title)
            QVBoxLayout(box).addWidget(view)
            split.addWidget(box)
        split.setChildrenCollapsible(False)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)

    def set_project(self, project: Project | None) -> None:
        self.estimates.set_project(project)
        self.deploy.set_project(project)

    def refresh(self) -> None:
        self.estimates.refresh()
        self.deploy.refresh()
