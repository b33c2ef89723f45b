"""The feature generation job: every window of every enabled sample through the impulse's block.

Per sample, features are cached on disk under a key made of the sample's content hash and crop,
the block's name, version and effective parameters, and the windowing (window, stride, rate,
padding). Changing one parameter changes the key of exactly the features it affects; labels and
categories are not part of the key. Uncached samples are computed on both cores.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import multiprocessing
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from studio.dsp.registry import Configured, get_block
from studio.dsp.windowing import ImpulseConfig, Plan, plan, windows_of
from studio.fsutil import atomic_writer
from studio.jobs import Cancelled, ProgressLike
from studio.project import Project, ProjectError, Sample
from studio.project.safepath import own_folder
from studio.project.samplefiles import read_sample_file

CACHE_DIR = "cache/features"
PARALLEL_FROM = 8  # fewer uncached samples than this are computed in-process (no pool start-up)


def load_config(project: Project) -> ImpulseConfig:
    raw = project.config.settings.get("impulse")
    if not raw:
        raise ProjectError(f"{project.path}: no impulse designed yet (tinyml-studio impulse ...)")
    return ImpulseConfig.from_dict(raw)


def save_config(project: Project, cfg: ImpulseConfig) -> None:
    project.set_setting("impulse", cfg.to_dict())


def configure(project: Project, cfg: ImpulseConfig, samples: list[Sample] | None = None) -> tuple[Plan, Configured]:
    """Check an impulse against the dataset: the plan of windows and the configured block."""
    samples = project.samples(enabled=True) if samples is None else samples
    p = plan(samples, cfg)
    return p, block_for(cfg, p)


def block_for(cfg: ImpulseConfig, p: Plan) -> Configured:
    """The impulse's DSP block configured for a plan's rate, window and axes."""
    return get_block(cfg.block).configure(cfg.params, p.frequency_hz, p.window_frames, p.axes)


def cache_key(sample: Sample, cfg: ImpulseConfig, p: Plan, block: Configured) -> str:
    spec = {
        "sample": sample.hash, "crop": [sample.crop_start, sample.crop_end],
        "block": block.block.name, "version": block.block.version, "params": block.params,
        "window": [p.window_frames, p.stride_frames, p.frequency_hz, cfg.pad_short, p.kind],
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class FeatureSet:
    features: np.ndarray  # (windows, *shape) float32
    labels: list[str]
    categories: list[str]
    sample_ids: np.ndarray  # (windows,)
    window_index: np.ndarray  # (windows,) position of the window in its sample
    shape: tuple[int, ...]
    plan: Plan
    notes: list[str] = field(default_factory=list)
    computed: int = 0  # samples computed now
    cached: int = 0  # samples read from the cache
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "windows": int(len(self.features)), "feature_shape": list(self.shape),
            "frequency_hz": self.plan.frequency_hz, "window_frames": self.plan.window_frames,
            "class_balance": self.plan.balance, "notes": self.notes, "samples_computed": self.computed,
            "samples_cached": self.cached, "seconds": round(self.seconds, 3),
        }


def _compute(job: tuple) -> tuple[int, int]:
    """One sample (runs in a worker process): read, crop, window, compute, write the cache file."""
    path, kind, crop, sample_hz, framing, pad_short, block, target, sample_id = job
    _, values = read_sample_file(Path(path), kind)
    if crop[0] is not None:
        values = values[crop[0] : crop[1]]
    windows = windows_of(values, sample_hz, framing, pad_short)
    out = np.stack([block.run(w) for w in windows]) if len(windows) else np.zeros((0, *block.shape), np.float32)
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_writer(target) as f:
        np.save(f, out.astype(np.float32))
    return sample_id, len(out)


@dataclass
class FeatureParams:
    project_dir: Path
    config: ImpulseConfig | None = None  # None: the project's saved impulse
    workers: int = 2
    category: str | None = None  # only training or testing samples (the plan still sees every sample)


def run(params: FeatureParams, progress: ProgressLike) -> FeatureSet:
    start = time.perf_counter()
    with Project.open(params.project_dir) as project:
        cfg = params.config or load_config(project)
        samples = project.samples(enabled=True)
        p, block = configure(project, cfg, samples)
        cache = own_folder(project.path, CACHE_DIR)
        chosen = [s for s in samples if s.id in p.windows and params.category in (None, s.category)]
        targets = {s.id: cache / (key := cache_key(s, cfg, p, block))[:2] / f"{key}.npy" for s in chosen}
        todo = [s for s in chosen if not targets[s.id].is_file()]
        jobs = [(str(project.sample_path(s)), s.kind, (s.crop_start, s.crop_end), s.frequency_hz, p.framing,
                 cfg.pad_short, block, targets[s.id], s.id) for s in todo]
        progress.update(0.0, f"{len(todo)} of {len(chosen)} samples to compute")
        _run_jobs(jobs, params.workers, progress)
        parts, labels, cats, ids, index = [], [], [], [], []
        for s in chosen:
            f = np.load(targets[s.id])
            parts.append(f)
            labels += [s.label] * len(f)
            cats += [s.category] * len(f)
            ids.append(np.full(len(f), s.id))
            index.append(np.arange(len(f)))
    features = np.concatenate(parts) if parts else np.zeros((0, *block.shape), np.float32)
    result = FeatureSet(features, labels, cats, np.concatenate(ids) if ids else np.zeros(0, int),
                        np.concatenate(index) if index else np.zeros(0, int), block.shape, p,
                        block.notes + p.report(), len(todo), len(chosen) - len(todo), time.perf_counter() - start)
    progress.update(1.0, f"{len(features)} windows, {len(todo)} samples computed, {result.cached} cached")
    return result


def _run_jobs(jobs: list[tuple], workers: int, progress: ProgressLike) -> None:
    if not jobs:
        return
    if len(jobs) < PARALLEL_FROM or workers <= 1:
        for n, job in enumerate(jobs):
            progress.check()
            _compute(job)
            progress.update((n + 1) / len(jobs))
        return
    ctx = multiprocessing.get_context("spawn")  # safe next to GUI threads, unlike fork
    pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
    try:
        futures = [pool.submit(_compute, job) for job in jobs]
        for done, fut in enumerate(cf.as_completed(futures), start=1):
            fut.result()
            progress.update(done / len(jobs), f"computed {done} of {len(jobs)} samples")
            if progress.cancelled:
                raise Cancelled()
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def window_features(project: Project, cfg: ImpulseConfig, sample: Sample) -> tuple[
        np.ndarray, np.ndarray, np.ndarray, Plan, Configured]:
    """One sample's values, its windows and their features, computed now (for previews)."""
    p, block = configure(project, cfg)
    values = project.read(sample)
    windows = windows_of(values, sample.frequency_hz, p.framing, cfg.pad_short)
    feats = np.stack([block.run(w) for w in windows]) if len(windows) else np.zeros((0, *block.shape), np.float32)
    return values, windows, feats, p, block
