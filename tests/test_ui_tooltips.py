"""Every input of every wizard page has a tooltip, and every block parameter a help that says more than
its name (the parameter forms show it as the tooltip)."""

from __future__ import annotations

import re
import shutil

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QScrollBar,
    QTextEdit,
    QWidget,
)

from studio.dsp.registry import all_blocks
from studio.learn import blocks, layers
from studio.ui.main_window import MainWindow
from studio.ui.step_bar import STEPS

INPUTS = (QAbstractSpinBox, QComboBox, QLineEdit, QAbstractButton, QAbstractSlider, QPlainTextEdit, QTextEdit)
PARTS_OF = (QAbstractSpinBox, QComboBox, QAbstractItemView, QLineEdit)  # their inner editors and buttons


def is_input(w: QWidget, root: QWidget) -> bool:
    if not isinstance(w, INPUTS) or isinstance(w, QScrollBar):
        return False
    if isinstance(w, QPlainTextEdit | QTextEdit) and w.isReadOnly():  # an output (a log)
        return False
    parent = w.parentWidget()
    while parent is not None and parent is not root:
        if isinstance(parent, PARTS_OF):
            return False
        parent = parent.parentWidget()
    return True


def describe(w: QWidget, root: QWidget) -> str:
    text = w.text() if hasattr(w, "text") and callable(w.text) else ""
    path, parent = [], w.parentWidget()
    while parent is not None and parent is not root:
        path.append(type(parent).__name__)
        parent = parent.parentWidget()
    return f"{type(w).__name__} {text!r} in {'/'.join(reversed(path)) or type(root).__name__}"


def untipped(root: QWidget, where: str) -> list[str]:
    """Inputs under ``root`` (shown or not, enabled or not) without a tooltip."""
    return [f"{where}: {describe(w, root)}" for w in root.findChildren(QWidget)
            if is_input(w, root) and not w.toolTip().strip()]


def test_every_input_on_every_page_has_a_tooltip(qtbot, gesture_project, gesture_run, tmp_path):
    shutil.copytree(gesture_project, tmp_path / "p")  # a copy: the walk changes the impulse and the layers
    w = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.show()
    offenders = untipped(w.welcome, "Welcome") + untipped(w.nav, "Navigation")
    assert w.open_project(str(tmp_path / "p"))
    for i, page in enumerate(w.pages):
        w.show_step(i)
        QApplication.processEvents()
        offenders += untipped(page, STEPS[i])

    # every parameter form the pages can show: each DSP block, each layer type, the anomaly block
    w.show_step(1)
    combo = w.impulse.block_combo
    for b in range(combo.count()):
        combo.setCurrentIndex(b)
        offenders += untipped(w.impulse, f"Impulse ({combo.currentData()})")
    w.show_step(2)
    w.train.anomaly_check.setChecked(True)
    editor = w.train.layer_editor
    for kind in layers.SCHEMAS:
        assert editor.add_layer(kind), kind
        offenders += untipped(w.train, f"Train (layer {kind})")

    # the Deploy step's rows for a real board (port, monitor) and for the emulated one (stream)
    deploy = w.pages[4].deploy
    for board in ("nano33ble", "virtual-cortex-m4"):
        assert deploy.board_combo.findData(board) >= 0, board
        deploy.board_combo.setCurrentIndex(deploy.board_combo.findData(board))
        offenders += untipped(w.pages[4], f"Deploy ({board})")
    w.close()
    assert not sorted(set(offenders)), "inputs without a tooltip:\n" + "\n".join(sorted(set(offenders)))


def _words(text: str) -> set[str]:
    return {word for word in re.split(r"[^a-z0-9]+", text.lower()) if word}


def test_every_block_parameter_has_a_help_that_says_more_than_its_name():
    schemas = {f"dsp {b.name}": b.schema for b in all_blocks()}
    schemas.update({"classifier": blocks.CLASSIFIER.schema, "anomaly": blocks.ANOMALY.schema})
    schemas.update({f"layer {kind}": schema for kind, schema in layers.SCHEMAS.items()})
    thin = [f"{where}: {p.name} = {p.help!r}" for where, schema in schemas.items() for p in schema
            if len(p.help.strip()) < 15 or _words(p.help) <= _words(p.name) | {"number", "of", "in", "ms", "the"}]
    assert not thin, "parameters whose help only restates the name:\n" + "\n".join(thin)
