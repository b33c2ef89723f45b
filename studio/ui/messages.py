"""Errors as the user sees them: one line naming the file or device and the reason. A StudioError already
is one; an OSError becomes ``file: reason``; anything else is a bug, shown as one line with its type while
the traceback goes to the log and stderr."""

from __future__ import annotations

import sys
import traceback
from types import TracebackType
from typing import Protocol

from studio.errors import StudioError
from studio.text import oneline


def describe(exc: BaseException) -> str:
    """One line for the status bar or a page's message."""
    if isinstance(exc, StudioError):
        text = str(exc).strip()
        return oneline(text.splitlines()[0] if text else type(exc).__name__)
    if isinstance(exc, OSError) and exc.strerror:
        names = [str(n) for n in (exc.filename, exc.filename2) if n is not None]
        return oneline(f"{' -> '.join(names)}: {exc.strerror}" if names else exc.strerror)
    detail = str(exc).strip().splitlines()
    return oneline(f"internal error {type(exc).__name__}" + (f": {detail[0]}" if detail else ""))


class Reporter(Protocol):
    def log(self, message: str) -> None: ...

    def error(self, message: str) -> None: ...


def install_excepthook(window: Reporter) -> None:
    """Exceptions escaping a slot go to ``window`` as one line (and their traceback to its log and stderr),
    not only to a terminal the user may not have."""
    previous = sys.excepthook

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            previous(kind, value, tb)
            return
        details = "".join(traceback.format_exception(kind, value, tb))
        sys.stderr.write(details)
        try:
            if not isinstance(value, StudioError | OSError):
                window.log(details.rstrip())
            window.error(describe(value))
        except RuntimeError:  # the window is already gone
            pass

    sys.excepthook = hook
