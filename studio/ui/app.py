"""Start the desktop app."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from studio.ui.icons import app_icon
from studio.ui.main_window import MainWindow
from studio.ui.messages import install_excepthook


def make_app(argv: list[str] | None = None) -> QApplication:
    QCoreApplication.setOrganizationName("TinyML Studio")
    QCoreApplication.setApplicationName("TinyML Studio")
    if QApplication.instance() is None:  # fractional scale factors (1.25, 1.5) as they are: crisp, not rounded
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication.instance() or QApplication(argv or sys.argv[:1])
    app.setWindowIcon(app_icon())
    QGuiApplication.setDesktopFileName("tinyml-studio")  # Wayland takes the taskbar icon from tinyml-studio.desktop
    import pyqtgraph as pg

    pg.setConfigOptions(antialias=False, useOpenGL=False)  # software GL is slower here
    return app


def run(project: Path | None = None, demo: Path | None = None) -> int:
    """The window, on ``project``, or on the demo project in ``demo`` (prepared in the window when needed)."""
    app = make_app()
    window = MainWindow()
    install_excepthook(window)
    window.show()
    if project is not None:
        window.open_project(str(project))
    elif demo is not None:
        window.open_demo(demo)
    return app.exec()
