from __future__ import annotations


class ProjectError(Exception):
    """A user-facing failure of a project operation; ``str(err)`` is one line."""
