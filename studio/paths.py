"""Where the app's data files are (boards, firmware templates), and whether it runs frozen (PyInstaller)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parent.parent


def is_frozen() -> bool:
    """Whether this process runs from a PyInstaller bundle."""
    return bool(getattr(sys, "frozen", False))


def bundle_dir() -> Path:
    """Where the frozen app keeps its modules and data (``sys._MEIPASS``: ``_internal/`` beside the
    executable), else the folder of the running interpreter."""
    meipass = getattr(sys, "_MEIPASS", None)
    return Path(meipass) if meipass else Path(sys.executable).resolve().parent


def _data_root() -> Path:
    """The checkout, or in the frozen app the folder its data was bundled into."""
    return bundle_dir() if is_frozen() else _REPO_ROOT


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
