"""Driving PlatformIO offline: the app's own core dir, the offline kit, project configs, ``pio`` runs, builds."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def default_core_dir() -> Path:
    """The PlatformIO core the app builds with: ``$TINYML_STUDIO_PIO_CORE``, else one in the user's data
    folder (kept apart from a PlatformIO the user may have, whose registry packages it must not touch)."""
    override = os.environ.get("TINYML_STUDIO_PIO_CORE")
    if override:
        return Path(override)
    return Path(platformdirs.user_data_dir("tinyml-studio")) / "platformio-core"
