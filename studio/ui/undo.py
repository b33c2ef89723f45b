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


class Relabel(QUndoCommand):
    def __init__(self, project: Project, samples: list[Sample], label: str, on_change) -> None:
        super().__init__(f"relabel {len(samples)} sample(s)")
        self.project, self.on_change, self.label = project, on_change, label
        self.before = [(s.id, s.label) for s in samples]

    def redo(self) -> None:
        self.project.relabel([i for i, _ in self.before], self.label)
        self.on_change()

    def undo(self) -> None:
        for i, old in self.before:
            self.project.relabel([i], old)
        self.on_change()


class Move(QUndoCommand):
    def __init__(self, project: Project, samples: list[Sample], category: str, on_change) -> None:
        super().__init__(f"move {len(samples)} sample(s) to {category}")
        self.project, self.on_change, self.category = project, on_change, category
        self.before = [(s.id, s.category) for s in samples]

    def redo(self) -> None:
        self.project.move([i for i, _ in self.before], self.category)
        self.on_change()

    def undo(self) -> None:
        for i, old in self.before:
            self.project.move([i], old)
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
