"""Training end to end on virtual-board gestures: accuracy, int8 against float, QAT, pruning,
anomaly detection, cancellation, reproducibility, runs, the test job and live classification."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import run_cli
from support.projects import GESTURES, make_project

from studio.devices.capture import DeviceSpec
from studio.jobs import Cancelled, Progress
from studio.learn import blocks, classify, live, runs, train
from studio.learn.convert import operators
from studio.learn.layers import FIRMWARE_OPS
from studio.params import ParamError
from studio.project import Project


def test_gestures_reach_95_percent_and_int8_stays_within_a_point(gesture_run):
    m = gesture_run.metrics
    assert m["classes"] == sorted(GESTURES)
    assert m["float"]["windows"] == 4 * 3 * 91  # 3 held-out people, 20 s each: (2000 - 200) / 20 + 1 windows
    assert m["float"]["accuracy"] >= 0.95 and m["int8"]["accuracy"] >= 0.95
    assert abs(m["float"]["accuracy"] - m["int8"]["accuracy"]) <= 0.01
    assert m["int8"]["model_bytes"] < m["float"]["model_bytes"]
    assert set(m["float"]["per_class"]) == set(GESTURES)
    assert all(c["f1"] > 0.9 for c in m["int8"]["per_class"].values())
    assert np.array(m["int8"]["confusion"]).sum() == m["int8"]["windows"]
    assert m["quantization"] == "ptq" and m["sparsity"] is None and not m["cancelled"]


def test_a_run_holds_everything_needed_to_use_it_later(gesture_run, gesture_project):
    run = gesture_run.run
    assert run.number == 1 and run.path == gesture_project / "runs" / "001"
    for name in ("config.json", "metrics.json", "curves.json", "model.keras", "float.tflite", "int8.tflite"):
        assert (run.path / name).stat().st_size > 0
    assert run.config["template"] == "dense network" and run.config["classes"] == sorted(GESTURES)
    assert run.config["framing"] == {"frequency_hz": 100.0, "window_frames": 200, "stride_frames": 20,
                                     "kind": "sensor", "axes": 3}
    curves = run.curves["training"]
    assert len(curves["loss"]) == 30 and len(curves["val_accuracy"]) == 30 and curves["loss"][-1] < curves["loss"][0]
    assert set(operators(run.model_bytes("int8"))) <= FIRMWARE_OPS
    assert not list((gesture_project / "runs").glob(".tmp-*"))


def test_same_seed_same_metrics(gesture_project):
    a = train.run(train.TrainParams(gesture_project, {"epochs": 6, "seed": 11, "noise": 0.1}), Progress())
    b = train.run(train.TrainParams(gesture_project, {"epochs": 6, "seed": 11, "noise": 0.1}), Progress())
    c = train.run(train.TrainParams(gesture_project, {"epochs": 6, "seed": 12, "noise": 0.1}), Progress())
    assert a.run.curves == b.run.curves
    assert a.metrics["float"] == b.metrics["float"] and a.metrics["int8"] == b.metrics["int8"]
    assert a.run.model_bytes("int8") == b.run.model_bytes("int8")
    assert a.run.curves != c.run.curves


def test_qat_with_pruning_keeps_accuracy_and_reaches_the_sparsity(gesture_project):
    params = train.TrainParams(gesture_project, {"epochs": 20, "quantize": "qat", "prune": 0.6})
    result = train.run(params, Progress())
    m = result.metrics
    assert m["quantization"] == "qat" and m["sparsity"] >= 0.59
    assert set(result.run.curves) == {"training", "pruning", "quantization-aware training"}
    assert m["int8"]["accuracy"] >= 0.93 and abs(m["float"]["accuracy"] - m["int8"]["accuracy"]) <= 0.02
    # the zeros survive quantization: count them in the int8 model's FULLY_CONNECTED weights
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_content=result.run.model_bytes("int8"))
    weights = [interp.get_tensor(t["index"]) for t in interp.get_tensor_details()
               if t["dtype"] == np.int8 and len(t["shape"]) == 2 and t["shape"][0] > 1 and t["shape"][1] > 1
               and _is_constant(interp, t)]
    zeros = sum(int((w == 0).sum()) for w in weights) / sum(w.size for w in weights)
    assert zeros >= 0.55
    assert set(operators(result.run.model_bytes("int8"))) <= FIRMWARE_OPS


def _is_constant(interp, t):
    try:
        interp.get_tensor(t["index"])
        return True
    except ValueError:
        return False


def test_cancel_keeps_the_best_model_so_far(gesture_project):
    def stop_after_three(event):
        if isinstance(event.partial, dict) and event.partial.get("epoch") == 3:
            progress.cancel()

    progress = Progress(stop_after_three)
    result = train.run(train.TrainParams(gesture_project, {"epochs": 50, "quantize": "qat"}), progress)
    m = result.metrics
    assert m["cancelled"] and m["epochs_trained"] in (3, 4) and m["quantization"] == "ptq"
    val = result.run.curves["training"]["val_loss"]
    assert m["best_epoch"] == int(np.argmin(val)) + 1
    assert m["float"]["accuracy"] is not None and (result.run.path / "int8.tflite").is_file()


def test_cancel_before_training_leaves_no_run(tmp_path):
    path = make_project(tmp_path / "p", seconds=4.0)
    progress = Progress()
    progress.cancel()
    with pytest.raises(Cancelled):
        train.run(train.TrainParams(path), progress)
    assert not (path / "runs").exists() or not any((path / "runs").iterdir())


def test_anomaly_block_flags_a_gesture_it_never_saw(tmp_path):
    path = make_project(tmp_path / "p", gestures=("idle", "wave", "circle"), test_gestures=GESTURES, seconds=10.0)
    result = train.run(train.TrainParams(path, {"epochs": 15}, anomaly={"clusters": 12}), Progress())
    a = result.metrics["anomaly"]
    assert a["per_label"]["shake"]["expected_anomaly"] and a["per_label"]["shake"]["flagged"] >= 0.9
    for known in ("idle", "wave", "circle"):
        assert a["per_label"][known]["flagged"] <= 0.1
    assert any("shake" in n and "not classes" in n for n in result.metrics["notes"])
    saved = result.run.anomaly
    width = result.run.config["feature_shape"][0]
    assert len(saved["centres"]) == 12 and len(saved["mean"]) == len(saved["scale"]) == width
    report = classify.run(classify.TestParams(path, result.run.number), Progress())
    shake = [s for s in report.samples if s.label == "shake"]
    assert all(s.anomaly_max > report.anomaly_threshold for s in shake)


def test_test_job_classifies_every_testing_sample_with_both_models(gesture_run, gesture_project):
    events = []
    report = classify.run(classify.TestParams(gesture_project, 1), Progress(events.append))
    assert len(report.samples) == 12 and all(s.windows == 91 for s in report.samples)
    assert report.float["accuracy"] == gesture_run.metrics["float"]["accuracy"]
    assert report.int8["confusion"] == gesture_run.metrics["int8"]["confusion"]
    assert report.sample_accuracy["int8"] == 1.0
    partials = [e.partial for e in events if isinstance(e.partial, classify.SampleResult)]
    assert [p.sample_id for p in partials] == [s.sample_id for s in report.samples]


def test_cli_train_test_and_runs(gesture_project):
    out = run_cli("train", gesture_project, "--epochs", "8", "--seed", "3", "--json", timeout=300)
    assert out.returncode == 0, out.stderr
    trained = json.loads(out.stdout)
    assert trained["run"] >= 2 and trained["int8"]["accuracy"] > 0.9
    out = run_cli("test", gesture_project, "--run", str(trained["run"]), "--json")
    assert out.returncode == 0, out.stderr
    tested = json.loads(out.stdout)
    assert tested["float"]["accuracy"] == trained["float"]["accuracy"]
    assert tested["int8"]["confusion"] == trained["int8"]["confusion"] and len(tested["samples"]) == 12
    out = run_cli("runs", gesture_project, "--choose", "1")
    assert out.returncode == 0 and "* chosen for deployment: run 1" in out.stdout
    with Project.open(gesture_project) as project:
        assert runs.load(project).number == 1
    out = run_cli("test", gesture_project)
    assert out.returncode == 0 and out.stdout.startswith("run 1:") and "confusion" in out.stdout
    out = run_cli("train", gesture_project, "--prune", "2")
    assert out.returncode == 1 and "prune must be at most 0.95" in out.stderr
    bad = gesture_project.parent / "layers.json"
    bad.write_text(json.dumps([{"type": "lstm", "units": 8}]))
    out = run_cli("train", gesture_project, "--layers", bad)
    assert out.returncode == 1 and "WHILE" in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_live_classification_on_the_virtual_board(gesture_run, gesture_project):
    results = []
    progress = Progress(lambda e: results.append(e.partial) if isinstance(e.partial, live.Classification) else None)
    device = DeviceSpec("virtual", gesture="wave", seed=42)
    summary = live.run(live.LiveParams(gesture_project, device, 1, seconds=4.0), progress)
    assert summary.classifications == len(results) >= 5
    assert max(summary.int8_counts, key=summary.int8_counts.get) == "wave"
    assert results[0].frame >= 200 and all(b.frame > a.frame for a, b in zip(results, results[1:], strict=False))


def test_learn_settings_are_checked_before_they_are_stored(project):
    with pytest.raises(ParamError, match="epochs must be at least 1"):
        blocks.save(project, blocks.LearnConfig({"epochs": 0}))
    blocks.save(project, blocks.LearnConfig({"epochs": 5}, [{"type": "dense", "units": 4}], {"clusters": 3}))
    project.close()
    with Project.open(project.path) as again:
        cfg = blocks.load(again)
    assert cfg.classifier == {"epochs": 5} and cfg.layers[0]["units"] == 4 and cfg.anomaly == {"clusters": 3}
