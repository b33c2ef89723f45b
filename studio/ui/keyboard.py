"""Keyboard helpers: where focus lands when a page is shown, and the Tab order of widgets made after their
window (Qt appends those at the end of the window's Tab chain, far from where they are drawn)."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QScrollBar,
    QWidget,
)

INPUTS = (QAbstractSpinBox, QComboBox, QLineEdit, QAbstractButton, QAbstractSlider)


def _shown_in(w: QWidget, page: QWidget) -> bool:
    """Nothing from ``w`` up to ``page`` is hidden on purpose (a widget just added is shown by the event loop
    later, so ``isVisible`` is still false for it)."""
    while w is not None and w is not page:
        if w.isHidden() and w.testAttribute(Qt.WidgetAttribute.WA_WState_ExplicitShowHide):
            return False
        w = w.parentWidget()
    return w is page


def _takes_tab(w: QWidget, page: QWidget) -> bool:
    return bool(w.focusPolicy() & Qt.FocusPolicy.TabFocus) and w.isEnabled() and _shown_in(w, page)


def first_input(page: QWidget) -> QWidget | None:
    """The first input of ``page`` in Tab order that can take focus (plots and lists are skipped)."""
    for w in _chain_from(page.window()):  # from the window: widgets placed later may sit before the page
        if isinstance(w, INPUTS) and not isinstance(w, QScrollBar) and _takes_tab(w, page):
            return w
    return None


def _chain_from(start: QWidget) -> Iterable[QWidget]:
    """The Tab chain once round, from the widget after ``start``."""
    w = start.nextInFocusChain()
    while w is not start:
        yield w
        w = w.nextInFocusChain()


def focus_first_input(page: QWidget) -> QWidget | None:
    w = first_input(page)
    if w is not None:
        w.setFocus(Qt.FocusReason.TabFocusReason)
    return w


def tab_in_place(container: QWidget, widgets: list[QWidget]) -> None:
    """Put ``widgets`` (children of ``container`` made after its window) right after the container in the Tab
    order, in the given order. The container takes Tab focus for the moment it is the anchor: setTabOrder
    ignores widgets without focus."""
    policy = container.focusPolicy()
    container.setFocusPolicy(Qt.FocusPolicy.TabFocus)
    try:
        previous = container
        for w in widgets:
            QWidget.setTabOrder(previous, w)
            previous = w
    finally:
        container.setFocusPolicy(policy)
