"""The Deploy step of the wizard."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from studio.ui.pages.later import UpcomingStep

WHAT = "Flash, RAM and latency against the chosen board; export, build and flash PlatformIO firmware."


class DeployPage(UpcomingStep):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Deploy", WHAT, parent)
