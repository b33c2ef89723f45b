from __future__ import annotations

from studio.errors import StudioError


class FormatError(StudioError, ValueError):
    """A file is not acceptable; ``str(err)`` is a one-line reason without the file name."""
