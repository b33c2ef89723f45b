"""``tinyml-studio boards``: the board catalogue."""

from __future__ import annotations

import argparse

from studio.boards import BoardError, load_boards
from studio.cli.common import CommandError, emit_json
from studio.text import oneline


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("boards", help="list the supported boards")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_boards)


def _size(kb: int | None) -> str:
    if kb is None:
        return "-"
    return f"{kb // 1024} MB" if kb >= 1024 and kb % 1024 == 0 else f"{kb} KB"


def cmd_boards(args: argparse.Namespace) -> int:
    try:
        boards = load_boards()
    except BoardError as e:
        raise CommandError(str(e)) from None
    if args.json:
        emit_json([b.to_dict() for b in boards])
        return 0
    print(f"{'id':<26} {'name':<40} {'core':<13} {'MHz':>5} {'flash':>7} {'RAM':>7}  sensors")
    for b in boards:
        mhz = f"{b.clock_mhz:g}" if b.clock_mhz else "-"
        sensors = ", ".join(b.sensors.get("imu", []) + b.sensors.get("microphone", [])) or "-"
        print(f"{b.id:<26} {oneline(b.name, 40):<40} {b.core:<13} {mhz:>5} {_size(b.flash_kb):>7} "
              f"{_size(b.ram_kb):>7}  {oneline(sensors, 60)}")
    return 0
