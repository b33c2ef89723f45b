"""``tinyml-studio gui [DIR]`` (and ``tinyml-studio`` alone): the desktop app."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from studio.cli.common import CommandError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gui", help="open the desktop app (the default when no command is given)")
    p.add_argument("dir", nargs="?", help="a project folder to open")
    p.set_defaults(func=cmd_gui)


def has_display() -> bool:
    if os.environ.get("QT_QPA_PLATFORM") or sys.platform != "linux":
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def cmd_gui(args: argparse.Namespace) -> int:
    if not has_display():
        raise CommandError("no display to open the window on (set DISPLAY, or run under xvfb-run)")
    # here, not at the top: Qt loads only when the window opens
    from studio.ui.app import run

    return run(Path(args.dir) if getattr(args, "dir", None) else None)
