"""Undoable dataset edits on the project (QUndoStack commands)."""

from __future__ import annotations

from PySide6.QtGui import QUndoCommand

from studio.project import Project, Sample


class DeleteSamples(QUndoCommand):
    """Delete keeps the data in memory; undo restores the samples with their ids."""

    def __init__(self, project: Project, samples: list[Sample], on_change) -> None:
        super().__init__(f"delete {len(samples)} sample(s)")
        self.project = project
        self.on_change = on_change
        self.kept = [(s, project.read(s, cropped=False)) for s in samples]

    def redo(self) -> None:
        self.project.delete([s.id for s, _ in self.kept])
        self.on_change()

    def undo(self) -> None:
        for s, values in self.kept:
            self.project.restore(s, values)
        self.on_change()


class Reassign(QUndoCommand):
    """Give samples a new label or category; undo gives each its old one back."""

    def __init__(self, project: Project, samples: list[Sample], field: str, value: str, on_change) -> None:
        super().__init__(f"set {field} of {len(samples)} sample(s) to {value}")
        self.project, self.on_change, self.value = project, on_change, value
        self.apply = project.relabel if field == "label" else project.move
        self.before = [(s.id, getattr(s, field)) for s in samples]

    def redo(self) -> None:
        self.apply([i for i, _ in self.before], self.value)
        self.on_change()

    def undo(self) -> None:
        for i, old in self.before:
            self.apply([i], old)
        self.on_change()


class Crop(QUndoCommand):
    def __init__(self, project: Project, sample: Sample, start: int | None, end: int | None, on_change) -> None:
        super().__init__(f"crop sample {sample.id}")
        self.project, self.on_change = project, on_change
        self.id = sample.id
        self.before = (sample.crop_start, sample.crop_end)
        self.after = (start, end)

    def redo(self) -> None:
        self.project.crop(self.id, *self.after)
        self.on_change()

    def undo(self) -> None:
        self.project.crop(self.id, *self.before)
        self.on_change()
