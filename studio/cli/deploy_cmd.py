"""``tinyml-studio deploy``: export a firmware project (or capture firmware, or a C library) for a
board, optionally build it with PlatformIO (offline kit) and upload it to a chosen port."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from studio.cli.common import CommandError, emit_json, open_project, warn
from studio.deploy.export.targets import TARGETS
from studio.errors import StudioError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("deploy", help="export a PlatformIO firmware project for a board, build it, flash it")
    p.add_argument("dir", help="project folder (its chosen training run)")
    p.add_argument("--board", required=True, metavar="ID", help="board id (see 'tinyml-studio boards')")
    p.add_argument("--out", type=Path, required=True, help="folder of the exported project (.zip for a library)")
    p.add_argument("--target", choices=tuple(TARGETS), default="firmware",
                   help="; ".join(f"{t.name}: {t.summary}" for t in TARGETS.values()))
    p.add_argument("--run", type=int, help="training run number (default: the chosen run)")
    p.add_argument("--env", help="PlatformIO environment to build (default: the project's first)")
    p.add_argument("--build", action="store_true", help="build with PlatformIO (offline kit)")
    p.add_argument("--upload", action="store_true", help="also flash it (needs --port)")
    p.add_argument("--port", help="serial port of the board for --upload (ports are never guessed)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace a non-empty --out that holds no earlier export, or an existing zip (an earlier "
                        "export is replaced anyway)")
    p.add_argument("--json", action="store_true", help="report files, environments and sizes as JSON")
    p.set_defaults(func=cmd_deploy)


def cmd_deploy(args: argparse.Namespace) -> int:
    # here, not at the top: --help and the other commands do not load this one's work
    from studio.deploy.export.project import export_project
    from studio.deploy.pio import default_core_dir
    from studio.deploy.pio.build import build_project
    from studio.deploy.pio.runner import PioError
    from studio.deploy.running import flash
    from studio.learn import runs

    if args.upload and not args.port:
        raise CommandError("--upload needs --port: choose the board's serial port (ports are never guessed)")
    run = None
    if TARGETS[args.target].needs_run or args.run is not None:
        with open_project(args.dir) as project:
            run = runs.load(project, args.run)
    try:
        result = export_project(run, args.board, args.out, args.target, overwrite=args.overwrite)
    except StudioError as e:
        raise CommandError(str(e)) from None
    report = {"path": str(result.path), "target": result.target, "board": result.board, "files": result.files,
              "envs": result.envs, "notes": result.notes}
    if not args.json:
        print(f"wrote {result.path} ({len(result.files)} files; environments: {', '.join(result.envs) or '-'})")
    for note in result.notes:
        warn(note)
    if args.build or args.upload:
        if TARGETS[args.target].archive:
            raise CommandError("a C library is not built with PlatformIO: unzip it into your own build")
        env = args.env or result.envs[0]
        core = default_core_dir()
        echo = None if args.json else (lambda line: print(line, file=sys.stderr))
        try:
            built = build_project(result.path, env, core, on_line=echo)
            report["build"] = {"env": env, "seconds": round(built.seconds, 2),
                               "ram": built.ram.__dict__ if built.ram else None,
                               "flash": built.flash.__dict__ if built.flash else None}
            if args.upload:
                flash.upload(result.path, env, args.port, core, on_line=echo)
                report["uploaded"] = args.port
        except PioError as e:
            raise CommandError(str(e)) from None
        if not args.json:
            sizes = ", ".join(f"{k} {v.used:,} B" for k, v in (("RAM", built.ram), ("flash", built.flash)) if v)
            print(f"built {env} in {built.seconds:.1f} s" + (f" ({sizes})" if sizes else ""))
            if args.upload:
                print(f"flashed {args.port}")
    if args.json:
        emit_json(report)
    return 0
