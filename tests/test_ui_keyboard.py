"""The wizard by keyboard: Ctrl+1..5 and Alt+1..5 show a step, Ctrl+PgDown/PgUp the next and previous one,
focus lands on the step's first input, and Tab walks a parameter form where it is drawn."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QWidget

from studio.ui.main_window import MainWindow
from studio.ui.step_bar import STEPS

CTRL, ALT = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.AltModifier


@pytest.fixture
def window(qtbot, tmp_path):
    from support.projects import make_project

    make_project(tmp_path / "p", seconds=4.0)
    w = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.show()
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=5000)
    assert w.open_project(str(tmp_path / "p"))
    yield w
    w.close()


def press(qtbot, key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(QApplication.focusWidget(), key, modifier)


def first_input(w: MainWindow, step: int) -> QWidget:
    """What a step should focus first: its top-left input (the Train step's form is rebuilt when shown)."""
    return (w.capture.device_combo, w.impulse.window_spin, w.train.params.widgets["epochs"][1],
            w.test.run_combo, w.pages[4].estimates.filter)[step]


def shown(w: MainWindow, step: int) -> bool:
    return w.current_step() == step and QApplication.focusWidget() is first_input(w, step)


def test_steps_by_shortcut_and_mnemonic_with_focus_on_the_first_input(qtbot, window):
    w = window
    qtbot.waitUntil(lambda: shown(w, 0), timeout=5000)
    for i in (1, 4, 2, 0, 3):
        press(qtbot, getattr(Qt.Key, f"Key_{i + 1}"), CTRL)
        qtbot.waitUntil(lambda i=i: shown(w, i), timeout=5000)
        assert w.nav.group.checkedId() == i and w.nav.group.button(i).font().bold()
    press(qtbot, Qt.Key.Key_2, ALT)  # the step button's mnemonic
    qtbot.waitUntil(lambda: shown(w, 1), timeout=5000)

    # next and previous, also from inside a spin box (which has Page Up/Down of its own), stopping at the ends
    for want in (2, 3, 4, 4):
        press(qtbot, Qt.Key.Key_PageDown, CTRL)
        qtbot.waitUntil(lambda want=want: shown(w, want), timeout=5000)
    for want in (3, 2, 1, 0, 0):
        press(qtbot, Qt.Key.Key_PageUp, CTRL)
        qtbot.waitUntil(lambda want=want: shown(w, want), timeout=5000)
    assert w.impulse.window_spin.value() == 2000  # Ctrl+PgUp/PgDown in the spin box did not step its value


def test_nav_buttons_and_menu_name_their_keys(window):
    w = window
    for i, name in enumerate(STEPS):
        tip = w.nav.group.button(i).toolTip()
        assert tip.startswith(name) and f"Ctrl+{i + 1}" in tip and f"Alt+{i + 1}" in tip and "Ctrl+PgDown" in tip
        assert w.nav.group.button(i).text().startswith(f"&{i + 1}")
    shortcuts = {a.text(): a.shortcut().toString() for a in w.step_actions}
    assert shortcuts == {**{name: f"Ctrl+{i + 1}" for i, name in enumerate(STEPS)},
                         "&Next step": "Ctrl+PgDown", "&Previous step": "Ctrl+PgUp"}


def test_step_keys_wait_for_a_project(qtbot, tmp_path):
    w = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    assert not any(a.isEnabled() for a in w.step_actions)
    w.step_by(1)
    assert w.current_step() == -1 and w.stack.currentWidget() is w.welcome


def test_tab_walks_a_parameter_form_where_it_is_drawn(qtbot, window):
    """Forms are rebuilt when the block changes; their rows must not go to the end of the window's Tab chain."""
    w = window
    w.show_step(1)
    page = w.impulse
    qtbot.waitUntil(lambda: QApplication.focusWidget() is page.window_spin, timeout=5000)
    for block in ("mfe", "spectral"):  # rebuilt twice
        page.block_combo.setCurrentIndex(page.block_combo.findData(block))
        form = [widget for _, widget in page.params.widgets.values()]
        qtbot.waitUntil(lambda form=form: all(x.isVisible() for x in form), timeout=5000)  # shown by the event loop
        page.block_combo.setFocus()
        qtbot.waitUntil(lambda: QApplication.focusWidget() is page.block_combo, timeout=5000)
        walked = []
        for _ in range(len(form) + 1):
            press(qtbot, Qt.Key.Key_Tab)
            walked.append(QApplication.focusWidget())
        assert walked == [*form, page.generate_button]

    w.show_step(2)
    train = w.train.params.widgets
    qtbot.waitUntil(lambda: QApplication.focusWidget() is train["epochs"][1], timeout=5000)
    press(qtbot, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is train["learning_rate"][1]
