"""Training data: the by-sample validation split, class weights, augmentation, metrics and the
run store."""

from __future__ import annotations

import os

import numpy as np
import pytest

from studio.dsp.features import FeatureSet
from studio.learn import data, runs
from studio.learn.metrics import report
from studio.params import ParamError


def feature_set(labels_per_sample, windows=5, categories=None):
    feats, labels, cats, ids = [], [], [], []
    for sid, label in enumerate(labels_per_sample):
        feats.append(np.full((windows, 4), sid, np.float32))
        labels += [label] * windows
        cats += [(categories or {}).get(sid, "training")] * windows
        ids += [sid] * windows
    return FeatureSet(np.concatenate(feats), labels, cats, np.array(ids),
                      np.tile(np.arange(windows), len(labels_per_sample)), (4,), None)


def test_validation_is_held_out_by_sample_per_class_and_reproducibly():
    fs = feature_set(["a"] * 10 + ["b"] * 5 + ["c"], categories={15: "testing"})
    fs.labels[-5:] = ["z"] * 5  # a testing label that is not a class
    split = data.split(fs, 0.2, seed=4)
    assert split.classes == ["a", "b"]
    val_samples = set(np.unique(split.x_val[:, 0]).astype(int))
    train_samples = set(np.unique(split.x_train[:, 0]).astype(int))
    assert not val_samples & train_samples and len(val_samples) == 3  # 2 of a's 10, 1 of b's 5
    assert split.train_ids == train_samples
    assert list(split.y_test) == [-1] * 5 and "z" in split.notes[0]
    again = data.split(fs, 0.2, seed=4)
    assert np.array_equal(again.x_val, split.x_val)
    with pytest.raises(ParamError, match="at least two labels"):
        data.split(feature_set(["a", "a"]), 0.2, 1)


def test_class_weights_balance_the_classes():
    w = data.class_weights(np.array([0] * 30 + [1] * 10), 3)
    assert w[0] * 30 == pytest.approx(w[1] * 10) and w[2] == 0.0


def test_time_shift_fills_with_the_edge_frame_and_noise_follows_each_features_spread():
    from studio.learn.fit import augment_batch

    train = np.random.default_rng(0).normal(size=(500, 2)).astype(np.float32) * np.array([1.0, 0.0], np.float32)
    flat = data.Augmentation.for_training(train, noise=0.5, time_shift=0.3, seed=1)
    assert flat.max_shift == 0 and flat.active  # flat features have no time axis
    out = augment_batch(np.zeros((2000, 2), np.float32), 0, flat).numpy()
    assert 0.45 < out[:, 0].std() < 0.55 and not out[:, 1].any()
    a, b = (augment_batch(train[:4], 3, flat).numpy() for _ in range(2))
    assert np.array_equal(a, b) and not np.array_equal(a, augment_batch(train[:4], 4, flat).numpy())

    seq = data.Augmentation.for_training(np.zeros((4, 10, 1), np.float32), noise=0.0, time_shift=0.3, seed=1)
    assert seq.max_shift == 3 and seq.active
    x = np.tile(np.arange(10, dtype=np.float32)[None, :, None], (200, 1, 1))
    shifted = augment_batch(x, 0, seq).numpy()[:, :, 0]
    ramps = {s: np.clip(np.arange(10) - s, 0, 9) for s in range(-3, 4)}  # moved by s, the edge frame filling in
    found = [next(s for s, ramp in ramps.items() if np.array_equal(row, ramp)) for row in shifted]
    assert set(found) == set(range(-3, 4))  # every shift occurs, and nothing else


def test_metrics_per_class_and_confusion():
    r = report(np.array([0, 0, 1, 1, 2]), np.array([0, 1, 1, 1, 0]), ["a", "b", "c"])
    assert r["accuracy"] == 0.6 and r["confusion"] == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]
    assert r["per_class"]["b"] == {"precision": 0.6667, "recall": 1.0, "f1": 0.8, "support": 2}
    assert r["per_class"]["c"]["f1"] == 0.0
    assert report(np.zeros(0, int), np.zeros(0, int), ["a", "b"])["accuracy"] is None


def test_runs_are_numbered_whole_and_chosen(project):
    files = {"config.json": b"{}", "metrics.json": b"{}", "curves.json": b"{}"}
    assert [runs.save(project, files).number for _ in range(3)] == [1, 2, 3]
    assert runs.load(project).number == 3
    runs.choose(project, 2)
    assert runs.load(project).number == 2 and runs.chosen(project) == 2
    with pytest.raises(runs.ProjectError, match="no run 7"):
        runs.load(project, 7)
    with pytest.raises(ValueError):
        runs.save(project, {"evil.sh": b""})
    assert runs.numbers(project) == [1, 2, 3] and not list((project.path / "runs").glob(".tmp-*"))
    # a crashed writer's half-written folder is cleaned; a live writer's is left alone
    dead = project.path / "runs" / ".tmp-run-999999999-1"
    live = project.path / "runs" / f".tmp-run-{os.getpid()}-2"
    dead.mkdir()
    live.mkdir()
    assert runs.clean_temporaries(project) == 1 and live.exists() and not dead.exists()
