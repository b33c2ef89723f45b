"""The import job: files and folders into a project, each file all-or-nothing.

``run(params, progress) -> ImportReport``. A refused file gets one line (file: reason) and the
others still import. Cancelling stops between blocks; the file in progress leaves nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.dataset.sources import SUFFIXES, prepare
from studio.formats.errors import FormatError
from studio.formats.sample import interval_problem
from studio.jobs import Cancelled, ProgressLike
from studio.project import Project, ProjectError
from studio.text import label_from_filename, normalize_label, oneline

CATEGORY_CHOICES = ("training", "testing", "split")


@dataclass
class ImportParams:
    project_dir: Path
    paths: list[Path]
    label: str | None = None
    category: str = "training"  # training, testing, or split (80/20 by content hash)
    hmac_key: str | None = None
    frequency_hz: float | None = None
    allow_duplicates: bool = False  # by default a file whose content is already in the project is skipped


@dataclass
class ImportedFile:
    path: str
    sample_id: int
    label: str
    category: str
    kind: str
    frames: int
    frequency_hz: float
    notes: list[str] = field(default_factory=list)
    duplicate_of: list[int] = field(default_factory=list)


@dataclass
class ImportReport:
    imported: list[ImportedFile] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # files in folders that are not samples
    already: list[tuple[str, list[int]]] = field(default_factory=list)  # (file, samples with its content)
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return not self.refused and not self.cancelled

    def summary(self) -> str:
        """One line: how many files were imported, skipped as already there, refused."""
        text = f"imported {len(self.imported)} file(s)"
        if self.already:
            text += f", skipped {len(self.already)} already in the project"
        text += f", refused {len(self.refused)}"
        if self.skipped:
            text += f", skipped {len(self.skipped)} non-sample file(s)"
        return text + (", cancelled" if self.cancelled else "")

    def error_lines(self) -> list[str]:
        return [f"{oneline(p)}: {oneline(r)}" for p, r in self.refused]

    def to_dict(self) -> dict[str, Any]:
        return {
            "imported": [vars(i) for i in self.imported],
            "refused": [{"path": p, "reason": r} for p, r in self.refused],
            "skipped": self.skipped,
            "already_in_project": [{"path": p, "samples": ids} for p, ids in self.already],
            "cancelled": self.cancelled,
        }


# files of the app's own exports and of Edge Impulse's (info.labels) that are not samples
MANIFESTS = ("manifest.json", "info.labels")


def collect_files(paths: list[Path], report: ImportReport, project_dir: Path | None = None) -> list[tuple[Path, str]]:
    """Expand folders recursively (sorted, no symlinked folders); unknown files named directly
    are refused, unknown files inside folders (and export manifests) are skipped, and so is the
    project being imported into when it lies inside a folder being imported."""
    out: list[tuple[Path, str]] = []
    own = Path(project_dir).resolve() if project_dir is not None else None
    for p in paths:
        p = Path(p)
        if p.is_dir():
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and (Path(root) / d).resolve() != own)
                for name in sorted(files):
                    f = Path(root) / name
                    fmt = SUFFIXES.get(f.suffix.lower())
                    if fmt is None or name.startswith(".") or name in MANIFESTS:
                        report.skipped.append(str(f))
                    else:
                        out.append((f, fmt))
        elif p.is_file():
            fmt = SUFFIXES.get(p.suffix.lower())
            if fmt is None:
                kind = p.suffix or "(none)"
                report.refused.append((str(p), f"unsupported file type {kind!r} (CSV, WAV, JSON, CBOR)"))
            else:
                out.append((p, fmt))
        else:
            report.refused.append((str(p), "no such file or folder"))
    return out


def run(params: ImportParams, progress: ProgressLike) -> ImportReport:
    if params.category not in CATEGORY_CHOICES:
        raise ProjectError(f"unknown category {params.category!r} (training, testing or split)")
    if params.frequency_hz is not None and (
            not params.frequency_hz > 0 or interval_problem(1000.0 / params.frequency_hz) is not None):
        raise ProjectError(f"--frequency {params.frequency_hz:g}: give a sampling rate above 0 Hz and up to 1 MHz")
    report = ImportReport()
    files = collect_files(params.paths, report, params.project_dir)
    key = params.hmac_key.encode("utf-8") if params.hmac_key else None
    category = None if params.category == "split" else params.category
    with Project.open(params.project_dir) as project:
        for n, (path, fmt) in enumerate(files):
            if progress.cancelled:
                report.cancelled = True
                break
            span = progress.span(n / len(files), (n + 1) / len(files))
            span.update(0.0, f"importing {path.name} ({n + 1}/{len(files)})")
            try:
                item = _import_one(project, path, fmt, params, key, category, span)
            except Cancelled:
                report.cancelled = True
                break
            except (FormatError, ProjectError) as e:
                report.refused.append((str(path), str(e)))
                continue
            except OSError as e:
                report.refused.append((str(path), e.strerror or str(e)))
                continue
            if isinstance(item, list):
                report.already.append((str(path), item))
                continue
            report.imported.append(item)
            progress.partial(item)
        progress.update(1.0, report.summary())
    return report


def _import_one(project: Project, path: Path, fmt: str, params: ImportParams, key: bytes | None,
                category: str | None, progress: ProgressLike) -> ImportedFile | list[int]:
    """The file imported, or the ids of the samples that already hold its content (then nothing is written)."""
    raw_label = params.label if params.label is not None else label_from_filename(path.name)
    try:
        label = normalize_label(raw_label)
    except ValueError as e:
        raise FormatError(f"no usable label ({e}); give --label") from None
    prepared = prepare(path, fmt, key, params.frequency_hz, progress, project.path)
    try:
        duplicates = project.find_by_hash(prepared.digest)
        if duplicates and not params.allow_duplicates:
            return duplicates
        with project.writing() as w:
            w.add(label, category, prepared.header, prepared.blocks(), prepared.digest, name=path.stem,
                  wide=prepared.wide)
    finally:
        prepared.close()
    sample = project.get(w.ids[0])
    project.remember_sensors(prepared.header)
    notes = list(prepared.notes)
    if duplicates:
        notes.append(f"same content as sample {', '.join(map(str, duplicates))}")
    return ImportedFile(str(path), sample.id, sample.label, sample.category, sample.kind, sample.frames,
                        sample.frequency_hz, notes, duplicates)
