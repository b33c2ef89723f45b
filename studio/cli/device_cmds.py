"""Device commands: devices, virtual-board, capture."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from studio.cli.common import CommandError, emit_json, run_job, warn
from studio.devices.gestures import GESTURES
from studio.devices.sources import DeviceError
from studio.project import ProjectError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("devices", help="list serial ports, virtual boards and audio inputs")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_devices)

    p = sub.add_parser("virtual-board", help="run a simulated board on a pseudo-terminal and print its path")
    p.add_argument("--rate", type=float, default=100.0, help="readings per second (100)")
    p.add_argument("--gesture", default="idle", choices=GESTURES)
    p.add_argument("--gyro", action="store_true", help="also stream a 3-axis gyroscope")
    p.add_argument("--baud", type=int, default=115200, help="the board's UART rate (115200)")
    p.add_argument("--seed", type=int, default=0, help="which simulated person performs the gesture")
    p.add_argument("--link", type=Path, help="also make this symlink to the port (a stable path)")
    p.add_argument("--seconds", type=float, help="stop after this long (default: until interrupted)")
    p.set_defaults(func=cmd_virtual_board)

    p = sub.add_parser("capture", help="record a labeled sample from a device into a project")
    p.add_argument("dir", help="project folder")
    p.add_argument("--device", required=True, help="serial port, 'virtual', 'mic' or 'mic:N' (see 'devices')")
    p.add_argument("--label", required=True)
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--baud", type=int, help="serial baud rate (default: detect)")
    p.add_argument("--frequency", type=float, help="sampling rate: of a virtual board or the microphone; "
                   "for a serial board it skips detection")
    p.add_argument("--axes", help="axis names, comma-separated, for boards that send no header")
    p.add_argument("--framed", action="store_true", help="the board streams framed binary audio")
    p.add_argument("--gesture", default="idle", choices=GESTURES, help="for --device virtual")
    p.add_argument("--seed", type=int, default=0, help="for --device virtual: the simulated person")
    p.add_argument("--category", default="training", choices=("training", "testing", "split"))
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_capture)


def cmd_devices(args: argparse.Namespace) -> int:
    # here, not at the top: --help and the other commands do not load this one's work
    from studio.devices.listing import list_devices

    devices, notes = list_devices()
    if args.json:
        emit_json({"devices": [d.as_dict() for d in devices], "notes": notes})
    else:
        print(f"{'device':<28} {'kind':<8} name")
        for d in devices:
            print(f"{d.id:<28} {d.kind:<8} {d.name}" + (f"  ({d.detail})" if d.detail else ""))
        for n in notes:
            warn(n)
    return 0


def cmd_virtual_board(args: argparse.Namespace) -> int:
    # here, not at the top: --help and the other commands do not load this one's work
    from studio.devices.virtual_board import VirtualBoard

    if not args.rate > 0:
        raise CommandError("--rate must be positive")
    board = VirtualBoard(args.rate, args.gesture, args.gyro, args.seed, args.baud, args.link)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        path = board.start(announce=True)
    except OSError as e:
        raise CommandError(f"cannot start the virtual board: {e}") from None
    print(path, flush=True)
    print(f"virtual board: {args.gesture} at {args.rate:g} Hz, {args.baud} baud; Ctrl-C stops it", file=sys.stderr)
    stop.wait(args.seconds)
    board.stop()
    return 0


def cmd_capture(args: argparse.Namespace) -> int:
    # here, not at the top: --help and the other commands do not load this one's work
    from studio.devices import capture

    spec = capture.DeviceSpec(args.device, args.baud, args.frequency,
                              [a.strip() for a in args.axes.split(",")] if args.axes else None,
                              args.framed, args.gesture, seed=args.seed)
    params = capture.CaptureParams(Path(args.dir), spec, args.label, args.seconds,
                                   None if args.category == "split" else args.category)
    result = run_job(capture.run, params, not args.json, (DeviceError, ProjectError))
    if args.json:
        emit_json(vars(result))
    elif result.sample_id is not None:
        print(f"sample {result.sample_id}: {result.frames} frames at {result.frequency_hz:g} Hz"
              + (" (truncated)" if result.truncated else ""))
    problems = {k: v for k, v in result.counters.items() if v and k not in ("lines", "frames", "headers", "bytes")}
    said = "; stream problems: " + ", ".join(f"{k} {v}" for k, v in problems.items()) if problems else ""
    if result.truncated:
        raise CommandError((result.message or f"{args.device}: recording cut short") + said)
    if problems:
        warn(said[2:])
    return 0
