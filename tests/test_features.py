"""Windowing, the feature cache and the feature job."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import run_cli

from studio.dsp import features
from studio.dsp.params import DspError
from studio.dsp.windowing import ImpulseConfig, window_count, windows_of
from studio.formats.sample import SENSOR, SampleHeader, Sensor
from studio.jobs import Cancelled, Progress
from studio.project import Project

AXES = [Sensor("x", ""), Sensor("y", ""), Sensor("z", "")]


def add(project, label, seconds, hz=100.0, seed=0, category="training"):
    n = int(seconds * hz)
    t = np.arange(n) / hz
    values = np.stack([np.sin(2 * np.pi * (1 + seed) * t), np.cos(t), t * 0 + seed], 1)
    return project.add_sample(label, SampleHeader(SENSOR, AXES, 1000 / hz), values, category)


def test_window_counts():
    assert window_count(200, 100, 50, True) == 3
    assert window_count(199, 100, 50, True) == 2
    assert window_count(60, 100, 50, True) == 1 and window_count(60, 100, 50, False) == 0
    assert window_count(0, 100, 50, True) == 0


def test_plan_counts_resamples_pads_and_balances(project):
    add(project, "a", 2.0)
    add(project, "a", 3.0)
    add(project, "b", 2.0, hz=50.0, category="testing")  # another rate
    add(project, "b", 0.6)  # shorter than a window
    cfg = ImpulseConfig(1000, 500, "flatten")
    p, block = features.configure(project, cfg)
    assert p.frequency_hz == 100 and p.window_frames == 100 and p.stride_frames == 50
    assert [p.windows[i] for i in (1, 2, 3, 4)] == [3, 5, 3, 1]
    assert p.balance == {"a": {"training": 8, "testing": 0}, "b": {"training": 1, "testing": 3}}
    assert p.resampled == [(3, 50.0)] and "resampled to 100 Hz" in p.report()[0]
    p2, _ = features.configure(project, ImpulseConfig(1000, 500, "flatten", pad_short=False))
    assert p2.dropped == [4] and 4 not in p2.windows


def test_resampled_windows_keep_the_signal(project):
    s = add(project, "a", 2.0, hz=50.0)
    p, _ = features.configure(project, ImpulseConfig(1000, 1000, "raw", frequency_hz=100.0))
    w = windows_of(project.read(s), s.frequency_hz, p.framing, True)
    assert w.shape == (2, 100, 3)
    t = np.arange(200) / 100.0
    np.testing.assert_allclose(w.reshape(200, 3)[20:180, 0], np.sin(2 * np.pi * t)[20:180], atol=0.02)


def test_impulse_errors(project):
    add(project, "a", 2.0)
    with pytest.raises(DspError, match="longer than every sample"):
        features.configure(project, ImpulseConfig(5000, 500, "flatten"))
    with pytest.raises(DspError, match="frequency must be positive"):
        features.configure(project, ImpulseConfig(1000, 500, "flatten", frequency_hz=0))
    with pytest.raises(DspError, match="unknown DSP block"):
        features.configure(project, ImpulseConfig(1000, 500, "wavelet"))


def run_features(project, cfg, workers=2):
    return features.run(features.FeatureParams(project.path, cfg, workers), Progress())


def test_cache_recomputes_only_what_changed(project):
    for i in range(10):
        add(project, "ab"[i % 2], 2.0, seed=i)
    cfg = ImpulseConfig(1000, 500, "spectral", {"filter_cutoff": 5.0})
    first = run_features(project, cfg)
    assert (first.computed, first.cached) == (10, 0) and first.features.shape == (30, 15)
    again = run_features(project, cfg)
    assert (again.computed, again.cached) == (0, 10)
    np.testing.assert_array_equal(again.features, first.features)
    # a label is not part of the key: nothing to recompute, and the labels follow
    project.relabel([1], "c")
    relabelled = run_features(project, cfg)
    assert relabelled.computed == 0 and relabelled.labels[:3] == ["c"] * 3
    # a crop touches one sample
    project.crop(2, 0, 150)
    cropped = run_features(project, cfg)
    assert cropped.computed == 1 and len(cropped.features) == 29
    # a block parameter touches every sample
    changed = run_features(project, ImpulseConfig(1000, 500, "spectral", {"filter_cutoff": 4.0}))
    assert changed.computed == 10
    assert not np.array_equal(changed.features, cropped.features)
    # and the old settings are still cached
    assert run_features(project, cfg).computed == 0


def test_parallel_and_in_process_results_agree(project):
    for i in range(9):
        add(project, "a", 2.0, seed=i)
    parallel = run_features(project, ImpulseConfig(1000, 250, "flatten"), workers=2)
    for f in (project.path / features.CACHE_DIR).rglob("*.npy"):
        f.unlink()
    inline = run_features(project, ImpulseConfig(1000, 250, "flatten"), workers=1)
    np.testing.assert_array_equal(parallel.features, inline.features)
    assert parallel.computed == inline.computed == 9


def test_cancel_leaves_no_partial_cache_files(project):
    for i in range(12):
        add(project, "a", 4.0, seed=i)
    progress = Progress()
    progress._listener = lambda e: progress.cancel() if e.fraction > 0 else None
    with pytest.raises(Cancelled):
        features.run(features.FeatureParams(project.path, ImpulseConfig(500, 100, "spectral")), progress)
    cache = project.path / features.CACHE_DIR
    assert not [f for f in cache.rglob("*") if f.name.startswith(".tmp-")]
    done = len(list(cache.rglob("*.npy")))
    assert done < 12
    rest = run_features(project, ImpulseConfig(500, 100, "spectral"))
    assert rest.computed == 12 - done


def test_cli_impulse_and_features(tmp_path):
    proj = tmp_path / "p"
    with Project.create(proj) as project:
        for i in range(4):
            add(project, "ab"[i % 2], 2.0, seed=i)
    out = run_cli("impulse", proj, "--window-ms", "1000", "--stride-ms", "500", "--dsp", "flatten", "--param",
                  "kurtosis=false", "--json")
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["feature_shape"] == [18] and info["windows"] == 12
    assert json.loads((proj / "project.json").read_text())["settings"]["impulse"]["params"] == {"kurtosis": False}
    summary = json.loads(run_cli("features", proj, "--json").stdout)
    assert summary["windows"] == 12 and summary["class_balance"]["a"]["training"] == 6
    bad = run_cli("impulse", proj, "--window-ms", "1000", "--stride-ms", "500", "--dsp", "mfcc")
    assert bad.returncode == 1 and "takes one axis" in bad.stderr
    bad = run_cli("impulse", proj, "--window-ms", "1000", "--stride-ms", "500", "--dsp", "raw", "--param", "scale")
    assert bad.returncode == 1 and "NAME=VALUE" in bad.stderr
