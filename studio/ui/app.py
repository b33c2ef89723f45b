"""Start the desktop app."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication

from studio.ui.main_window import MainWindow


def make_app(argv: list[str] | None = None) -> QApplication:
    QCoreApplication.setOrganizationName("TinyML Studio")
    QCoreApplication.setApplicationName("TinyML Studio")
    app = QApplication.instance() or QApplication(argv or sys.argv[:1])
    import pyqtgraph as pg

    pg.setConfigOptions(antialias=False, useOpenGL=False)  # software GL is slower here
    return app


def run(project: Path | None = None) -> int:
    app = make_app()
    window = MainWindow()
    window.show()
    if project is not None:
        window.open_project(str(project))
    return app.exec()
