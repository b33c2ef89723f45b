"""Icons, drawn as SVG so they stay crisp at any scale factor."""

from __future__ import annotations

from PySide6.QtGui import QIcon

from studio.paths import resources_dir

APP_ICON = "tinyml-studio.svg"


def app_icon() -> QIcon:
    """The application's icon, rendered by Qt's SVG icon engine at whatever size is asked for."""
    return QIcon(str(resources_dir() / "icons" / APP_ICON))
