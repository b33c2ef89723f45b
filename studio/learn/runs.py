"""Numbered training runs in ``runs/NNN/`` inside the project.

A run folder holds ``config.json`` (impulse, learning parameters, layers, classes, framing),
``metrics.json``, ``curves.json``, ``model.keras``, ``float.tflite``, ``int8.tflite`` and, with an
anomaly block, ``anomaly.json``. It is written in a temporary folder, synced, and renamed into
place, so a run is either complete or absent. The run chosen for deployment is kept in the
project settings (``deploy_run``); without a choice, the newest run is used.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.fsutil import TMP_PREFIX, fsync_dir
from studio.project import Project, ProjectError
from studio.project.safepath import inside, own_folder

RUNS_DIR = "runs"
FILES = ("config.json", "metrics.json", "curves.json", "model.keras", "float.tflite", "int8.tflite", "anomaly.json")


@dataclass
class Run:
    number: int
    path: Path
    config: dict[str, Any]
    metrics: dict[str, Any]

    @property
    def curves(self) -> dict[str, list[float]]:
        return _read_json(self.path / "curves.json")

    def model_bytes(self, kind: str) -> bytes:
        """``kind`` is ``float`` or ``int8``."""
        path = self.path / f"{kind}.tflite"
        try:
            return path.read_bytes()
        except OSError as e:
            raise ProjectError(f"{path}: cannot read the model ({e.strerror})") from None

    @property
    def anomaly(self) -> dict[str, Any] | None:
        path = self.path / "anomaly.json"
        return _read_json(path) if path.is_file() else None

    def summary(self) -> dict[str, Any]:
        m = self.metrics
        return {"run": self.number, "created": self.config.get("created"), "dsp": self.config["impulse"]["block"],
                "quantize": self.config["classifier"]["quantize"], "prune": self.config["classifier"]["prune"],
                "epochs": m.get("epochs_trained"), "float_accuracy": m["float"]["accuracy"],
                "int8_accuracy": m["int8"]["accuracy"], "float_bytes": m["float"]["model_bytes"],
                "int8_bytes": m["int8"]["model_bytes"], "sparsity": m.get("sparsity"),
                "cancelled": m.get("cancelled", False)}


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise ProjectError(f"{path}: unreadable ({getattr(e, 'strerror', None) or e})") from None


def _root(project: Project) -> Path:
    return own_folder(project.path, RUNS_DIR)


def numbers(project: Project) -> list[int]:
    root = _root(project)
    if not root.is_dir():
        return []
    return sorted(int(p.name) for p in root.iterdir() if p.is_dir() and p.name.isdigit())


def save(project: Project, files: dict[str, bytes]) -> Run:
    """Write a complete run under the next free number."""
    root = _root(project)
    root.mkdir(exist_ok=True)
    tmp = root / f"{TMP_PREFIX}run-{os.getpid()}-{id(files)}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        for name, data in files.items():
            if name not in FILES:
                raise ValueError(f"unexpected run file {name}")
            with open(tmp / name, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        fsync_dir(tmp)
        number = max(numbers(project), default=0) + 1
        while True:
            try:
                os.rename(tmp, root / f"{number:03d}")  # fails if another writer took the number
                break
            except OSError:
                if not (root / f"{number:03d}").exists():
                    raise
                number += 1
        fsync_dir(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return load(project, number)


def load(project: Project, number: int | None = None) -> Run:
    """Run ``number``; ``None``: the run chosen for deployment, else the newest."""
    have = numbers(project)
    if not have:
        raise ProjectError(f"{project.path}: no training runs yet (tinyml-studio train ...)")
    if number is None:
        number = chosen(project) or have[-1]
    if number not in have:
        raise ProjectError(f"{project.path}: no run {number} (runs: {', '.join(map(str, have))})")
    path = inside(project.path, f"{RUNS_DIR}/{number:03d}", "run folder")
    return Run(number, path, _read_json(path / "config.json"), _read_json(path / "metrics.json"))


def all_runs(project: Project) -> list[Run]:
    return [load(project, n) for n in numbers(project)]


def chosen(project: Project) -> int | None:
    n = project.config.settings.get("deploy_run")
    return int(n) if n is not None and int(n) in numbers(project) else None


def choose(project: Project, number: int) -> Run:
    run = load(project, number)
    project.set_setting("deploy_run", number)
    return run


def _alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def clean_temporaries(project: Project) -> int:
    """Remove half-written run folders left by a crash; returns how many."""
    root = _root(project)
    if not root.is_dir():
        return 0
    stale = [p for p in root.iterdir() if p.name.startswith(f"{TMP_PREFIX}run-") and not _alive(p.name.split("-")[2])]
    for p in stale:
        shutil.rmtree(p, ignore_errors=True)
    return len(stale)
