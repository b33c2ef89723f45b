"""The job protocol: long work is a plain function ``run(params, progress) -> result``.

``progress`` reports a fraction and a status line, carries partial results, and is polled for
cancellation. It is Qt-free (the idea of Orange3's TaskState without Qt): the GUI wraps it in
one worker adapter that turns updates into signals, and tests call jobs directly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


class Cancelled(Exception):
    """Raised inside a job by :meth:`Progress.check` once cancellation was requested."""


class ProgressLike(Protocol):
    """What a job may call on its progress object."""

    def update(self, fraction: float | None = None, status: str | None = None) -> None: ...

    def partial(self, result: Any) -> None: ...

    @property
    def cancelled(self) -> bool: ...

    def check(self) -> None: ...

    def span(self, start: float, end: float) -> ProgressLike: ...


@dataclass(frozen=True)
class ProgressEvent:
    fraction: float
    status: str
    partial: Any = None


class Progress:
    """Thread-safe progress state shared by a job and whoever watches it.

    ``listener`` (optional) is called from the job's thread on every change; the GUI adapter
    uses it to emit signals, the CLI to print a status line.
    """

    def __init__(self, listener: Callable[[ProgressEvent], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._listener = listener
        self.fraction = 0.0
        self.status = ""
        self.partials: list[Any] = []

    def update(self, fraction: float | None = None, status: str | None = None) -> None:
        with self._lock:
            if fraction is not None:
                self.fraction = min(1.0, max(0.0, float(fraction)))
            if status is not None:
                self.status = status
            event = ProgressEvent(self.fraction, self.status)
        if self._listener is not None:
            self._listener(event)

    def partial(self, result: Any) -> None:
        with self._lock:
            self.partials.append(result)
            event = ProgressEvent(self.fraction, self.status, result)
        if self._listener is not None:
            self._listener(event)

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        if self._cancel.is_set():
            raise Cancelled()

    def span(self, start: float, end: float) -> SubProgress:
        """A view on this progress that maps its own 0..1 onto ``start..end`` of this one."""
        return SubProgress(self, start, end)


class SubProgress:
    """A slice of a parent progress (for a job made of steps)."""

    def __init__(self, parent: ProgressLike, start: float, end: float) -> None:
        self._parent = parent
        self._start = start
        self._end = end

    def update(self, fraction: float | None = None, status: str | None = None) -> None:
        mapped = None if fraction is None else self._start + (self._end - self._start) * fraction
        self._parent.update(mapped, status)

    def partial(self, result: Any) -> None:
        self._parent.partial(result)

    @property
    def cancelled(self) -> bool:
        return self._parent.cancelled

    def check(self) -> None:
        self._parent.check()

    def span(self, start: float, end: float) -> SubProgress:
        width = self._end - self._start
        return SubProgress(self._parent, self._start + width * start, self._start + width * end)


def null_progress() -> Progress:
    """A progress nobody watches, for callers that do not care."""
    return Progress()
