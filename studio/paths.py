"""Where the app's data files are (boards, firmware templates)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parent.parent


def _data_root() -> Path:
    """The checkout, or in the frozen app (PyInstaller) the folder its data was bundled into: ``sys._MEIPASS``
    (``_internal/`` beside the executable), else the executable's folder."""
    if getattr(sys, "frozen", False):
        meipass = getattr(sys, "_MEIPASS", None)
        return Path(meipass) if meipass else Path(sys.executable).resolve().parent
    return _REPO_ROOT


def resources_dir() -> Path:
    """``resources/`` of the checkout or of the frozen app, or ``$TINYML_STUDIO_RESOURCES``."""
    override = os.environ.get("TINYML_STUDIO_RESOURCES")
    return Path(override) if override else _data_root() / "resources"


def boards_dir() -> Path:
    return resources_dir() / "boards"


def project_templates_dir() -> Path:
    """``project_templates/`` of the checkout or of the frozen app, or ``$TINYML_STUDIO_TEMPLATES``."""
    override = os.environ.get("TINYML_STUDIO_TEMPLATES")
    return Path(override) if override else _data_root() / "project_templates"
