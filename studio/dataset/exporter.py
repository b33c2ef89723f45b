"""The export job: the dataset as Edge Impulse JSON or CBOR (signed with the project key), CSV,
or WAV, in ``training/`` and ``testing/`` folders with a manifest.

Two manifests are written: ``info.labels`` (the file Edge Impulse's uploader reads for labels
and categories) and ``manifest.json`` (labels, categories, per-file metadata). The export is
built in a temp folder beside the target and renamed into place, so it is all or nothing; the
folder a killed export left is removed by the next export into the same place.
Audio samples are always WAV; sensor samples cannot be WAV.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.formats import csvfile, edge_impulse, wav
from studio.formats.sample import AUDIO, SampleHeader
from studio.fsutil import atomic_write_text, atomic_writer, clean_stale_staging, fsync_dir, staging_folder
from studio.jobs import Cancelled, ProgressLike
from studio.project import Project, ProjectError
from studio.text import file_slug

FORMATS = ("ei-json", "ei-cbor", "csv", "wav")
_EXT = {"ei-json": "json", "ei-cbor": "cbor", "csv": "csv"}


@dataclass
class ExportParams:
    project_dir: Path
    out: Path
    format: str
    include_disabled: bool = False


@dataclass
class ExportReport:
    out: str
    written: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return not self.refused and not self.cancelled

    def to_dict(self) -> dict[str, Any]:
        return {"out": self.out, "written": self.written, "cancelled": self.cancelled,
                "refused": [{"sample": i, "reason": r} for i, r in self.refused]}


def run(params: ExportParams, progress: ProgressLike) -> ExportReport:
    if params.format not in FORMATS:
        raise ProjectError(f"unknown export format {params.format!r} ({', '.join(FORMATS)})")
    out = Path(params.out).resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ProjectError(f"{out}: exists and is not an empty folder")
    report = ExportReport(str(out))
    with Project.open(params.project_dir) as project:
        out.parent.mkdir(parents=True, exist_ok=True)
        clean_stale_staging(out.parent)  # a killed export's folder
        try:
            with staging_folder(out) as staging:
                staging.mkdir()
                _export(project, params, staging, report, progress)
                fsync_dir(staging)
                if out.exists():
                    out.rmdir()
                os.replace(staging, out)
                fsync_dir(out.parent)
        except Cancelled:
            report.cancelled = True
            return report
    progress.update(1.0, f"exported {report.written} samples")
    return report


def _export(project: Project, params: ExportParams, staging: Path, report: ExportReport,
            progress: ProgressLike) -> None:
    samples = project.samples(enabled=None if params.include_disabled else True)
    entries = []
    for n, s in enumerate(samples):
        progress.check()
        progress.update(n / max(len(samples), 1), f"exporting sample {s.id}")
        if s.kind != AUDIO and params.format == "wav":
            report.refused.append((s.id, "sensor data cannot be written as WAV; use ei-json, ei-cbor or csv"))
            continue
        try:
            rel = _write_one(project, s, params.format, staging)
        except ProjectError as e:  # edited outside the app, or unreadable: never re-signed
            report.refused.append((s.id, str(e)))
            continue
        entries.append((s, rel))
        report.written += 1
    _write_manifests(staging, project, entries, params.format)


def _write_one(project: Project, s: Any, fmt: str, staging: Path) -> str:
    values = project.read(s, key=project.config.key_bytes)
    ext = "wav" if s.kind == AUDIO else _EXT[fmt]
    rel = f"{s.category}/{file_slug(s.label)}.{s.uid}.{ext}"
    target = staging / rel
    target.parent.mkdir(exist_ok=True)
    header = SampleHeader(s.kind, s.sensors, s.interval_ms, len(values), device_name=s.device,
                          device_type="TinyML Studio")
    with atomic_writer(target) as f:
        if s.kind == AUDIO:
            wav.write_int16(f, round(s.frequency_hz), header.axes, len(values), iter([values]))
        elif fmt == "csv":
            text = io.StringIO()
            csvfile.write_csv(text, header, iter([values]))
            f.write(text.getvalue().encode("utf-8"))
        else:
            wide = not edge_impulse.fits_float32(values)
            edge_impulse.write_document(f, header, [values], _EXT[fmt], project.config.key_bytes, wide=wide)
    return rel


def _write_manifests(staging: Path, project: Project, entries: list, fmt: str) -> None:
    info_labels = {
        "version": 1,
        "files": [
            {"path": rel, "category": s.category, "label": {"type": "label", "label": s.label}}
            for s, rel in entries
        ],
    }
    manifest = {
        "project": project.config.name,
        "format": fmt,
        "labels": sorted({s.label for s, _ in entries}),
        "categories": {c: sum(1 for s, _ in entries if s.category == c) for c in ("training", "testing")},
        "signed": fmt in ("ei-json", "ei-cbor"),
        "files": [
            {"path": rel, "sample_id": s.id, "label": s.label, "category": s.category, "kind": s.kind,
             "frequency_hz": s.frequency_hz, "frames": s.frames if s.crop_start is None else s.crop_end - s.crop_start,
             "sensors": [x.as_dict() for x in s.sensors], "hash": s.hash}
            for s, rel in entries
        ],
    }
    atomic_write_text(staging / "info.labels", json.dumps(info_labels, indent=1, ensure_ascii=False))
    atomic_write_text(staging / "manifest.json", json.dumps(manifest, indent=1, ensure_ascii=False))
