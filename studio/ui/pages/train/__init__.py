"""The Train step: the learning block, its layers (``layer_editor``), training runs and their curves."""

from studio.ui.pages.train.page import TrainPage

__all__ = ["TrainPage"]
