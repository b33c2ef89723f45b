"""The training job: features, fitting, optional pruning and quantization-aware training,
float32 and int8 conversion, side-by-side evaluation on the testing set, and a numbered run.

Steps and their share of the progress bar: features (0-15%), background mixing (15-20%),
fitting (20-70%, less when pruning or QAT follow), pruning, QAT, conversion and evaluation.
Cancelling during fitting stops it, keeps the best weights so far and still finishes the run
(marked cancelled, without the fine-tuning phases); cancelling before the first epoch ends
leaves no run.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from studio.dsp import features
from studio.jobs import Cancelled, ProgressLike
from studio.learn import anomaly as anomaly_block
from studio.learn import blocks, data, layers, runs
from studio.learn.background import mixed_copies
from studio.learn.metrics import report
from studio.learn.reference import Reference
from studio.params import ParamError
from studio.project import Project


@dataclass
class TrainParams:
    project_dir: Path
    overrides: dict[str, Any] = field(default_factory=dict)  # classifier parameters over the saved ones
    layers: list[dict[str, Any]] | None = None  # None: the saved layer list or the template
    anomaly: dict[str, Any] | None = None  # None: the saved anomaly block (if any)
    workers: int = 2


@dataclass
class TrainResult:
    run: runs.Run
    metrics: dict[str, Any]


def _json(obj: Any) -> bytes:
    return json.dumps(obj, indent=2, sort_keys=True).encode()


def evaluate(model: bytes, split: data.Split) -> tuple[dict[str, Any], np.ndarray]:
    """Window-level metrics on the testing windows whose label is a class, and the predictions."""
    known = split.y_test >= 0
    ref = Reference(model)
    pred = ref.probabilities(split.x_test[known]).argmax(1) if known.any() else np.zeros(0, int)
    out = report(split.y_test[known], pred, split.classes)
    out["model_bytes"] = ref.size
    return out, pred


def run(params: TrainParams, progress: ProgressLike) -> TrainResult:
    t0 = time.perf_counter()
    with Project.open(params.project_dir) as project:
        impulse = features.load_config(project)
        learn = blocks.load(project)
        p = blocks.CLASSIFIER.resolve({**learn.classifier, **params.overrides})
        anomaly_params = params.anomaly if params.anomaly is not None else learn.anomaly
        anomaly_params = None if anomaly_params is None else blocks.ANOMALY.resolve(anomaly_params)
        runs.clean_temporaries(project)
    fs = features.run(features.FeatureParams(Path(params.project_dir), impulse, params.workers), progress.span(0, 0.15))
    seconds = {"features": time.perf_counter() - t0}
    split = data.split(fs, p["validation_split"], p["seed"])
    layer_list = params.layers if params.layers is not None else learn.layers
    template_name, template = layers.template(fs.shape, impulse.block)
    arch = layers.plan(template if layer_list is None else layer_list, fs.shape, len(split.classes))
    notes = fs.notes + split.notes + arch.notes
    block = features.block_for(impulse, fs.plan)
    if p["background_mix"] > 0:
        with Project.open(params.project_dir) as project:
            x, y, more = mixed_copies(project, fs.plan, block, impulse.pad_short, split.train_ids, split.classes,
                                      p["background_label"], p["background_mix"], p["background_gain"], p["seed"],
                                      progress.span(0.15, 0.2))
        notes += more
        split.x_train, split.y_train = np.concatenate([split.x_train, x]), np.concatenate([split.y_train, y])
    if not len(split.x_train):
        raise ParamError("no training windows left after the validation hold-out")

    # here, not at the top: these import TensorFlow, which only training may load
    from studio.learn import convert, fit, keras_model
    from studio.learn.tf_env import seed_everything, tensorflow

    t1 = time.perf_counter()
    seed_everything(p["seed"])
    model = keras_model.build(arch)
    weights = data.class_weights(split.y_train, len(split.classes)) if p["class_weights"] else None
    augment = data.Augmentation.for_training(split.x_train, p["noise"], p["time_shift"], p["seed"])
    fine = (p["prune"] > 0) + (p["quantize"] == "qat")
    end_fit = 0.7 - 0.12 * fine
    phases = [fit.fit(model, split, p, "training", p["epochs"], p["learning_rate"], weights, augment,
                      progress.span(0.2, end_fit))]
    cancelled = phases[0].cancelled
    if phases[0].epochs == 0:
        raise Cancelled()
    sparsity = None
    at = end_fit
    if p["prune"] > 0 and not cancelled:
        model, phase = fit.prune(model, split, p, weights, augment, progress.span(at, at + 0.12))
        phases.append(phase)
        at += 0.12
        sparsity = round(fit.sparsity(model), 4)
        cancelled = phase.cancelled
    qat_model = None
    if p["quantize"] == "qat" and not cancelled:
        qat_model, phase = fit.quantization_aware(model, split, p, weights, augment, progress.span(at, at + 0.12),
                                                  keep_sparsity=sparsity is not None)
        phases.append(phase)
        cancelled = phase.cancelled
    seconds["training"] = time.perf_counter() - t1

    progress.update(0.94, "converting to float32 and int8 TFLite")
    t2 = time.perf_counter()
    float_model = convert.to_float(model)
    calibration = convert.representative(split.x_train, p["seed"])
    int8_model = convert.to_int8(qat_model if qat_model is not None else model, calibration)
    seconds["conversion"] = time.perf_counter() - t2
    progress.update(0.97, "evaluating float32 and int8 on the testing set")
    float_metrics, float_pred = evaluate(float_model, split)
    int8_metrics, int8_pred = evaluate(int8_model, split)
    anomaly_model = anomaly_metrics = None
    if anomaly_params is not None:
        anomaly_model = anomaly_block.fit(split.x_train, anomaly_params, p["seed"])
        anomaly_metrics = anomaly_block.evaluate(anomaly_model, split.x_test, split.test_labels, split.classes)
    seconds["total"] = time.perf_counter() - t0

    tf, _ = tensorflow()
    main = phases[0]
    metrics = {
        "classes": split.classes, "float": float_metrics, "int8": int8_metrics,
        "int8_agreement": round(float((float_pred == int8_pred).mean()), 4) if len(float_pred) else None,
        "epochs_trained": main.epochs, "best_epoch": main.best_epoch, "cancelled": cancelled,
        "quantization": "qat" if qat_model is not None else "ptq", "sparsity": sparsity,
        "validation_windows": int(len(split.x_val)), "training_windows": int(len(split.x_train)),
        "anomaly": anomaly_metrics, "notes": notes, "seconds": {k: round(v, 2) for k, v in seconds.items()},
        "architecture": {"params": arch.params, "macs": arch.macs},
    }
    framing = fs.plan.framing
    with Project.open(params.project_dir) as project:
        config = runs.new_config(impulse, block, framing, fs.plan.axes, fs.shape, split.classes, {
            "classifier": p, "learn_block": {"name": blocks.CLASSIFIER.name, "version": blocks.CLASSIFIER.version},
            "layers": arch.specs(), "template": template_name if layer_list is None else None,
            "anomaly": anomaly_params, "tensorflow": tf.__version__,
        })
        curves = {ph.name: ph.curves for ph in phases}
        files = {"config.json": _json(config), "metrics.json": _json(metrics), "curves.json": _json(curves),
                 "model.keras": _keras_bytes(model), "float.tflite": float_model, "int8.tflite": int8_model}
        if anomaly_model is not None:
            files["anomaly.json"] = _json(anomaly_model.to_dict())
        saved = runs.save(project, files)
    progress.update(1.0, f"run {saved.number}: float {float_metrics['accuracy']}, int8 {int8_metrics['accuracy']}")
    return TrainResult(saved, metrics)


def _keras_bytes(model: Any) -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "model.keras"
        model.save(path)
        return path.read_bytes()
