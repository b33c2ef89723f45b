"""The Capture step: devices, live plot and recording (``page``), the dataset and its edits (``dataset``)."""

from studio.ui.pages.capture.page import CapturePage

__all__ = ["CapturePage"]
