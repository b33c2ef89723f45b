"""The ``tinyml-studio`` command. Data goes to stdout (JSON with ``--json``), errors to stderr,
one line each. Exit status: 0 full success, 1 failure or partial success, 2 usage error.

Only light modules are imported here; commands import what they need when they run, so that
``--help`` stays fast and never loads TensorFlow or Qt.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from studio import __version__
from studio.cli import (
    boards_cmd,
    compile_cmd,
    data_cmds,
    demo_cmd,
    deploy_cmd,
    device_cmds,
    estimate_cmd,
    gui_cmd,
    impulse_cmds,
    learn_cmds,
    monitor_cmd,
    project_cmds,
)
from studio.cli.common import CommandError, fail


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tinyml-studio",
        description="TinyML Studio: capture sensor and audio data, design an impulse, train, estimate and "
        "deploy to microcontrollers, offline.",
    )
    parser.add_argument("--version", action="version", version=f"tinyml-studio {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (gui_cmd, project_cmds, data_cmds, device_cmds, impulse_cmds, learn_cmds, compile_cmd, estimate_cmd,
                   deploy_cmd, demo_cmd, monitor_cmd, boards_cmd):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):  # no command: the desktop app
        args.func = gui_cmd.cmd_gui
    try:
        return int(args.func(args) or 0)
    except CommandError as e:
        return fail(str(e))
    except KeyboardInterrupt:
        return fail("interrupted")
    except BrokenPipeError:  # the reader went away (| head): say nothing more, like other tools
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
