"""Light and dark themes: the Fusion style with a light or dark palette taken from the system's colour
scheme (an unknown scheme is light) and followed live, unless ``$TINYML_STUDIO_THEME`` or the View menu's
choice (kept in QSettings) says light or dark. pyqtgraph plots and the few coloured labels follow."""

from __future__ import annotations

import os
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QObject, QSettings, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget

CHOICES = ("system", "light", "dark")
ENV = "TINYML_STUDIO_THEME"
SETTING = "view/theme"
TONE = "studioTone"  # the dynamic property set_tone() keeps, so a theme change can recolour the label

_R = QPalette.ColorRole
_ROLES: dict[str, dict[QPalette.ColorRole, str]] = {
    "light": {
        _R.Window: "#efefef", _R.WindowText: "#1a1a1a", _R.Base: "#ffffff", _R.AlternateBase: "#f5f5f5",
        _R.ToolTipBase: "#ffffdc", _R.ToolTipText: "#1a1a1a", _R.PlaceholderText: "#7f7f7f", _R.Text: "#1a1a1a",
        _R.Button: "#efefef", _R.ButtonText: "#1a1a1a", _R.BrightText: "#ffffff", _R.Light: "#ffffff",
        _R.Midlight: "#cacaca", _R.Mid: "#b8b8b8", _R.Dark: "#9f9f9f", _R.Shadow: "#767676",
        _R.Highlight: "#308cc6", _R.HighlightedText: "#ffffff", _R.Link: "#0b57d0", _R.LinkVisited: "#7b1fa2",
        _R.Accent: "#308cc6",
    },
    "dark": {
        _R.Window: "#2d2d2d", _R.WindowText: "#e6e6e6", _R.Base: "#1e1e1e", _R.AlternateBase: "#262626",
        _R.ToolTipBase: "#3a3a3a", _R.ToolTipText: "#e6e6e6", _R.PlaceholderText: "#8c8c8c", _R.Text: "#e6e6e6",
        _R.Button: "#353535", _R.ButtonText: "#e6e6e6", _R.BrightText: "#ffffff", _R.Light: "#4a4a4a",
        _R.Midlight: "#3e3e3e", _R.Mid: "#262626", _R.Dark: "#1a1a1a", _R.Shadow: "#0d0d0d",
        _R.Highlight: "#2f7fd0", _R.HighlightedText: "#ffffff", _R.Link: "#6cb4ff", _R.LinkVisited: "#c89bff",
        _R.Accent: "#2f7fd0",
    },
}
_DISABLED: dict[str, dict[QPalette.ColorRole, str]] = {
    "light": {_R.WindowText: "#9a9a9a", _R.Text: "#9a9a9a", _R.ButtonText: "#9a9a9a", _R.Base: "#efefef",
              _R.Highlight: "#919191"},
    "dark": {_R.WindowText: "#7a7a7a", _R.Text: "#7a7a7a", _R.ButtonText: "#7a7a7a", _R.Base: "#262626",
             _R.Highlight: "#4a4a4a"},
}
PLOT = {"light": ("#ffffff", "#4a4a4a"), "dark": ("#1e1e1e", "#c8c8c8")}  # background, foreground
TONES = {  # text colours readable on the theme's window and base colours
    "light": {"error": "#d03b3b", "warning": "#a05a00", "good": "#2e7d32", "muted": "#6e6e6e"},
    "dark": {"error": "#ff7b72", "warning": "#e3b341", "good": "#56d364", "muted": "#a0a0a0"},
}

_current = "light"  # the theme applied last (light until a ThemeManager applies one)
_manager: ThemeManager | None = None


def resolve(choice: str, scheme: Qt.ColorScheme) -> str:
    """``light`` or ``dark``: the choice itself, or for ``system`` the system's scheme (unknown: light)."""
    if choice in ("light", "dark"):
        return choice
    return "dark" if scheme == Qt.ColorScheme.Dark else "light"


def initial_choice(settings: QSettings) -> str:
    """``$TINYML_STUDIO_THEME`` when it names a choice, else the saved choice, else ``system``."""
    env = os.environ.get(ENV, "").strip().lower()
    if env in CHOICES:
        return env
    saved = str(settings.value(SETTING, "system") or "system").lower()
    return saved if saved in CHOICES else "system"


def palette(name: str) -> QPalette:
    """The whole palette of a theme, every role set in every group (so nothing is taken from the platform)."""
    pal = QPalette()
    for role, colour in _ROLES[name].items():
        pal.setColor(QPalette.ColorGroup.All, role, QColor(colour))
    for role, colour in _DISABLED[name].items():
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor(colour))
    return pal


def current() -> str:
    return _current


def tone_colour(tone: str) -> str:
    return TONES[_current][tone]


def set_tone(widget: QWidget, tone: str | None) -> None:
    """Colour a label's text as an ``error``, ``warning``, ``good`` or ``muted`` note (None: plain); it
    follows theme changes."""
    widget.setProperty(TONE, tone or "")
    widget.setStyleSheet(f"color: {tone_colour(tone)}" if tone else "")


def plot_widget(**kwargs: Any) -> pg.PlotWidget:
    """A PlotWidget in the current theme's colours, out of the Tab order (plots take no keys)."""
    w = pg.PlotWidget(background=PLOT[_current][0], **kwargs)
    for target in (w, w.viewport()):
        target.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
    style_plot(w)
    return w


def add_legend(w: pg.PlotWidget, **kwargs: Any) -> pg.LegendItem:
    """The plot's legend, its labels in the current theme's colour."""
    return w.addLegend(labelTextColor=PLOT[_current][1], **kwargs)


def style_plot(w: pg.PlotWidget) -> None:
    """Background, axes, title and legend text of one plot in the current theme's colours."""
    background, foreground = PLOT[_current]
    w.setBackground(background)
    item = w.getPlotItem()
    for name in ("left", "bottom", "right", "top"):
        axis = item.getAxis(name)
        axis.setPen(foreground)
        axis.setTextPen(foreground)
    if item.titleLabel.isVisible() and item.titleLabel.text:
        item.titleLabel.setText(item.titleLabel.text, color=foreground)
    legend = item.legend
    if legend is not None:
        legend.setLabelTextColor(foreground)
        for _sample, label in legend.items:
            label.setText(label.text)  # setLabelTextColor sets the colour; the text must be laid out again


class ThemeManager(QObject):
    """Applies the chosen theme to the application and follows the system's scheme while the choice is
    ``system``. One per application: get it with :func:`manager`."""

    changed = Signal(str)  # "light" or "dark", after it is applied

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self.app = app
        self.choice = "system"
        self.applied = ""
        hints = QGuiApplication.styleHints()
        self.system_scheme = hints.colorScheme()
        hints.colorSchemeChanged.connect(self._system_changed)

    @property
    def name(self) -> str:
        """The theme the choice gives now: ``light`` or ``dark``."""
        return resolve(self.choice, self.system_scheme)

    def set_choice(self, choice: str) -> None:
        if choice not in CHOICES:
            raise ValueError(f"theme must be one of {', '.join(CHOICES)}, not {choice!r}")
        self.choice = choice
        self.apply()

    def _system_changed(self, scheme: Qt.ColorScheme) -> None:
        self.system_scheme = scheme
        if self.choice == "system":
            self.apply()

    def apply(self) -> None:
        global _current
        name = self.name
        if name == self.applied:
            return
        if self.app.style().name().lower() != "fusion":
            self.app.setStyle("Fusion")
        self.app.setPalette(palette(name))
        _current = self.applied = name
        background, foreground = PLOT[name]
        pg.setConfigOptions(background=background, foreground=foreground)
        for w in QApplication.allWidgets():
            if isinstance(w, pg.PlotWidget):
                style_plot(w)
            elif w.property(TONE):
                set_tone(w, w.property(TONE))
        self.changed.emit(name)


def manager() -> ThemeManager:
    """The application's theme manager (made on first use; a QApplication must exist)."""
    global _manager
    app = QApplication.instance()
    if app is None:
        raise RuntimeError("make the QApplication first")
    if _manager is None or _manager.app is not app:
        _manager = ThemeManager(app)
    return _manager
