"""Live plot redraw rate and CPU.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python benchmarks/bench_live_plot.py

Cases: 6 channels at 1 kHz over a 10 s window (10,000 points per curve visible) and 16 channels
at 100 Hz. A producer thread fills the stream's history in batches sized from elapsed time, as
the serial reader does. Frames are counted as real paint events of the plot's viewport; CPU is
this process's CPU time (GUI thread and producer) over wall time, in % of one core.
Prints a table and writes benchmarks/results/live_plot.json.
"""

from __future__ import annotations

import os
import sys
import threading
import time

import numpy as np
from PySide6.QtCore import QEvent, QObject
from results_file import write_results

from studio.devices.live import History
from studio.devices.sources import StreamInfo
from studio.ui.app import make_app
from studio.ui.live_plot import LivePlot


class FakeStream:
    """A stream fed by a synthetic producer (what a LiveStream looks like to the plot)."""

    def __init__(self, channels: int, rate: float, history_s: float = 60) -> None:
        self.info = StreamInfo("sensor", [f"ch{i}" for i in range(channels)], [""] * channels, rate, "bench")
        self.history = History(int(rate * history_s), channels)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._produce, daemon=True)

    def _produce(self) -> None:
        start = time.monotonic()
        sent = 0
        rng = np.random.default_rng(0)
        n_ch = len(self.info.axes)
        phase = np.linspace(0, np.pi, n_ch)
        while not self.stop.wait(0.01):
            due = int((time.monotonic() - start) * self.info.frequency_hz) - sent
            if due > 0:
                t = (sent + np.arange(due))[:, None] / self.info.frequency_hz
                chunk = np.sin(2 * np.pi * 3 * t + phase) * 5 + rng.normal(0, 0.2, (due, n_ch))
                with self.lock:
                    self.history.add(chunk)
                sent += due

    def latest(self, n: int) -> np.ndarray:
        with self.lock:
            return self.history.latest(n)


class PaintCounter(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


def run_case(app, channels: int, rate: float, seconds: float) -> dict:
    plot = LivePlot()
    plot.resize(1200, 500)
    plot.show()
    stream = FakeStream(channels, rate)
    stream.thread.start()
    time.sleep(0.2)
    counter = PaintCounter()
    plot.plot.viewport().installEventFilter(counter)
    plot.attach(stream)
    warm = time.monotonic() + 1.0
    while time.monotonic() < warm:
        app.processEvents()
    counter.count, redraws0 = 0, plot.redraws
    cpu0, t0 = time.process_time(), time.monotonic()
    while time.monotonic() - t0 < seconds:
        app.processEvents()
        time.sleep(0.001)
    wall = time.monotonic() - t0
    cpu = time.process_time() - cpu0
    redraws, paints, thin = plot.redraws - redraws0, counter.count, plot.thin
    stream.stop.set()
    plot.attach(None)
    plot.close()
    return {"channels": channels, "rate_hz": rate, "points_per_curve": int(rate * plot.window_s),
            "frames_per_s": round(paints / wall, 1), "redraws_per_s": round(redraws / wall, 1),
            "cpu_percent_of_one_core": round(100 * cpu / wall, 1), "thinning": thin}


def main() -> int:
    if not (os.environ.get("DISPLAY") or os.environ.get("QT_QPA_PLATFORM")):
        print("run under xvfb-run (or set QT_QPA_PLATFORM=offscreen)", file=sys.stderr)
        return 1
    app = make_app()
    seconds = float(os.environ.get("BENCH_SECONDS", "10"))
    results = [run_case(app, 6, 1000.0, seconds), run_case(app, 16, 100.0, seconds)]
    print(f"{'case':<16} {'points/curve':>12} {'frames/s':>9} {'redraws/s':>10} {'CPU % (1 core)':>15} {'thinning':>9}")
    for r in results:
        print(f"{r['channels']:>2} ch x {r['rate_hz']:>6g} Hz {r['points_per_curve']:>12} {r['frames_per_s']:>9} "
              f"{r['redraws_per_s']:>10} {r['cpu_percent_of_one_core']:>15} {r['thinning']:>9}")
    write_results("live_plot", {"qt_platform": os.environ.get("QT_QPA_PLATFORM") or "xcb (Xvfb)",
                                "results": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
