"""Light and dark themes (following the system, or chosen), plots that follow them, and a crisp app icon."""

from __future__ import annotations

import pyqtgraph as pg
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from studio.ui import theme
from studio.ui.main_window import MainWindow


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.delenv(theme.ENV, raising=False)
    w = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.show()
    w.create_project(str(tmp_path / "p"))
    yield w
    hints = QGuiApplication.styleHints()  # back to what the system says, for the tests after these
    hints.colorSchemeChanged.emit(hints.colorScheme())
    w.set_theme("system")
    w.close()


def dark(colour: QColor) -> bool:
    return colour.lightness() < 100


def plots(w: MainWindow) -> list[pg.PlotWidget]:
    found = w.findChildren(pg.PlotWidget)
    assert {w.capture.dataset.preview, w.capture.live.plot, w.impulse.explorer, w.train.loss_plot} <= set(found)
    assert len(found) >= 8  # capture 3, impulse 3, train 2, deploy 1
    return found


def assert_theme(w: MainWindow, is_dark: bool) -> None:
    app = QApplication.instance()
    assert app.style().name().lower() == "fusion"
    assert dark(app.palette().color(QPalette.ColorRole.Window)) is is_dark
    assert dark(app.palette().color(QPalette.ColorRole.Base)) is is_dark
    assert dark(app.palette().color(QPalette.ColorRole.WindowText)) is not is_dark
    for plot in plots(w):
        assert dark(plot.backgroundBrush().color()) is is_dark, plot
        axis = plot.getPlotItem().getAxis("bottom")
        assert dark(axis.pen().color()) is not is_dark and dark(axis.textPen().color()) is not is_dark
    legend = w.train.loss_plot.getPlotItem().legend
    assert all(dark(QColor(label.opts["color"])) is not is_dark for _, label in legend.items)
    assert w.train.settings_message.styleSheet() == f"color: {theme.TONES['dark' if is_dark else 'light']['error']}"


def test_switching_theme_recolours_the_window_and_the_plots(qtbot, window, tmp_path):
    w = window
    w.show_step(2)  # no impulse yet: the Train step says so in the error colour
    w.train._draw_curves({"run": {"loss": [1.0, 0.5], "val_loss": [1.2, 0.7]}})  # a legend with labels
    assert theme.current() == "light"
    assert_theme(w, False)

    w.theme_actions["dark"].trigger()  # View > Theme > Dark
    assert w.theme.name == "dark" and w.theme_actions["dark"].isChecked()
    assert_theme(w, True)
    assert w.settings.value(theme.SETTING) == "dark"
    w.train._draw_curves({"run": {"loss": [1.0, 0.4]}})  # drawn after the switch: still dark
    assert_theme(w, True)
    late = theme.plot_widget()  # and a plot made now
    assert dark(late.backgroundBrush().color())

    w.theme_actions["light"].trigger()
    assert_theme(w, False)
    assert w.settings.value(theme.SETTING) == "light"


def test_system_scheme_is_followed_live_unless_a_theme_is_chosen(qtbot, window):
    w = window
    hints = QGuiApplication.styleHints()
    w.set_theme("system")
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)  # the desktop switched to dark
    assert w.theme.name == "dark"
    assert_theme(w, True)
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
    assert_theme(w, False)
    w.set_theme("light")
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)  # chosen: not followed
    assert_theme(w, False)
    w.set_theme("system")  # following again: dark now
    assert_theme(w, True)


def test_the_choice_comes_from_the_environment_then_the_setting(tmp_path, monkeypatch):
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    monkeypatch.delenv(theme.ENV, raising=False)
    assert theme.initial_choice(settings) == "system"
    settings.setValue(theme.SETTING, "dark")
    assert theme.initial_choice(settings) == "dark"
    monkeypatch.setenv(theme.ENV, "Light")
    assert theme.initial_choice(settings) == "light"
    monkeypatch.setenv(theme.ENV, "purple")  # not a theme: ignored
    assert theme.initial_choice(settings) == "dark"
    assert theme.resolve("system", Qt.ColorScheme.Unknown) == "light"
    assert theme.resolve("system", Qt.ColorScheme.Dark) == "dark"
    assert theme.resolve("light", Qt.ColorScheme.Dark) == "light"


def test_the_environment_sets_the_theme_of_a_new_window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv(theme.ENV, "dark")
    w = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    try:
        assert w.theme.choice == "dark" and w.theme_actions["dark"].isChecked()
        assert dark(QApplication.instance().palette().color(QPalette.ColorRole.Window))
    finally:
        w.set_theme("system")
    assert not dark(QApplication.instance().palette().color(QPalette.ColorRole.Window))


def test_app_icon_is_the_svg_and_crisp_at_any_size(qtbot, tmp_path):
    from studio.ui.app import make_app

    app = make_app()
    icon = app.windowIcon()
    assert not icon.isNull()
    for size in (16, 256, 512):  # drawn from the SVG at each size, not scaled from a small picture
        pixmap = icon.pixmap(size, size)
        assert not pixmap.isNull() and pixmap.width() == size and pixmap.height() == size
    assert pixmap.toImage().pixelColor(size * 70 // 256, size * 70 // 256).name() == "#f1faee"  # the chip
    assert QGuiApplication.highDpiScaleFactorRoundingPolicy() == Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
    w = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    assert not w.windowIcon().isNull() and not w.windowIcon().pixmap(256, 256).isNull()
