"""Reading a project's samples: queries on the index and the sample files' values."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from studio.formats.errors import FormatError
from studio.formats.sample import content_hash
from studio.project.errors import ProjectError
from studio.project.sample import CATEGORIES, Sample
from studio.project.samplefiles import read_sample_file


class Reading:
    """The read side of :class:`studio.project.store.Project` (which provides ``query`` and ``sample_path``)."""

    path: Path  # the store gives query and sample_path

    def get(self, sample_id: int) -> Sample:
        rows = self.query("SELECT * FROM samples WHERE id=?", (sample_id,))
        if not rows:
            raise ProjectError(f"{self.path}: no sample with id {sample_id}")
        return Sample.from_row(rows[0])

    def samples(
        self,
        label: str | None = None,
        category: str | None = None,
        enabled: bool | None = None,
        kind: str | None = None,
        ids: Iterable[int] | None = None,
    ) -> list[Sample]:
        where, args = [], []
        for col, val in (("label", label), ("category", category), ("kind", kind)):
            if val is not None:
                where.append(f"{col}=?")
                args.append(val)
        if enabled is not None:
            where.append("enabled=?")
            args.append(int(enabled))
        if ids is not None:
            ids = [int(i) for i in ids]
            where.append(f"id IN ({','.join('?' * len(ids))})")
            args.extend(ids)
        sql = "SELECT * FROM samples" + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY id"
        return [Sample.from_row(r) for r in self.query(sql, args)]

    def read(self, sample: Sample, cropped: bool = True, key: bytes | None = None) -> np.ndarray:
        """The sample's values: float64 (frames, axes) for sensors, int16 (frames, ch) for audio.

        With ``key`` the file must be what the index says it is: a sensor file signed with it, and
        the values' content hash the one indexed (export and check use this: never re-sign edits)."""
        path = self.sample_path(sample)
        try:
            header, values = read_sample_file(path, sample.kind, key)
        except FileNotFoundError:
            raise ProjectError(f"{path}: the sample file is missing; run: tinyml-studio check {self.path} --repair") \
                from None
        except (OSError, FormatError) as e:
            raise ProjectError(f"{path}: cannot read sample ({getattr(e, 'strerror', None) or e})") from None
        if key is not None and (len(values) != sample.frames or content_hash(header, values) != sample.hash):
            raise ProjectError(f"{path}: its content differs from what the index holds (edited outside the app?)")
        if cropped and sample.crop_start is not None:
            values = values[sample.crop_start : sample.crop_end]
        return values

    def labels(self) -> list[str]:
        return [r[0] for r in self.query("SELECT DISTINCT label FROM samples ORDER BY label")]

    def stats(self) -> dict[str, Any]:
        """Counts and durations per label and category (enabled samples), plus totals."""
        sql = (
            "SELECT label, category, COUNT(*) AS n, SUM(frames * interval_ms) AS ms, "
            "SUM(enabled) AS en FROM samples GROUP BY label, category ORDER BY label, category"
        )
        per_label: dict[str, dict[str, Any]] = {}
        totals = {c: {"samples": 0, "duration_ms": 0.0} for c in CATEGORIES}
        disabled = 0
        for r in self.query(sql):
            entry = per_label.setdefault(r["label"], {c: {"samples": 0, "duration_ms": 0.0} for c in CATEGORIES})
            entry[r["category"]] = {"samples": r["n"], "duration_ms": r["ms"]}
            totals[r["category"]]["samples"] += r["n"]
            totals[r["category"]]["duration_ms"] += r["ms"]
            disabled += r["n"] - r["en"]
        return {"labels": per_label, "categories": totals, "disabled": disabled,
                "samples": sum(t["samples"] for t in totals.values())}

    def duplicates(self) -> list[list[int]]:
        """Groups of sample ids whose content is identical."""
        sql = "SELECT GROUP_CONCAT(id) FROM samples GROUP BY hash HAVING COUNT(*) > 1 ORDER BY MIN(id)"
        return [sorted(int(i) for i in r[0].split(",")) for r in self.query(sql)]

    def find_by_hash(self, digest: str) -> list[int]:
        return [r[0] for r in self.query("SELECT id FROM samples WHERE hash=? ORDER BY id", (digest,))]

    def integrity_problems(self) -> list[str]:
        """SQLite's own check plus: every row's file exists. Empty when healthy."""
        problems = [r[0] for r in self.query("PRAGMA integrity_check") if r[0] != "ok"]
        rows = self.query("SELECT id, file FROM samples")
        return problems + [f"sample {r['id']}: missing {r['file']}" for r in rows
                           if not os.path.isfile(self.path / r["file"])]
