"""The training-run choice shared by the Test and Deploy steps: newest first, the run chosen for deployment
marked and picked by default, the user's pick kept across refreshes while it exists. On the Deploy step one
picker serves both the estimates and the export, so they always work on the same run."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QWidget

from studio.learn import runs
from studio.learn.runs import Run
from studio.project import Project


class RunPicker(QComboBox):
    def __init__(self, tip: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setToolTip(tip)

    def fill(self, project: Project | None) -> bool:
        """Re-read ``project``'s runs without emitting changes; True when the chosen run changed."""
        keep = self.currentData()
        numbers = runs.numbers(project) if project is not None else []
        chosen = runs.chosen(project) if project is not None else None
        self.blockSignals(True)
        try:
            self.clear()
            for n in reversed(numbers):
                self.addItem(f"run {n}" + (" (deploy)" if n == chosen else ""), n)
            target = keep if keep in numbers else (chosen or (numbers[-1] if numbers else None))
            self.setCurrentIndex(self.findData(target))
        finally:
            self.blockSignals(False)
        return target != keep

    def number(self) -> int | None:
        return self.currentData()

    def load(self, project: Project) -> Run:
        """The chosen run; ``ProjectError`` when there is none or it cannot be read."""
        return runs.load(project, self.number())
