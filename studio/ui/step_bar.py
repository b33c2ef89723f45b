"""The wizard's step buttons along the top of the main window, with the open project's name at the right.
Each button's mnemonic is Alt+N and its tooltip names its keys; the current step's button is bold (visible in
either theme), with its width reserved so that the row does not jump."""

from __future__ import annotations

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QLabel, QPushButton, QWidget

STEPS = ("Capture", "Impulse", "Train", "Test", "Deploy")
STEP_TIPS = ("record and curate labeled samples", "windows, the DSP block and the feature explorer",
             "train the classifier and compare runs", "classify the testing set and a live device",
             "estimates, export, build, flash and monitor")


def native_keys(sequence: str) -> str:
    """A shortcut as this platform writes it (Ctrl is ⌘ on macOS)."""
    return QKeySequence(sequence).toString(QKeySequence.SequenceFormat.NativeText)


def _reserve_bold_width(button: QPushButton) -> None:
    font = button.font()
    font.setBold(True)
    button.setFont(font)
    button.setMinimumWidth(button.sizeHint().width())
    font.setBold(False)
    button.setFont(font)


class StepBar(QWidget):
    """``group.idClicked(index)`` when a step's button is pressed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 0)
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        for i, name in enumerate(STEPS):
            b = QPushButton(f"&{i + 1}  {name}")  # the mnemonic: Alt+1 .. Alt+5
            b.setCheckable(True)
            b.setToolTip(f"{name}: {STEP_TIPS[i]} ({native_keys(f'Ctrl+{i + 1}')} or {native_keys(f'Alt+{i + 1}')}; "
                         f"{native_keys('Ctrl+PgDown')} and {native_keys('Ctrl+PgUp')}: next and previous step)")
            _reserve_bold_width(b)
            self.group.addButton(b, i)
            layout.addWidget(b)
        layout.addStretch(1)
        self.project_label = QLabel("")
        layout.addWidget(self.project_label)

    def select(self, index: int) -> None:
        """Check step ``index``'s button and make it the bold one."""
        self.group.button(index).setChecked(True)
        for i in range(len(STEPS)):
            button = self.group.button(i)
            font = button.font()
            font.setBold(i == index)
            button.setFont(font)
