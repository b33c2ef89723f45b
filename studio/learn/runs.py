"""Numbered training runs in ``runs/NNN/`` inside the project.

A run folder holds ``config.json`` (impulse, learning parameters, layers, classes, framing),
``metrics.json``, ``curves.json``, ``model.keras``, ``float.tflite``, ``int8.tflite`` and, with an
anomaly block, ``anomaly.json``. It is written in a temporary folder, synced, and renamed into
place, so a run is either complete or absent. The run chosen for deployment is kept in the
project settings (``deploy_run``); without a choice, the newest run is used.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from studio.dsp.registry import Configured, get_block
from studio.dsp.windowing import Framing, ImpulseConfig, windows_of
from studio.fsutil import TMP_PREFIX, fsync_dir
from studio.project import Project, ProjectError, Sample
from studio.project.safepath import inside, own_folder

RUNS_DIR = "runs"
FILES = ("config.json", "metrics.json", "curves.json", "model.keras", "float.tflite", "int8.tflite", "anomaly.json")


def framing_record(framing: Framing, axes: int) -> dict[str, Any]:
    return {"frequency_hz": framing.frequency_hz, "window_frames": framing.window_frames,
            "stride_frames": framing.stride_frames, "kind": framing.kind, "axes": axes}


def new_config(impulse: ImpulseConfig, block: Configured, framing: Framing, axes: int,
               feature_shape: tuple[int, ...], classes: list[str], learning: dict[str, Any]) -> dict[str, Any]:
    """``config.json`` of a new run: the impulse, its DSP block, framing, feature shape and classes in the form
    :class:`Run` reads them, and what the learning block records (``learning``: parameters, layers, versions)."""
    return {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "impulse": impulse.to_dict(),
        "dsp": {"block": block.block.name, "version": block.block.version, "params": block.params},
        "framing": framing_record(framing, axes), "feature_shape": list(feature_shape), "classes": list(classes),
        **learning,
    }


@dataclass
class Run:
    """A training run as everything downstream uses it: the impulse it was trained with (framing, DSP block),
    its labels, model files, metrics, and the project it belongs to. Built by :func:`load`; the config and
    metrics are also kept as read, for reports."""

    number: int
    path: Path
    config: dict[str, Any]
    metrics: dict[str, Any]
    project_dir: Path | None = None  # the project's folder (the run folder's grandparent)

    def _get(self, key: str) -> Any:
        try:
            return self.config[key]
        except (KeyError, TypeError):
            raise ProjectError(f"{self.path}: the run's config lacks {key!r} (trained by an older version? train "
                               "again)") from None

    @property
    def framing(self) -> Framing:
        """How its windows are cut: frequency, window and stride in frames, and the kind of data."""
        f = self._get("framing")
        try:
            return Framing(float(f["frequency_hz"]), int(f["window_frames"]),
                           int(f.get("stride_frames") or f["window_frames"]), str(f["kind"]))
        except (KeyError, TypeError, ValueError) as e:
            raise ProjectError(f"{self.path}: the run's framing is incomplete ({e}); train again") from None

    @property
    def framing_record(self) -> dict[str, Any]:
        """The framing as training stored it (frequency_hz, window_frames, stride_frames, kind, axes): the
        form generated code is rendered from."""
        return framing_record(self.framing, self.axes)

    @property
    def axes(self) -> int:
        return int(self._get("framing")["axes"])

    @property
    def labels(self) -> list[str]:
        """The classes, in the order of the models' outputs."""
        return [str(c) for c in self._get("classes")]

    @property
    def dsp(self) -> dict[str, Any]:
        """The DSP block's name, version and resolved parameters."""
        return self._get("dsp")

    @property
    def feature_shape(self) -> tuple[int, ...]:
        return tuple(int(v) for v in self._get("feature_shape"))

    @property
    def impulse(self) -> ImpulseConfig:
        """The impulse it was trained with, at the rate it was trained at."""
        cfg = ImpulseConfig.from_dict(self._get("impulse"))
        cfg.frequency_hz = self.framing.frequency_hz
        return cfg

    def block(self) -> Configured:
        """Its DSP block, configured as it was for training."""
        return get_block(self.dsp["block"]).configure(dict(self.dsp.get("params") or {}),
                                                      self.framing.frequency_hz, self.framing.window_frames,
                                                      self.axes)

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

    def open_project(self) -> Project:
        if self.project_dir is None:
            raise ProjectError(f"{self.path}: the run does not know its project")
        return Project.open(self.project_dir)

    @property
    def project_name(self) -> str:
        """The project's name, or ``impulse`` when the project cannot be opened."""
        try:
            with self.open_project() as project:
                return project.config.name or "impulse"
        except ProjectError:
            return "impulse"

    def windows(self, category: str = "testing", limit: int | None = None) -> Iterator[tuple[Sample, np.ndarray]]:
        """The enabled samples of ``category`` whose kind and axes fit the impulse, each with its windows
        (count, frames, axes) float32, cut as the test job cuts them; ``limit`` samples at most."""
        framing, axes, pad = self.framing, self.axes, self.impulse.pad_short
        with self.open_project() as project:
            fitting = [s for s in project.samples(category=category, enabled=True)
                       if s.kind == framing.kind and len(s.sensors) == axes]
            for sample in fitting[:limit]:
                cut = windows_of(project.read(sample), sample.frequency_hz, framing, pad)
                yield sample, np.asarray(cut, np.float32)

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
    return Run(number, path, _read_json(path / "config.json"), _read_json(path / "metrics.json"), project.path)


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
