"""Where the app's data files are (boards, firmware templates)."""

from __future__ import annotations

import os
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parent.parent


def resources_dir() -> Path:
    """``resources/`` of the checkout, or ``$TINYML_STUDIO_RESOURCES`` (frozen builds set it)."""
    override = os.environ.get("TINYML_STUDIO_RESOURCES")
    return Path(override) if override else _REPO_ROOT / "resources"


def boards_dir() -> Path:
    return resources_dir() / "boards"


def project_templates_dir() -> Path:
    override = os.environ.get("TINYML_STUDIO_TEMPLATES")
    return Path(override) if override else _REPO_ROOT / "project_templates"
