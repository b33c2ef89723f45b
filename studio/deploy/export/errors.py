"""The export's one error type, apart so that the light target registry can raise it."""

from studio.errors import StudioError


class ExportError(StudioError):
    """An export failed; ``str()`` is one line naming the path (or board, or run) and the reason."""
