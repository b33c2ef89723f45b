"""Learning commands: train, test, runs, classify (live)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from studio.cli.common import CommandError, emit_json, name_values, open_project, run_job, warn
from studio.devices.gestures import GESTURES
from studio.errors import StudioError
from studio.jobs import Progress
from studio.learn.metrics import percent


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train the classifier, quantize it to int8 and test both (a new numbered run)")
    p.add_argument("dir", help="project folder")
    p.add_argument("--epochs", type=int)
    p.add_argument("--quantize", choices=("ptq", "qat"), help="int8 by post-training quantization or QAT")
    p.add_argument("--prune", type=float, metavar="SPARSITY", help="magnitude pruning to this sparsity (0-0.95)")
    p.add_argument("--seed", type=int)
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="any other classifier parameter, e.g. learning_rate=0.001 (repeat)")
    p.add_argument("--layers", type=Path, metavar="JSON", help="a JSON file with the hidden layer list")
    p.add_argument("--anomaly", action="store_true", help="also train the K-means anomaly block")
    p.add_argument("--anomaly-param", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("test", help="classify every testing sample with a run's float32 and int8 models")
    p.add_argument("dir", help="project folder")
    p.add_argument("--run", type=int, help="run number (default: the chosen run, else the newest)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_test)

    p = sub.add_parser("runs", help="list and compare training runs; choose one for deployment")
    p.add_argument("dir", help="project folder")
    p.add_argument("--choose", type=int, metavar="N", help="use run N for deployment")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_runs)

    p = sub.add_parser("classify", help="classify a device's stream live with a run (float32 and int8)")
    p.add_argument("dir", help="project folder")
    p.add_argument("--device", required=True, help="serial port, 'virtual', 'mic' or 'mic:N'")
    p.add_argument("--run", type=int)
    p.add_argument("--seconds", type=float, help="stop after this long (default: until interrupted)")
    p.add_argument("--baud", type=int)
    p.add_argument("--frequency", type=float, help="rate of a virtual board or the microphone")
    p.add_argument("--gesture", default="idle", choices=GESTURES, help="for --device virtual")
    p.add_argument("--seed", type=int, default=0, help="for --device virtual: the simulated person")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_classify)


def _layers(path: Path | None) -> list[dict[str, Any]] | None:
    if path is None:
        return None
    try:
        layers = json.loads(path.read_text())
    except OSError as e:
        raise CommandError(f"{path}: {e.strerror}") from None
    except ValueError as e:
        raise CommandError(f"{path}: not JSON ({e})") from None
    if not isinstance(layers, list):
        raise CommandError(f"{path}: expected a JSON list of layers")
    return layers


def cmd_train(args: argparse.Namespace) -> int:
    # here, not at the top: --help and the other commands do not load this one's work
    from studio.learn import train

    overrides: dict[str, Any] = name_values(args.param)
    for name in ("epochs", "quantize", "prune", "seed"):
        if getattr(args, name) is not None:
            overrides[name] = getattr(args, name)
    anomaly = name_values(args.anomaly_param) if args.anomaly or args.anomaly_param else None
    params = train.TrainParams(Path(args.dir), overrides, _layers(args.layers), anomaly)
    result = run_job(train.run, params, not args.json)
    m = result.metrics
    if args.json:
        emit_json({"run": result.run.number, "path": str(result.run.path), **m})
        return 0
    print(f"run {result.run.number}: float32 accuracy {percent(m['float']['accuracy'])}, int8 "
          f"{percent(m['int8']['accuracy'])} ({m['quantization']}) on {m['float']['windows']} testing windows")
    print(f"  model: {m['float']['model_bytes']:,} bytes float32, {m['int8']['model_bytes']:,} bytes int8; "
          f"{m['architecture']['params']:,} parameters; {m['epochs_trained']} epochs (best {m['best_epoch']})"
          + (f"; sparsity {percent(m['sparsity'])}" if m["sparsity"] is not None else "")
          + ("; cancelled" if m["cancelled"] else ""))
    if m["anomaly"]:
        a = m["anomaly"]
        print(f"  anomaly: threshold {a['threshold']}, testing agreement {percent(a['accuracy'])}")
    for note in m["notes"]:
        warn(note)
    return 0


def _matrix(labels: list[str], confusion: list[list[int]]) -> list[str]:
    width = max(6, *(len(lb) for lb in labels))
    lines = [" " * width + " " + " ".join(f"{lb[:width]:>{width}}" for lb in labels)]
    for lb, row in zip(labels, confusion, strict=True):
        lines.append(f"{lb:>{width}} " + " ".join(f"{v:>{width}}" for v in row))
    return lines


def cmd_test(args: argparse.Namespace) -> int:
    # here, not at the top: --help and the other commands do not load this one's work
    from studio.learn import classify

    report = run_job(classify.run, classify.TestParams(Path(args.dir), args.run), not args.json)
    if args.json:
        emit_json(report.to_dict())
        return 0
    print(f"run {report.run}: {len(report.samples)} testing samples, {report.float['windows']} windows")
    for kind in ("float", "int8"):
        metrics = getattr(report, kind)
        print(f"{kind:>5}: window accuracy {percent(metrics['accuracy'])}, "
              f"sample accuracy {percent(report.sample_accuracy[kind])}")
    print("confusion (int8; rows: true label, columns: predicted):")
    for line in _matrix(report.classes, report.int8["confusion"]):
        print("  " + line)
    print(f"{'label':<16} {'precision':>9} {'recall':>7} {'F1':>6}   (int8)")
    for label, c in report.int8["per_class"].items():
        print(f"{label:<16} {c['precision']:>9.3f} {c['recall']:>7.3f} {c['f1']:>6.3f}")
    for note in report.notes:
        warn(note)
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    # here, not at the top: --help and the other commands do not load this one's work
    from studio.learn import runs

    with open_project(args.dir) as project:
        if args.choose is not None:
            runs.choose(project, args.choose)
        chosen = runs.chosen(project)
        rows = [r.summary() for r in runs.all_runs(project)]
    for r in rows:
        r["chosen"] = r["run"] == chosen
    if args.json:
        emit_json(rows)
        return 0
    if not rows:
        print("no runs yet")
        return 0
    print(f"{'run':>4}  {'dsp':<11} {'int8':<4} {'epochs':>6} {'float':>7} {'int8':>7} {'int8 bytes':>10} "
          f"{'sparsity':>8}")
    for r in rows:
        mark = "*" if r["chosen"] else " "
        print(f"{r['run']:>3}{mark}  {r['dsp']:<11} {r['quantize']:<4} {r['epochs']:>6} "
              f"{percent(r['float_accuracy']):>7} {percent(r['int8_accuracy']):>7} {r['int8_bytes']:>10,} "
              f"{percent(r['sparsity']):>8}"
              + ("  cancelled" if r["cancelled"] else ""))
    if chosen:
        print(f"* chosen for deployment: run {chosen}")
    return 0


def cmd_classify(args: argparse.Namespace) -> int:
    # here, not at the top: --help and the other commands do not load this one's work
    from studio.devices.capture import DeviceSpec
    from studio.learn import live

    spec = DeviceSpec(args.device, args.baud, args.frequency, gesture=args.gesture, seed=args.seed)

    def show(event: Any) -> None:
        r = event.partial
        if isinstance(r, live.Classification) and not args.json:
            top = r.int8_probabilities[r.int8_label]
            print(f"{r.frame:>9}  float {r.float_label:<12} int8 {r.int8_label:<12} {top:.2f}"
                  + (f"  anomaly {r.anomaly:.2f}" + (" !" if r.anomalous else "") if r.anomaly is not None else ""),
                  flush=True)

    try:
        summary = live.run(live.LiveParams(Path(args.dir), spec, args.run, args.seconds), Progress(show))
    except StudioError as e:
        raise CommandError(str(e)) from None
    if args.json:
        emit_json(summary.to_dict())
    return 0
