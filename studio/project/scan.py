"""What lies in a project's ``data/<category>/`` folders, sorted into what recovery may do with it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from studio.fsutil import is_temp_name, temp_target_name
from studio.project.sample import CATEGORIES, DATA_DIR, parse_name


@dataclass
class Scan:
    samples: dict[str, list[str]] = field(default_factory=dict)  # uid -> project-relative sample files
    temps: list[str] = field(default_factory=list)  # our temp files: .tmp-<hex>-<name>
    other: list[str] = field(default_factory=list)  # anything else: foreign names, folders, links

    def temps_for(self, rel: str) -> list[str]:
        folder, _, name = rel.rpartition("/")
        return [t for t in self.temps if t.rpartition("/")[0] == folder and temp_target_name(t.rpartition("/")[2])
                == name]


def scan_data(root: Path) -> Scan:
    """Every entry of the category folders (which the caller has checked are real folders)."""
    scan = Scan()
    for cat in CATEGORIES:
        folder = root / DATA_DIR / cat
        if not folder.is_dir():
            continue
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            rel = f"{DATA_DIR}/{cat}/{entry.name}"
            regular = entry.is_file(follow_symlinks=False)
            if regular and is_temp_name(entry.name):
                scan.temps.append(rel)
            elif regular and (parsed := parse_name(entry.name)) is not None:
                scan.samples.setdefault(parsed[1], []).append(rel)
            else:
                scan.other.append(rel)
    return scan
