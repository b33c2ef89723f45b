from __future__ import annotations

from pathlib import Path

from studio.errors import StudioError


class ProjectError(StudioError):
    """A user-facing failure of a project operation; ``str(err)`` is one line."""


class NeedsRepair(ProjectError):
    """A damaged project that ``tinyml-studio check --repair`` can mend: the message names the file
    and the damage and ends with that advice. Nothing has been changed."""

    def __init__(self, message: str, project: Path | str) -> None:
        self.project = Path(project)
        self.reason = message
        super().__init__(f"{message}; run: tinyml-studio check {self.project} --repair")
