"""The Deploy step: on-device estimates (flash, RAM, latency, energy) against chosen boards,
before building anything. Export, build and flash of PlatformIO firmware come in a later release."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from studio.project import Project
from studio.ui.estimates_view import EstimatesView
from studio.ui.worker import JobRunner

LATER = "<i>Export, build and flash of PlatformIO firmware come in a later release.</i>"


class DeployPage(QWidget):
    def __init__(self, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.estimates = EstimatesView(runner)
        later = QLabel(LATER)
        later.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<h3>On-device estimates</h3>"))
        layout.addWidget(self.estimates, 1)
        layout.addWidget(later)

    def set_project(self, project: Project | None) -> None:
        self.estimates.set_project(project)

    def refresh(self) -> None:
        self.estimates.refresh()
