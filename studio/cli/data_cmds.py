"""Data commands: import and export-data."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from studio.cli.common import emit_json, fail, run_job, warn
from studio.dataset import exporter, importer
from studio.formats.errors import FormatError
from studio.project import ProjectError
from studio.text import oneline


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="import CSV, WAV and Edge Impulse JSON/CBOR files and folders")
    p.add_argument("dir", help="project folder")
    p.add_argument("paths", nargs="+", help="files or folders (folders are read recursively)")
    p.add_argument("--label", help="label for every file (default: the file name before the first dot)")
    p.add_argument("--category", default="training", choices=importer.CATEGORY_CHOICES,
                   help="training, testing, or split (80/20 by content hash)")
    p.add_argument("--hmac-key", help="verify HS256-signed Edge Impulse files with this key")
    p.add_argument("--frequency", type=float, help="sampling frequency in Hz for CSV files without timestamps")
    p.add_argument("--allow-duplicates", action="store_true",
                   help="import files whose content is already in the project (skipped by default)")
    p.add_argument("--json", action="store_true", help="print the import report as JSON")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("export-data", help="export the dataset with a manifest of labels and categories")
    p.add_argument("dir", help="project folder")
    p.add_argument("out", help="output folder (must not exist or be empty)")
    p.add_argument("--format", required=True, choices=exporter.FORMATS)
    p.add_argument("--include-disabled", action="store_true")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_export)


def cmd_import(args: argparse.Namespace) -> int:
    params = importer.ImportParams(
        project_dir=Path(args.dir), paths=[Path(p) for p in args.paths], label=args.label,
        category=args.category, hmac_key=args.hmac_key, frequency_hz=args.frequency,
        allow_duplicates=args.allow_duplicates,
    )
    report = run_job(importer.run, params, not args.json, (ProjectError, FormatError))
    if args.json:
        emit_json(report.to_dict())
    else:
        for item in report.imported:
            extra = f" ({'; '.join(item.notes)})" if item.notes else ""
            print(f"{oneline(item.path)}: sample {item.sample_id}, {oneline(item.label)!r}, {item.category}{extra}")
    for line in report.error_lines():
        fail(line)
    if any("not verified" in n for i in report.imported for n in i.notes):
        warn("HS256 signatures were not verified; give --hmac-key to check them")
    if not args.json:
        print(report.summary())  # on stdout: stderr holds only the problems, one line each
    return 0 if report.ok else 1


def cmd_export(args: argparse.Namespace) -> int:
    params = exporter.ExportParams(Path(args.dir), Path(args.out), args.format, args.include_disabled)
    report = run_job(exporter.run, params, not args.json, (ProjectError, FormatError))
    if args.json:
        emit_json(report.to_dict())
    for sample_id, reason in report.refused:
        fail(f"sample {sample_id}: {reason}")
    print(f"exported {report.written} sample(s) to {report.out}", file=sys.stderr)
    return 0 if report.ok else 1
