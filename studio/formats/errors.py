from __future__ import annotations


class FormatError(ValueError):
    """A file is not acceptable; ``str(err)`` is a one-line reason without the file name."""
