"""Project commands: new, info, list, and the label, split and sample-editing commands."""

from __future__ import annotations

import argparse
from pathlib import Path

from studio.cli.common import CommandError, emit_json, ids_arg, open_project, run_job
from studio.project import Project, ProjectError
from studio.project.store import CATEGORIES, TEST_SHARE
from studio.text import oneline


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("new", help="create a project folder")
    p.add_argument("dir")
    p.add_argument("--name", help="project name (default: the folder name)")
    p.set_defaults(func=cmd_new)

    p = sub.add_parser("info", help="show a project's config and dataset statistics")
    p.add_argument("dir")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("list", help="list samples, optionally filtered")
    p.add_argument("dir")
    p.add_argument("--label")
    p.add_argument("--category", choices=CATEGORIES)
    p.add_argument("--enabled", dest="enabled", action="store_true", default=None)
    p.add_argument("--disabled", dest="enabled", action="store_false")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("label", help="set the label of samples")
    p.add_argument("dir")
    p.add_argument("ids", nargs="+", help="sample ids (1 2 3, 1,2,3 or 4-9)")
    p.add_argument("--set", required=True, dest="label", metavar="LABEL")
    p.set_defaults(func=cmd_label)

    p = sub.add_parser("rename-label", help="rename a label on every sample that has it")
    p.add_argument("dir")
    p.add_argument("old")
    p.add_argument("new")
    p.set_defaults(func=cmd_rename_label)

    p = sub.add_parser("move", help="move samples to training or testing")
    p.add_argument("dir")
    p.add_argument("ids", nargs="+")
    p.add_argument("--to", required=True, choices=CATEGORIES)
    p.set_defaults(func=cmd_move)

    for name, flag in (("enable", True), ("disable", False)):
        p = sub.add_parser(name, help=f"{name} samples (disabled samples are left out of training and export)")
        p.add_argument("dir")
        p.add_argument("ids", nargs="+")
        p.set_defaults(func=cmd_enable, flag=flag)

    p = sub.add_parser("delete", help="delete samples and their files")
    p.add_argument("dir")
    p.add_argument("ids", nargs="+")
    p.set_defaults(func=cmd_delete)

    p = sub.add_parser("crop", help="keep only part of a sample (non-destructive)")
    p.add_argument("dir")
    p.add_argument("id", type=int)
    p.add_argument("--start-ms", type=float)
    p.add_argument("--end-ms", type=float)
    p.add_argument("--clear", action="store_true", help="remove the crop")
    p.set_defaults(func=cmd_crop)

    p = sub.add_parser("split", help="deterministic train/test split by content hash, per label")
    p.add_argument("dir")
    p.add_argument("--test-share", type=float, default=TEST_SHARE, help="share of each label in testing (0.2)")
    p.set_defaults(func=cmd_split)

    p = sub.add_parser("split-sample", help="cut a long sample into windows of N ms")
    p.add_argument("dir")
    p.add_argument("id", type=int)
    p.add_argument("--window-ms", type=float, required=True)
    p.set_defaults(func=cmd_split_sample)

    p = sub.add_parser("check", help="verify the whole project (config, index, every sample file); --repair mends it")
    p.add_argument("dir")
    p.add_argument("--repair", action="store_true",
                   help="rebuild what can be rebuilt and move the rest to the project's quarantine/ folder")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("duplicates", help="list groups of samples with identical content")
    p.add_argument("dir")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_duplicates)


def cmd_new(args: argparse.Namespace) -> int:
    try:
        project = Project.create(Path(args.dir), args.name)
    except ProjectError as e:
        raise CommandError(str(e)) from None
    print(f"created project {oneline(project.config.name)!r} in {project.path}")
    project.close()
    return 0


def _info(project: Project) -> dict:
    cfg = project.config
    return {
        "name": cfg.name,
        "path": str(project.path),
        "schema_version": cfg.to_dict()["schema_version"],
        "created": cfg.created,
        "sensors": cfg.sensors,
        "frequency_hz": cfg.frequency_hz,
        "stats": project.stats(),
        "duplicates": project.duplicates(),
        "recovered": project.recovery_notes,
    }


def cmd_info(args: argparse.Namespace) -> int:
    with open_project(args.dir) as project:
        info = _info(project)
    if args.json:
        emit_json(info)
        return 0
    stats = info["stats"]
    print(f"project   {oneline(info['name'])}")
    print(f"path      {info['path']}")
    axes = ", ".join(f"{s['name']}" + (f" ({s['units']})" if s.get("units") else "") for s in info["sensors"])
    print(f"sensors   {axes or '-'}" + (f" at {info['frequency_hz']:g} Hz" if info["frequency_hz"] else ""))
    cats = stats["categories"]
    print(f"samples   {stats['samples']} (training {cats['training']['samples']}, testing "
          f"{cats['testing']['samples']}, disabled {stats['disabled']})")
    if stats["labels"]:
        print(f"{'label':<24} {'training':>16} {'testing':>16}")
        for label, per in stats["labels"].items():
            cells = [f"{per[c]['samples']} / {per[c]['duration_ms'] / 1000:.1f}s" for c in CATEGORIES]
            print(f"{oneline(label, 24):<24} {cells[0]:>16} {cells[1]:>16}")
    if info["duplicates"]:
        print(f"duplicates {len(info['duplicates'])} group(s): " + "; ".join(
            ",".join(map(str, g)) for g in info["duplicates"]))
    for note in info["recovered"]:
        print(f"recovered {note}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    with open_project(args.dir) as project:
        samples = project.samples(label=args.label, category=args.category, enabled=args.enabled)
    if args.json:
        emit_json([s.as_dict() for s in samples])
        return 0
    print(f"{'id':>6} {'label':<20} {'category':<9} {'kind':<6} {'Hz':>8} {'frames':>9} {'on':<3} name")
    for s in samples:
        crop = f" [crop {s.crop_start}:{s.crop_end}]" if s.crop_start is not None else ""
        print(f"{s.id:>6} {oneline(s.label, 20):<20} {s.category:<9} {s.kind:<6} {s.frequency_hz:>8.6g} "
              f"{s.frames:>9} {'yes' if s.enabled else 'no':<3} {oneline(s.name, 60)}{crop}")
    return 0


def _edit(args: argparse.Namespace, action, done: str) -> int:
    """Run one editing operation on an opened project and report how many samples it touched."""
    with open_project(args.dir) as project:
        n = action(project)
    print(done.format(n=n))
    return 0


def cmd_label(args: argparse.Namespace) -> int:
    return _edit(args, lambda p: p.relabel(ids_arg(args.ids), args.label), "relabelled {n} sample(s)")


def cmd_rename_label(args: argparse.Namespace) -> int:
    return _edit(args, lambda p: p.rename_label(args.old, args.new), "renamed label on {n} sample(s)")


def cmd_move(args: argparse.Namespace) -> int:
    return _edit(args, lambda p: p.move(ids_arg(args.ids), args.to), f"moved {{n}} sample(s) to {args.to}")


def cmd_enable(args: argparse.Namespace) -> int:
    word = "enabled" if args.flag else "disabled"
    return _edit(args, lambda p: p.set_enabled(ids_arg(args.ids), args.flag), word + " {n} sample(s)")


def cmd_delete(args: argparse.Namespace) -> int:
    return _edit(args, lambda p: p.delete(ids_arg(args.ids)), "deleted {n} sample(s)")


def cmd_crop(args: argparse.Namespace) -> int:
    with open_project(args.dir) as project:
        if args.clear:
            s = project.crop(args.id, None, None)
            print(f"sample {s.id}: crop cleared")
            return 0
        if args.start_ms is None or args.end_ms is None:
            raise CommandError("give --start-ms and --end-ms, or --clear")
        s = project.get(args.id)
        start = int(round(args.start_ms / s.interval_ms))
        end = int(round(args.end_ms / s.interval_ms))
        s = project.crop(args.id, start, end)
    print(f"sample {s.id}: cropped to frames {s.crop_start}..{s.crop_end}")
    return 0


def cmd_split(args: argparse.Namespace) -> int:
    with open_project(args.dir) as project:
        moved = project.rebalance(args.test_share)
        cats = project.stats()["categories"]
    print(f"moved {moved} sample(s); training {cats['training']['samples']}, testing {cats['testing']['samples']}")
    return 0


def cmd_split_sample(args: argparse.Namespace) -> int:
    with open_project(args.dir) as project:
        parts = project.split_sample(args.id, args.window_ms)
    print(f"sample {args.id} split into {len(parts)} samples: {', '.join(str(p.id) for p in parts)}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    # here, not at the top: --help and the other commands do not load this one's work
    from studio.project import repair

    report = run_job(repair.run, repair.CheckParams(Path(args.dir), args.repair), not args.json)
    if args.json:
        emit_json(report.to_dict())
    else:
        for f in report.findings:
            print(f"{'found' if args.repair else 'problem'}: {oneline(f.line(), 1000)}")
        for line in report.actions:
            print(f"repaired: {oneline(line, 1000)}")
        for f in report.remaining:
            print(f"still: {oneline(f.line(), 1000)}")
        if report.ok:
            print(f"ok: {report.project}: {report.samples} sample(s), {report.files_checked} file(s) checked"
                  + (", nothing to repair" if args.repair and not report.findings else ""))
    if report.ok:
        return 0
    left = report.remaining if report.repaired else report.findings
    hint = "" if report.repaired else f"; run: tinyml-studio check {report.project} --repair"
    raise CommandError(f"{report.project}: {len(left)} problem(s){' remain' if report.repaired else ''}{hint}")


def cmd_duplicates(args: argparse.Namespace) -> int:
    with open_project(args.dir) as project:
        groups = project.duplicates()
    if args.json:
        emit_json(groups)
    else:
        for g in groups:
            print(" ".join(map(str, g)))
    return 0
