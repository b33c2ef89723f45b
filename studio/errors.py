"""The base of every error a user can cause: ``str(err)`` is one line naming the file or device
and the reason. Anything else reaching the top is a bug and is shown with its traceback."""

from __future__ import annotations


class StudioError(Exception):
    pass
