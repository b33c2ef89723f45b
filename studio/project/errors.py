from __future__ import annotations

from studio.errors import StudioError


class ProjectError(StudioError):
    """A user-facing failure of a project operation; ``str(err)`` is one line."""
