"""``tinyml-studio monitor``: live classification from a deployed board's serial port."""

from __future__ import annotations

import argparse
import json
import sys

from studio.cli.common import CommandError, emit_json, warn
from studio.devices.sources import DeviceError
from studio.jobs import Progress, ProgressEvent


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("monitor", help="show the live classification a deployed board prints on its serial port")
    p.add_argument("--port", required=True, help="serial port of the board (ports are never guessed)")
    p.add_argument("--baud", type=int, default=115200, help="baud rate (default 115200)")
    p.add_argument("--seconds", type=float, help="stop after this long (default: until Ctrl-C)")
    p.add_argument("--results", type=int, help="stop after this many results")
    p.add_argument("--json", action="store_true", help="one JSON object per result as it arrives, then a summary")
    p.set_defaults(func=cmd_monitor)


def _show(event: object, as_json: bool) -> None:
    # here, not at the top: --help and the other commands do not load this one's work
    from studio.deploy.running.result_line import ErrorLine, ImpulseLine, ResultLine

    if isinstance(event, ResultLine):
        if as_json:
            print(json.dumps({"t_ms": event.t_ms, "top": event.top, "scores": event.as_dict(),
                              "anomaly": event.anomaly, "dsp_us": event.dsp_us, "nn_us": event.nn_us},
                             ensure_ascii=False), flush=True)
            return
        scores = "  ".join(f"{label} {score:.3f}" for label, score in event.as_dict().items())
        anomaly = "" if event.anomaly is None else f"  anomaly {event.anomaly:.3f}"
        print(f"{event.t_ms:>9} ms  {event.top:<16} {scores}{anomaly}  (DSP {event.dsp_us} us, "
              f"network {event.nn_us} us)", flush=True)
    elif isinstance(event, ImpulseLine) and not as_json:
        print(f"board: {event.board or '?'}, project: {event.project or '?'}", flush=True)
    elif isinstance(event, ErrorLine):
        warn(f"the board reports an error in {event.stage} (code {event.code})")


def cmd_monitor(args: argparse.Namespace) -> int:
    # here, not at the top: --help and the other commands do not load this one's work
    from studio.deploy.running import monitor

    def listener(event: ProgressEvent) -> None:
        if event.partial is not None:
            _show(event.partial, args.json)

    progress = Progress(listener)
    params = monitor.MonitorParams(args.port, args.baud, args.seconds, args.results)
    try:
        report = monitor.run(params, progress)
    except DeviceError as e:
        raise CommandError(str(e)) from None
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        return 0
    for reason in report.malformed[:5]:
        warn(f"malformed line: {reason}")
    if args.json:
        summary = report.to_dict()
        summary.pop("results")
        emit_json({"results": len(report.results), **summary})
    return 0
