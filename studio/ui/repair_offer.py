"""Opening a damaged project: say what is wrong and offer the repair that ``tinyml-studio check --repair`` does."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from PySide6.QtWidgets import QMessageBox, QWidget

from studio.project import NeedsRepair, repair
from studio.ui.worker import JobHandle, JobRunner


class Opener(Protocol):
    runner: JobRunner

    def log(self, message: str) -> None: ...

    def error(self, message: str) -> None: ...

    def open_project(self, folder: str) -> bool: ...


def ask(parent: QWidget, damage: NeedsRepair) -> bool:
    text = (f"{damage.reason}.\n\nTinyML Studio can check the whole project and repair it: a damaged index is rebuilt "
            "from the sample files, and anything it cannot use is moved to the project's quarantine folder, "
            "never deleted.\n\nCheck and repair now?")
    answer = QMessageBox.question(parent, "This project needs a repair", text,
                                  QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.Yes)
    return answer == QMessageBox.StandardButton.Yes


def offer_repair(window: Opener, folder: str, damage: NeedsRepair) -> JobHandle | None:
    """Ask; on yes run the repair as a job, log what it did, and open the project when it is sound."""
    window.error(str(damage))
    if not ask(window, damage):  # type: ignore[arg-type]
        return None
    handle = window.runner.start("Checking and repairing the project", repair.run,
                                 repair.CheckParams(Path(folder), repair=True))

    def done(report: repair.CheckReport) -> None:
        for line in report.actions:
            window.log(f"repaired: {line}")
        if report.ok:
            window.open_project(folder)
        else:
            for f in report.remaining:
                window.error(f"still: {f.line()}")

    handle.finished.connect(done)
    handle.failed.connect(window.error)
    return handle
