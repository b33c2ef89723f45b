"""``tinyml-studio estimate``: flash, RAM, latency and energy of an impulse or a model on boards."""

from __future__ import annotations

import argparse
from pathlib import Path

from studio.boards import BoardError, get_board
from studio.cli.common import CommandError, emit_json, open_project, run_job, warn


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("estimate", help="flash, RAM, latency and energy of the impulse (or a .tflite) on a board")
    p.add_argument("dir", nargs="?", help="project folder (its chosen training run)")
    p.add_argument("--model", type=Path, help="a full-integer int8 .tflite instead of a project")
    p.add_argument("--board", action="append", required=True, metavar="ID",
                   help="board id (see 'tinyml-studio boards'); repeat to compare boards")
    p.add_argument("--run", type=int, help="training run number (default: the chosen run)")
    p.add_argument("--tflm", action="store_true", help="also measure TFLM's minimum arena for the model (slow)")
    p.add_argument("--battery-mah", type=float, help="battery capacity for a battery-life figure")
    p.add_argument("--rate", type=float, default=1.0, help="inferences per second for the battery life (default 1)")
    p.add_argument("--json", action="store_true", help="per-layer rows and totals as JSON")
    p.set_defaults(func=cmd_estimate)


def _params(args: argparse.Namespace, board):
    # here, not at the top: --help and the other commands do not load this one's work
    from studio.estimate.estimate import EstimateParams

    if args.model is not None:
        try:
            data = args.model.read_bytes()
        except OSError as e:
            raise CommandError(f"{args.model}: cannot read ({e.strerror or e})") from None
        return EstimateParams(board, model=data, source=str(args.model), tflm=args.tflm)
    from studio.learn import runs

    with open_project(args.dir) as project:
        run = runs.load(project, args.run)
    return EstimateParams(board, run=run, source=f"{args.dir} run {run.number}", tflm=args.tflm)


def cmd_estimate(args: argparse.Namespace) -> int:
    # here, not at the top: --help and the other commands do not load this one's work
    from studio.estimate import estimate

    if (args.dir is None) == (args.model is None):
        raise CommandError("give a project folder or --model FILE.tflite (one of them)")
    boards = []
    for board_id in args.board:  # every board checked before any is estimated
        try:
            board = get_board(board_id)
        except BoardError as e:
            raise CommandError(str(e)) from None
        if not estimate.can_estimate(board):
            raise CommandError(estimate.not_estimable(board))
        boards.append(board)
    results = [run_job(estimate.run, _params(args, board), not args.json) for board in boards]
    if args.json:
        out = []
        for r in results:
            d = r.to_dict()
            if args.battery_mah:
                d["battery_hours"] = r.battery_hours(args.battery_mah, args.rate)
            out.append(d)
        emit_json(out[0] if len(out) == 1 else out)
        return 0
    for r in results:
        _print(r, args)
    return 0 if all("does not fit" not in r.verdicts.values() for r in results) else 1


def _kb(n: int | None) -> str:
    return "-" if n is None else f"{n / 1024:,.1f} KB"


def _print(r, args: argparse.Namespace) -> None:
    b = r.board
    clock = f"{b['clock_mhz']:g} MHz" if b["clock_mhz"] else "no clock"
    print(f"{b['name']} ({b['id']}): {b['core']} at {clock}; code and counts for {r.core}, "
          f"{r.cpi:g} cycles per instruction")
    print(f"{'#':>3} {'op':<18} {'output':<16} {'MACs':>11} {'weights':>8} {'act. B':>8} {'cycles':>12} {'ms':>8}")
    for row in r.layers:
        print(f"{row.index:>3} {row.op:<18} {str(row.output_shape):<16} {row.macs:>11,} {row.weight_bytes:>8,} "
              f"{row.activation_bytes:>8,} {row.cycles:>12,} {row.ms:>8.3f}")
    lim = r.limits
    print(f"flash {_kb(r.flash['total'])} of {_kb(lim['flash_bytes'])}: {r.verdicts['flash']}  ("
          + ", ".join(f"{k} {v:,}" for k, v in r.flash.items() if k != "total" and v) + ")")
    print(f"RAM   {_kb(r.ram['total'])} of {_kb(lim['ram_bytes'])}: {r.verdicts['ram']}  ("
          + ", ".join(f"{k} {v:,}" for k, v in r.ram.items() if k != "total" and v) + ")")
    lat = r.latency
    print(f"latency {lat['total']:.2f} ms (DSP {lat['dsp']:.2f}, network {lat['network']:.2f}, "
          f"quantising {lat['io']:.2f}, anomaly {lat['anomaly']:.2f}); {r.macs:,} MACs")
    m = r.measured
    if m.get("network"):
        diff = (r.instructions["network"] - m["network"]) / m["network"]
        print(f"network instructions: {r.instructions['network']:,} modelled, {m['network']:,} counted on the "
              f"emulated {r.core} ({diff:+.1%})")
    if r.energy_uj is not None:
        print(f"energy {r.energy_uj:,.1f} uJ per inference")
    if args.battery_mah:
        hours = r.battery_hours(args.battery_mah, args.rate)
        print(f"battery {args.battery_mah:g} mAh at {args.rate:g}/s: "
              + (f"{hours:,.0f} h ({hours / 24:,.1f} days)" if hours else "cannot keep up or no current figures"))
    if r.tflm_arena:
        print(f"arena {r.ram['arena']:,} B; TFLM's minimum arena for the model {r.tflm_arena:,} B")
    for note in r.notes:
        warn(note)
    print()
