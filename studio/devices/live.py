"""A live stream from one source on a reader thread: a rolling history for plots, recordings
of N frames, and reconnection when an unplugged board comes back.

Listeners are called from the reader thread with (state, message) changes; the GUI's adapter
turns them into signals. Recordings keep every frame even when the plot cannot keep up.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from studio.devices.sources import DeviceError, Disconnected, Source, StreamInfo

CONNECTING, STREAMING, DISCONNECTED, FAILED, STOPPED = "connecting", "streaming", "disconnected", "failed", "stopped"


class Recording:
    """Frames for one sample; finishes when full, or early (truncated) on a disconnect."""

    def __init__(self, frames: int, info: StreamInfo) -> None:
        self.wanted = frames
        self.info = info
        self._parts: list[np.ndarray] = []
        self.count = 0
        self.truncated = False
        self.done = threading.Event()

    def add(self, chunk: np.ndarray) -> None:
        take = min(len(chunk), self.wanted - self.count)
        if take > 0:
            self._parts.append(chunk[:take])
            self.count += take
        if self.count >= self.wanted:
            self.done.set()

    def cut(self) -> None:
        self.truncated = True
        self.done.set()

    @property
    def fraction(self) -> float:
        return self.count / self.wanted if self.wanted else 1.0

    def data(self) -> np.ndarray:
        if not self._parts:
            return np.zeros((0, len(self.info.axes)))
        return np.concatenate(self._parts)


@dataclass
class History:
    """A ring buffer of the last ``capacity`` frames."""

    capacity: int
    axes: int
    dtype: type = np.float64

    def __post_init__(self) -> None:
        self.buf = np.zeros((self.capacity, self.axes), self.dtype)
        self.total = 0  # frames ever added

    def add(self, chunk: np.ndarray) -> None:
        n = len(chunk)
        if n >= self.capacity:
            self.buf[:] = chunk[-self.capacity :]
        else:
            start = self.total % self.capacity
            first = min(n, self.capacity - start)
            self.buf[start : start + first] = chunk[:first]
            self.buf[: n - first] = chunk[first:]
        self.total += n

    def latest(self, n: int) -> np.ndarray:
        n = min(n, self.total, self.capacity)
        end = self.total % self.capacity
        if end >= n:
            return self.buf[end - n : end].copy()
        return np.concatenate([self.buf[self.capacity - (n - end) :], self.buf[:end]])


class LiveStream:
    def __init__(self, make_source: Callable[[], Source], reconnect: bool = True, history_s: float = 60.0,
                 watch_path: str | None = None) -> None:
        self._make_source = make_source
        self.reconnect = reconnect
        self.history_s = history_s
        self.watch_path = watch_path  # reconnect only once this path exists again
        self.state = CONNECTING
        self.message = ""
        self.info: StreamInfo | None = None
        self.history: History | None = None
        self._lock = threading.Lock()
        self._listeners: list[Callable[[str, str], None]] = []
        self._recording: Recording | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._source: Source | None = None
        self.counters: dict[str, int] = {}
        self.reconnects = 0

    @property
    def source(self) -> Source | None:
        return self._source

    def add_listener(self, fn: Callable[[str, str], None]) -> None:
        self._listeners.append(fn)

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="live-stream", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5.0)
        self._set(STOPPED, "")

    def wait_streaming(self, timeout: float) -> StreamInfo:
        deadline = time.monotonic() + timeout
        while self.state != STREAMING and time.monotonic() < deadline:
            if self.state == FAILED:
                raise DeviceError(self.message)
            time.sleep(0.01)
        if self.state != STREAMING or self.info is None:
            if self.state == CONNECTING:
                raise DeviceError(f"{self.device_name()}: still connecting after {timeout:g} s (no stream found yet)")
            raise DeviceError(self.message or f"{self.device_name()}: did not start streaming")
        return self.info

    def device_name(self) -> str:
        return self.watch_path or (self.info.device if self.info else "the device")

    def record(self, frames: int) -> Recording:
        if self.info is None:
            raise DeviceError("not streaming")
        rec = Recording(frames, self.info)
        with self._lock:
            self._recording = rec
        return rec

    def latest(self, n: int) -> np.ndarray:
        with self._lock:
            return self.history.latest(n) if self.history else np.zeros((0, 0))

    def total_frames(self) -> int:
        with self._lock:
            return self.history.total if self.history else 0

    # ------------------------------------------------------------------ reader thread

    def _set(self, state: str, message: str) -> None:
        self.state, self.message = state, message
        for fn in self._listeners:
            fn(state, message)

    def _open(self) -> bool:
        self._set(CONNECTING, "connecting")
        try:
            source = self._make_source()
            info = source.open()
        except DeviceError as e:
            self._set(FAILED, str(e))
            return False
        with self._lock:
            self._source = source
            if self.info is None or self.info.axes != info.axes or self.history is None:
                cap = max(1, int(info.frequency_hz * self.history_s))
                self.history = History(cap, len(info.axes), np.int16 if info.kind == "audio" else np.float64)
            self.info = info
        self._set(STREAMING, f"streaming from {info.device}")
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            if self._source is None and not self._open():
                if not self.reconnect or self._stop.wait(0.5):
                    return
                continue
            try:
                chunk = self._source.read(0.05)
            except Disconnected as e:
                self._lost(str(e))
                if not self.reconnect:
                    return
                self._wait_for_return()
                continue
            if len(chunk):
                with self._lock:
                    self.history.add(chunk)
                    rec = self._recording
                    if rec is not None:
                        rec.add(chunk)
                        if rec.done.is_set():
                            self._recording = None
            self.counters = self._source.counters()
        self._close_source()

    def _close_source(self) -> None:
        with self._lock:
            source, self._source = self._source, None
        if source is not None:
            source.close()

    def _lost(self, message: str) -> None:
        self._close_source()
        with self._lock:
            rec, self._recording = self._recording, None
        if rec is not None:
            rec.cut()
        self._set(DISCONNECTED, message + "; waiting for it to come back")

    def _wait_for_return(self) -> None:
        while not self._stop.wait(0.25):
            if self.watch_path is None or os.path.exists(self.watch_path):
                if self._open():
                    self.reconnects += 1
                    return
                self._set(DISCONNECTED, self.message)
