"""The Train step of the wizard."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from studio.ui.pages.later import UpcomingStep

WHAT = "Train a TensorFlow model and quantize it (int8, quantization-aware training, pruning)."


class TrainPage(UpcomingStep):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Train", WHAT, parent)
