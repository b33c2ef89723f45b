"""``tinyml-studio demo [--headless] [--workdir DIR] [--json]``: the app on its demo project.

With a display it opens the window on the demo project, preparing it there first with the progress bar
(gestures recorded from virtual boards, a spectral impulse, a trained int8 model; kept in the user's data
folder and reused). ``--headless``,
or no display, runs the whole flow through to the emulated board and prints a report; exit status 0 means
every step ran and the firmware agreed with Python on every window.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from studio.cli.common import CommandError, emit_json, status_printer, warn
from studio.cli.gui_cmd import has_display
from studio.errors import StudioError
from studio.fsutil import atomic_write_text
from studio.jobs import Progress


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="open the app on a demo project, or run the whole flow headless (--headless)")
    p.add_argument("--headless", action="store_true",
                   help="no window: create, capture, train, estimate, export, build, flash the emulated board, "
                        "report")
    p.add_argument("--workdir", type=Path,
                   help="the demo's folder (empty, new, or an earlier demo's, which is cleared); default: a new "
                        "temporary folder (headless) or one in the user's data folder (window)")
    p.add_argument("--json", action="store_true", help="print the report as JSON (headless)")
    p.set_defaults(func=cmd_demo)


def _run(params: Any, show: bool) -> Any:
    # here, not at the top: --help and the other commands do not load this one's work
    from studio.demo import flow

    status = status_printer(show)
    start = time.monotonic()

    def listener(event: Any) -> None:
        if isinstance(event.partial, flow.StepDone):
            if status:
                sys.stderr.write("\r\x1b[K")
            if show:
                done = event.partial
                print(f"[{time.monotonic() - start:5.0f} s] {done.name}: {done.summary}", flush=True)
        elif status:
            status(event)

    try:
        return flow.run(params, Progress(listener))
    except StudioError as e:
        raise CommandError(str(e)) from None
    finally:
        if status:
            sys.stderr.write("\r\x1b[K")


def _write_report(workdir: Path, report: Any) -> None:
    atomic_write_text(Path(workdir) / "report.json", json.dumps(report.to_dict(), indent=2) + "\n")


def headless(workdir: Path | None, as_json: bool) -> int:
    # here, not at the top: --help and the other commands do not load this one's work
    from studio.demo import flow, report

    if workdir is None:
        workdir = Path(tempfile.mkdtemp(prefix="tinyml-studio-demo-"))
    result = _run(flow.DemoParams(workdir), show=not as_json)
    _write_report(Path(result.workdir), result)
    if as_json:
        emit_json(result.to_dict())
    else:
        print("\n".join(report.text(result)))
    for problem in result.problems:
        warn(problem)
    return 0 if result.ok else 1


def cmd_demo(args: argparse.Namespace) -> int:
    if args.headless:
        return headless(args.workdir, args.json)
    if not has_display():
        warn("no display to open the window on: running the headless demo instead")
        return headless(args.workdir, args.json)
    # here, not at the top: --help and the other commands do not load this one's work
    from studio.demo import flow

    workdir = (args.workdir or flow.default_workdir()).expanduser().absolute()
    if not flow.is_trained_demo(workdir):
        try:
            flow.check_workdir(workdir)  # refused here, before the window opens
        except flow.DemoError as e:
            raise CommandError(str(e)) from None
    from studio.ui.app import run

    return run(demo=workdir)

