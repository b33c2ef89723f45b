"""The one adapter between core jobs and Qt: runs ``run(params, progress)`` on a thread pool and
turns progress, partial results, the result and errors into signals on the GUI thread."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal

from studio.errors import StudioError
from studio.jobs import Cancelled, Progress, ProgressEvent
from studio.ui.messages import describe


class JobHandle(QObject):
    """One running job. Signals arrive on the thread that created the handle (the GUI thread)."""

    progressed = Signal(float, str)
    partial = Signal(object)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.progress = Progress(self._on_event)
        self.done = False

    def _on_event(self, event: ProgressEvent) -> None:  # job thread: signals are queued across threads
        if event.partial is not None:
            self.partial.emit(event.partial)
        else:
            self.progressed.emit(event.fraction, event.status)

    def cancel(self) -> None:
        self.progress.cancel()


class _Task(QRunnable):
    def __init__(self, handle: JobHandle, job: Callable[[Any, Progress], Any], params: Any) -> None:
        super().__init__()
        self.handle, self.job, self.params = handle, job, params
        self.setAutoDelete(True)

    def run(self) -> None:
        h = self.handle
        try:
            result = self.job(self.params, h.progress)
        except Cancelled:
            h.done = True
            h.cancelled.emit()
            return
        except StudioError as e:  # a user-facing one-line message
            h.done = True
            h.failed.emit(str(e))
            return
        except OSError as e:  # a file or device the system refused: "path: reason", then where for the log
            h.done = True
            h.failed.emit(f"{describe(e)}\n{traceback.format_exc(limit=5)}")
            return
        except Exception as e:  # a bug: say so, with where
            h.done = True
            h.failed.emit(f"internal error {type(e).__name__}: {e}\n{traceback.format_exc(limit=5)}")
            return
        h.done = True
        if h.progress.cancelled:
            h.cancelled.emit()
        else:
            h.finished.emit(result)


class JobRunner(QObject):
    """Starts jobs; ``started`` lets the main window show one progress bar with cancel for each."""

    started = Signal(object)  # JobHandle

    def __init__(self, max_threads: int = 2) -> None:
        super().__init__()
        self.pool = QThreadPool()
        self.pool.setMaxThreadCount(max_threads)
        self.active: list[JobHandle] = []
        self._pending: list[_Task] = []

    def start(self, name: str, job: Callable[[Any, Progress], Any], params: Any) -> JobHandle:
        handle = JobHandle(name)
        self.active.append(handle)
        for sig in (handle.finished, handle.failed, handle.cancelled):
            sig.connect(lambda *_a, h=handle: self.active.remove(h) if h in self.active else None)
        self.started.emit(handle)
        # started from the event loop: the caller connects to the handle's signals right after
        # this returns, and a quick job must not finish (and signal) before those connections exist
        self._pending.append(_Task(handle, job, params))
        QTimer.singleShot(0, self, self._start_pending)
        return handle

    def _start_pending(self) -> None:
        pending, self._pending = self._pending, []
        for task in pending:
            self.pool.start(task)

    def wait(self, msecs: int = -1) -> bool:
        self._start_pending()
        return self.pool.waitForDone(msecs)

    def shutdown(self, msecs: int = 5000) -> bool:
        """Cancel every job and wait for them, their signals silenced: the views they would
        update are going away."""
        for handle in list(self.active):
            handle.blockSignals(True)
            handle.cancel()
        return self.wait(msecs)
