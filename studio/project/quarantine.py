"""The quarantine folder: where repairs put what they will not delete and cannot use.

``quarantine/<time>/`` holds each item at its project-relative path, ``README.txt`` with one line
per item saying why it is there, and ``rows.json`` with the index rows a repair dropped (label,
crop, name...). Nothing in it is read by the app again unless the user moves it back or imports it.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from studio.fsutil import atomic_write_text, fsync_dir

QUARANTINE_DIR = "quarantine"


class Quarantine:
    """One repair's quarantine folder, made on first use."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.folder: Path | None = None
        self.items: list[tuple[str, str]] = []
        self.rows: list[dict[str, Any]] = []

    def _ensure(self) -> Path:
        if self.folder is None:
            base = self.root / QUARANTINE_DIR
            if base.is_symlink() or (base.exists() and not base.is_dir()):
                raise OSError(f"{base} is not a folder of the project")
            stamp = time.strftime("%Y%m%d-%H%M%S")
            for n in range(1000):
                candidate = base / (stamp if n == 0 else f"{stamp}-{n}")
                try:
                    candidate.mkdir(parents=True)
                    break
                except FileExistsError:
                    continue
            self.folder = candidate
        return self.folder

    def move(self, path: Path, reason: str) -> str:
        """Move ``path`` (a file, folder or link inside the project) here; returns where it went."""
        rel = path.relative_to(self.root).as_posix()
        target = self._ensure() / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
        fsync_dir(path.parent)
        self.items.append((rel, reason))
        self._write_readme()
        return target.relative_to(self.root).as_posix()

    def keep_row(self, row: dict[str, Any], reason: str) -> None:
        """Record an index row a repair drops, so its label, crop and name are not lost."""
        self.rows.append({**row, "dropped_because": reason})
        self._ensure()
        atomic_write_text(self.folder / "rows.json", json.dumps(self.rows, indent=1, ensure_ascii=False, default=str))
        self._write_readme()

    def _write_readme(self) -> None:
        lines = ["Put here by TinyML Studio's project repair (tinyml-studio check --repair).",
                 "Nothing here is used by the project; move a file back or import it to use it again.", ""]
        lines += [f"{rel}: {reason}" for rel, reason in self.items]
        if self.rows:
            lines.append(f"rows.json: {len(self.rows)} index row(s) that were dropped, with the reason for each")
        atomic_write_text(self._ensure() / "README.txt", "\n".join(lines) + "\n")
