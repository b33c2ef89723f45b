"""Undoable dataset edits on the project (QUndoStack commands).

An edit the project refuses (a StudioError, e.g. an empty label or a sample file gone) is reported through
``on_error`` as its one line, never raised through Qt's undo stack (which would wrap the message); a refused
first redo makes the command obsolete, so the stack drops it instead of offering to undo nothing."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QUndoCommand

from studio.errors import StudioError
from studio.project import Project, Sample

OnError = Callable[[str], None]


class _Edit(QUndoCommand):
    def __init__(self, text: str, project: Project, on_change: Callable[[], None], on_error: OnError) -> None:
        super().__init__(text)
        self.project, self.on_change, self.on_error = project, on_change, on_error
        self._done = False

    def _run(self, action: Callable[[], None]) -> None:
        try:
            action()
            self._done = True
        except StudioError as e:
            if not self._done:
                self.setObsolete(True)
            self.on_error(str(e))
        finally:
            self.on_change()


class DeleteSamples(_Edit):
    """Delete keeps the data in memory; undo restores the samples with their ids."""

    def __init__(self, project: Project, samples: list[Sample], on_change, on_error: OnError) -> None:
        super().__init__(f"delete {len(samples)} sample(s)", project, on_change, on_error)
        self.kept = [(s, project.read(s, cropped=False)) for s in samples]

    def redo(self) -> None:
        self._run(lambda: self.project.delete([s.id for s, _ in self.kept]))

    def undo(self) -> None:
        self._run(lambda: [self.project.restore(s, values) for s, values in self.kept])


class Reassign(_Edit):
    """Give samples a new label or category; undo gives each its old one back."""

    def __init__(self, project: Project, samples: list[Sample], field: str, value: str, on_change,
                 on_error: OnError) -> None:
        super().__init__(f"set {field} of {len(samples)} sample(s) to {value}", project, on_change, on_error)
        self.value = value
        self.apply = project.relabel if field == "label" else project.move
        self.before = [(s.id, getattr(s, field)) for s in samples]

    def redo(self) -> None:
        self._run(lambda: self.apply([i for i, _ in self.before], self.value))

    def undo(self) -> None:
        self._run(lambda: [self.apply([i], old) for i, old in self.before])


class Crop(_Edit):
    def __init__(self, project: Project, sample: Sample, start: int | None, end: int | None, on_change,
                 on_error: OnError) -> None:
        super().__init__(f"crop sample {sample.id}", project, on_change, on_error)
        self.id = sample.id
        self.before = (sample.crop_start, sample.crop_end)
        self.after = (start, end)

    def redo(self) -> None:
        self._run(lambda: self.project.crop(self.id, *self.after))

    def undo(self) -> None:
        self._run(lambda: self.project.crop(self.id, *self.before))
