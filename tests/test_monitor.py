"""The serial monitor on a real pseudo-terminal: firmware lines (banner, results with awkward labels,
errors, other output, malformed lines) parsed as they arrive; the CLI prints them."""

from __future__ import annotations

import json
import os
import threading
import time

import pytest
from conftest import run_cli

from studio.deploy.running import monitor
from studio.deploy.running.result_line import format_banner, format_result_line
from studio.jobs import Progress

LABELS = ['say "yes"', "back\\slash", "new\nline", "a=b c", "café ☕"]


def _lines(n: int) -> list[bytes]:
    lines = [b"tail of a line cut by the connection\n", (format_banner({"v": 1, "project": "démo", "board": "x"})
                                                           + "\n").encode(), b"booting...\n",
             b"#result t=oops\n", b"#error stage=sensor code=3\n"]
    for i in range(n):
        scores = {label: round((i + k) % 5 / 4, 5) for k, label in enumerate(LABELS)}
        lines.append((format_result_line(1000 + 200 * i, 850, 120, 0.25 if i % 2 else None, scores) + "\r\n").encode())
    return lines


@pytest.fixture
def pty():
    master, slave = os.openpty()
    yield master, os.ttyname(slave)
    os.close(master)
    os.close(slave)


def _write_slowly(fd: int, lines: list[bytes], delay: float = 0.3) -> threading.Thread:
    def write() -> None:
        time.sleep(delay)  # the monitor opens the port first
        for line in lines:
            for part in (line[:7], line[7:]):  # lines split across reads
                os.write(fd, part)
                time.sleep(0.005)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


def test_monitor_parses_what_the_board_prints(pty):
    master, port = pty
    _write_slowly(master, _lines(6))
    seen = []
    progress = Progress(lambda e: e.partial is not None and seen.append(e.partial))
    report = monitor.run(monitor.MonitorParams(port, seconds=20, max_results=6), progress)
    assert len(report.results) == 6 and report.banner.project == "démo"
    first = report.results[0]
    assert list(first.labels) == LABELS and first.t_ms == 1000 and first.anomaly is None
    assert report.results[1].anomaly == 0.25 and first.top == LABELS[4]
    assert [(e.stage, e.code) for e in report.errors] == [("sensor", 3)]
    assert len(report.malformed) == 1 and "t=oops" in report.malformed[0]
    assert report.other_lines == 1  # "booting...": the cut first line is dropped, not counted
    assert len(seen) == 6 + 1 + 1  # results, banner, error, as they arrived


def test_monitor_stops_when_cancelled_and_on_a_missing_port(pty, tmp_path):
    master, port = pty
    progress = Progress()
    threading.Timer(0.5, progress.cancel).start()
    start = time.monotonic()
    report = monitor.run(monitor.MonitorParams(port), progress)
    assert time.monotonic() - start < 5 and report.results == []
    from studio.devices.sources import DeviceError

    with pytest.raises(DeviceError, match="ttyACM7: cannot open"):
        monitor.run(monitor.MonitorParams(str(tmp_path / "ttyACM7")), Progress())


def test_cli_monitor_prints_results(pty):
    master, port = pty
    _write_slowly(master, _lines(3), delay=1.5)  # the CLI process needs a moment to start
    done = run_cli("monitor", "--port", port, "--results", "3", "--seconds", "60", "--json")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith('{"t_ms"')]
    assert len(rows) == 3 and list(rows[0]["scores"]) == LABELS
    assert "malformed line" in done.stderr and "error in sensor" in done.stderr
