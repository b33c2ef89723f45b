"""``tinyml-studio compile``: an int8 .tflite to a dependency-free C99 pair (``<prefix>.h``, ``<prefix>.c``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from studio.cli.common import CommandError, emit_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compile", help="compile a full-integer int8 .tflite model to plain C99 (no interpreter)")
    p.add_argument("model", type=Path, help="the .tflite file")
    p.add_argument("--out", type=Path, required=True, help="folder for <prefix>.h and <prefix>.c")
    p.add_argument("--prefix", default="model", help="C name prefix of the API and file names (default: model)")
    p.add_argument("--label", action="append", default=[], metavar="TEXT",
                   help="class label for each output, in order (repeat); exported as <prefix>_labels")
    p.add_argument("--json", action="store_true", help="report ops, MACs, arena and weight bytes as JSON")
    p.set_defaults(func=cmd_compile)


def cmd_compile(args: argparse.Namespace) -> int:
    # here, not at the top: --help and the other commands do not load this one's work
    from studio.compiler import CompileError, compile_model

    try:
        data = args.model.read_bytes()
    except OSError as e:
        raise CommandError(f"{args.model}: cannot read ({e.strerror or e})") from None
    try:
        result = compile_model(data, args.out, prefix=args.prefix, labels=args.label or None, source=str(args.model))
    except CompileError as e:
        raise CommandError(str(e)) from None
    if args.json:
        emit_json(result.to_dict())
        return 0
    for path in result.files:
        print(f"wrote {path}")
    ops = ", ".join(f"{k} x{v}" for k, v in sorted(result.ops.items()))
    print(f"operators: {ops}")
    print(f"MACs per inference: {result.macs:,}; weights: {result.weight_bytes:,} bytes (flash); "
          f"arena: {result.arena_bytes:,} bytes (RAM)")
    return 0
