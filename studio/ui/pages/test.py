"""The Test step of the wizard."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from studio.ui.pages.later import UpcomingStep

WHAT = "Float and int8 models side by side on the testing set: accuracy, per-class metrics, confusion matrix."


class TestPage(UpcomingStep):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Test", WHAT, parent)
