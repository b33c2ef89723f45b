"""The welcome screen: new project, open project, the demo project, recent projects."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

from studio import __version__


class WelcomePage(QWidget):
    new_requested = Signal()
    open_requested = Signal()
    demo_requested = Signal()
    recent_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        title = QLabel(f"<h1>TinyML Studio</h1><p>Machine learning on microcontrollers, offline. "
                       f"Version {__version__}.</p>")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.new_button = QPushButton("New project…")
        self.new_button.setToolTip("Create a project folder (Ctrl+N)")
        self.open_button = QPushButton("Open project…")
        self.open_button.setToolTip("Open a project folder (Ctrl+O)")
        self.demo_button = QPushButton("Demo project")
        self.demo_button.setToolTip("Open the demo project: gestures recorded from virtual boards, a spectral "
                                    "impulse and a trained int8 model (prepared the first time, about a minute)")
        self.demo_button.clicked.connect(self.demo_requested)
        self.new_button.clicked.connect(self.new_requested)
        self.open_button.clicked.connect(self.open_requested)
        self.recent = QListWidget()
        self.recent.setToolTip("Recent projects: double-click to open")
        self.recent.itemActivated.connect(lambda item: self.recent_chosen.emit(item.data(Qt.ItemDataRole.UserRole)))
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.demo_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(title)
        layout.addLayout(buttons)
        layout.addWidget(QLabel("Recent projects"))
        layout.addWidget(self.recent, 2)
        layout.addStretch(1)

    def set_recent(self, paths: list[str]) -> None:
        self.recent.clear()
        for p in paths:
            item = QListWidgetItem(p)
            item.setData(Qt.ItemDataRole.UserRole, p)
            self.recent.addItem(item)
