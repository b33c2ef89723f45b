"""Impulse commands: impulse (design and check), features (generate and report)."""

from __future__ import annotations

import argparse
from pathlib import Path

from studio.cli.common import CommandError, emit_json, name_values, open_project, run_job, warn
from studio.dsp.params import DspError
from studio.dsp.registry import all_blocks  # light (numpy; scipy.signal loads when a block computes): --help lists them
from studio.project import ProjectError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("impulse", help="design the impulse: windowing and a DSP block (checked against the data)")
    p.add_argument("dir", help="project folder")
    p.add_argument("--window-ms", type=float, required=True)
    p.add_argument("--stride-ms", type=float, required=True)
    p.add_argument("--dsp", required=True, choices=[b.name for b in all_blocks()])
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="a block parameter (repeat)")
    p.add_argument("--frequency", type=float, help="impulse sampling rate (default: the dataset's most common)")
    p.add_argument("--drop-short", action="store_true", help="drop samples shorter than a window (default: pad)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_impulse)

    p = sub.add_parser("features", help="compute the features of every window (cached) and report")
    p.add_argument("dir", help="project folder")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_features)


def cmd_impulse(args: argparse.Namespace) -> int:
    # here, not at the top: --help and the other commands do not load this one's work
    from studio.dsp import features
    from studio.dsp.windowing import ImpulseConfig

    cfg = ImpulseConfig(args.window_ms, args.stride_ms, args.dsp, name_values(args.param), args.frequency,
                        not args.drop_short)
    with open_project(args.dir) as project:
        try:
            plan, block = features.configure(project, cfg)
        except DspError as e:
            raise CommandError(str(e)) from None
        cfg.params = {k: v for k, v in block.params.items() if k in cfg.params}  # parsed values, not text
        features.save_config(project, cfg)
    info = {"impulse": cfg.to_dict(), "effective_params": block.params, "frequency_hz": plan.frequency_hz,
            "window_frames": plan.window_frames, "feature_shape": list(block.shape),
            "windows": sum(plan.windows.values()), "notes": block.notes + plan.report()}
    if args.json:
        emit_json(info)
        return 0
    print(f"impulse: {args.window_ms:g} ms windows every {args.stride_ms:g} ms at {plan.frequency_hz:g} Hz "
          f"({plan.window_frames} frames), {block.block.title} -> features {'x'.join(map(str, block.shape))}, "
          f"{info['windows']} windows")
    for note in info["notes"]:
        warn(note)
    return 0


def cmd_features(args: argparse.Namespace) -> int:
    # here, not at the top: --help and the other commands do not load this one's work
    from studio.dsp import features

    result = run_job(features.run, features.FeatureParams(Path(args.dir)), not args.json, (DspError, ProjectError))
    summary = result.summary()
    if args.json:
        emit_json(summary)
        return 0
    print(f"{summary['windows']} windows, features {'x'.join(map(str, result.shape))}; "
          f"{result.computed} sample(s) computed, {result.cached} from cache, {result.seconds:.2f} s")
    print(f"{'label':<24} {'training':>9} {'testing':>9}")
    for label, per in sorted(summary["class_balance"].items()):
        print(f"{label[:24]:<24} {per['training']:>9} {per['testing']:>9}")
    for note in summary["notes"]:
        warn(note)
    return 0
