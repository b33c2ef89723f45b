"""Deploying to boards with PlatformIO, offline.

``pio_kit`` installs what PlatformIO needs to build without its registry (a local SCons package, a host
platform, a generic Cortex-M platform and a toolchain package linking to the system arm-none-eabi-gcc) into a
PlatformIO core dir; ``platformio`` runs ``pio`` on a project with that core, streaming its log; ``export``
renders firmware projects, ``flash`` uploads them, ``monitor`` reads what a board prints.
"""

from __future__ import annotations

import os
from pathlib import Path


def default_core_dir() -> Path:
    """The PlatformIO core the app builds with: ``$TINYML_STUDIO_PIO_CORE``, else one in the user's data
    folder (kept apart from a PlatformIO the user may have, whose registry packages it must not touch)."""
    override = os.environ.get("TINYML_STUDIO_PIO_CORE")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_data_dir("tinyml-studio")) / "platformio-core"
