"""The serial monitor of a deployed board: reads the port in chunks and parses the firmware's lines
(``studio.deploy.running.result_line``) into live classification results. A job: each parsed line goes out
through ``progress.partial`` as it arrives; cancelling stops the monitor and keeps what was seen.

``pio device monitor`` refuses a non-interactive stdin, so the app reads the port itself (pyserial),
as the capture side does: ``read(in_waiting)``, never ``readline()``."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from studio.deploy.running.result_line import ErrorLine, ImpulseLine, ResultLine, ResultLineError, parse_line
from studio.devices.serial_source import open_port, read_chunk
from studio.jobs import ProgressLike

MAX_LINE = 4096  # a longer run of bytes without a newline is not a firmware line


@dataclass
class MonitorParams:
    port: str
    baud: int = 115200
    seconds: float | None = None  # stop after this long (None: until cancelled)
    max_results: int | None = None  # stop after this many results


@dataclass
class MonitorReport:
    port: str
    banner: ImpulseLine | None = None
    results: list[ResultLine] = field(default_factory=list)
    errors: list[ErrorLine] = field(default_factory=list)
    malformed: list[str] = field(default_factory=list)  # one-line reasons
    other_lines: int = 0  # anything else the firmware printed

    def to_dict(self) -> dict:
        return {"port": self.port, "banner": self.banner.fields if self.banner else None,
                "results": [{"t_ms": r.t_ms, "dsp_us": r.dsp_us, "nn_us": r.nn_us, "anomaly": r.anomaly,
                             "top": r.top, "scores": r.as_dict()} for r in self.results],
                "errors": [{"stage": e.stage, "code": e.code} for e in self.errors],
                "malformed": self.malformed, "other_lines": self.other_lines}


class LineSplitter:
    """Complete lines out of chunks. Joined mid-stream, the partial line at the start is dropped;
    ``from_start`` keeps it (a port opened before the board printed anything)."""

    def __init__(self, from_start: bool = False) -> None:
        self.pending = b""
        self.started = from_start

    def feed(self, chunk: bytes) -> list[bytes]:
        data = self.pending + chunk
        *lines, self.pending = data.split(b"\n")
        if len(self.pending) > MAX_LINE:
            self.pending = b""
        if not self.started and lines:
            self.started = True
            lines = lines[1:]  # what came before the first newline may be the tail of a line
        return lines


def handle(report: MonitorReport, raw: bytes) -> object | None:
    """Record one line in the report; returns what it parsed to (None for other output)."""
    try:
        parsed = parse_line(raw)
    except ResultLineError as e:
        report.malformed.append(str(e))
        return None
    if isinstance(parsed, ResultLine):
        report.results.append(parsed)
    elif isinstance(parsed, ImpulseLine):
        report.banner = parsed
    elif isinstance(parsed, ErrorLine):
        report.errors.append(parsed)
    else:
        report.other_lines += 1
    return parsed


def run(params: MonitorParams, progress: ProgressLike) -> MonitorReport:
    report = MonitorReport(params.port)
    ser = open_port(params.port, params.baud)
    splitter = LineSplitter()
    start = time.monotonic()
    progress.update(0.0, f"listening on {params.port} at {params.baud} baud")
    try:
        while not progress.cancelled:
            if params.seconds is not None and time.monotonic() - start >= params.seconds:
                break
            for raw in splitter.feed(read_chunk(ser, params.port)):
                parsed = handle(report, raw)
                if parsed is not None:
                    progress.partial(parsed)
                if params.max_results is not None and len(report.results) >= params.max_results:
                    return report
    finally:
        ser.close()
    return report
