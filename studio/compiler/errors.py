"""Errors the compiler reports to the user."""

from __future__ import annotations

from studio.errors import StudioError
from studio.text import oneline


class CompileError(StudioError):
    """A model the compiler cannot turn into C. Every problem is listed (operator index, name and
    the reason) so the user fixes them all at once; ``problems`` keeps them apart for the GUI."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = [oneline(p, 300) for p in problems]  # names from a model file may hold anything
        super().__init__(f"{source}: cannot compile: " + "; ".join(self.problems))
