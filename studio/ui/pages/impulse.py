"""The Impulse step of the wizard."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from studio.ui.pages.later import UpcomingStep

WHAT = "Windowing, a DSP feature block (spectral analysis, MFCC, MFE, spectrogram, raw) and a feature explorer."


class ImpulsePage(UpcomingStep):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Impulse", WHAT, parent)
