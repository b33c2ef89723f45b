"""Audio augmentation by mixing in background noise.

The background recordings are the training samples of one label (``noise`` by default). For a
share of the other training windows, a mixed copy is made: the window plus a random stretch of
background at a random level up to ``gain``, run through the impulse's DSP block. The copies
join the training set; validation and testing windows are never mixed.
"""

from __future__ import annotations

import numpy as np

from studio.dsp.registry import Configured
from studio.dsp.windowing import Plan, resample, windows_of
from studio.jobs import ProgressLike
from studio.project import Project


def mixed_copies(project: Project, p: Plan, block: Configured, pad_short: bool, train_ids: set[int],
                 classes: list[str], label: str, share: float, gain: float, seed: int,
                 progress: ProgressLike) -> tuple[np.ndarray, np.ndarray, list[str]]:
    empty = np.zeros((0, *block.shape), np.float32), np.zeros(0, np.int64)
    if p.kind != "audio":
        return *empty, ["background mixing is for audio; this impulse takes sensor data"]
    samples = [s for s in project.samples(enabled=True, category="training") if s.id in p.windows]
    noise = [s for s in samples if s.label == label]
    if not noise:
        return *empty, [f"no training samples labelled {label!r}: background mixing is off"]
    pool = np.concatenate([resample(project.read(s).astype(np.float32) / 32768.0, s.frequency_hz, p.frequency_hz)
                           for s in noise]).astype(np.float32)
    if len(pool) < p.window_frames:
        return *empty, [f"the {label!r} recordings are shorter than one window: background mixing is off"]
    rng = np.random.default_rng(seed)
    index = {c: i for i, c in enumerate(classes)}
    targets = [s for s in samples if s.label != label and s.id in train_ids and s.label in index]
    feats, ys = [], []
    for n, s in enumerate(targets):
        if n % 16 == 0:
            progress.check()
            progress.update(n / max(1, len(targets)), f"mixing background noise into sample {n + 1} of {len(targets)}")
        windows = windows_of(project.read(s), s.frequency_hz, p.framing, pad_short)
        for w in windows[rng.random(len(windows)) < share]:
            start = int(rng.integers(0, len(pool) - p.window_frames + 1))
            level = np.float32(gain * rng.random())
            feats.append(block.run(w + level * pool[start : start + p.window_frames]))
            ys.append(index[s.label])
    if not feats:
        return *empty, []
    notes = [f"{len(feats)} training windows mixed with background noise from {len(noise)} {label!r} sample(s)"]
    return np.stack(feats).astype(np.float32), np.array(ys, np.int64), notes
