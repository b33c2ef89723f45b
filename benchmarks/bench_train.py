"""Training job speed and int8 fidelity for the default motion and keyword models.

    .venv/bin/python benchmarks/bench_train.py      # needs espeak-ng and sox (installer/setup.sh)

Cases, each in a fresh project in a temporary directory, trained by the training job with the
default parameters (30 epochs, post-training quantization) and the default model, the template
for the DSP block's features:
  motion    20 minutes of 100 Hz three-axis data from the virtual board's gesture synthesiser:
            idle, wave, circle and shake, 20 s each by 15 persons; persons 0-11 train (16 min),
            persons 12-14 are the testing set (4 min). Spectral features of 2 s windows every
            200 ms (dense network).
  keywords  2,000 one-second clips at 16 kHz: yes, no, left and right spoken by espeak-ng with 56
            voices (8 accents x 7 variants), 4 speeds and 2 pitches, starting 0-0.25 s in, and 208
            clips of background noise; 11 voices and a fifth of the noise are the testing set.
            MFCC of 1 s windows (1-D CNN).
Reported: feature seconds (computed from the raw samples, inside the job), fitting seconds, the
job's conversion seconds (float32 and int8 together), int8 conversion alone (the saved Keras
model converted again), the whole job, float32 and int8 accuracy on the testing set, and
inference milliseconds per window on the reference kernels (LiteRT BUILTIN_REF, as everywhere in
the studio: slow by design, they are the ground truth the firmware is held to, not a speed target).
Goals: the motion job (features, fitting, conversion and evaluation) in at most 60 s on 2 CPU
cores; int8 accuracy within 1 point of float32 for both models. Timings suffer if anything else
runs on the machine. Prints a table and writes benchmarks/results/train.json.
"""

from __future__ import annotations

import itertools
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from results_file import write_results

from studio.dataset.synthetic import add_clips, add_gestures, background, speak
from studio.dsp import features
from studio.dsp.windowing import ImpulseConfig
from studio.jobs import Progress
from studio.learn import train
from studio.learn.reference import Reference
from studio.project import Project

GESTURES = ("idle", "wave", "circle", "shake")
WORDS = ("yes", "no", "left", "right")
# "en" is en-gb: espeak-ng 1.51 ignores the variant in "en-gb+f2" (every en-gb+variant is the same voice)
ACCENTS = ("en", "en-us", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029",
           "en-us-nyc")
VARIANTS = ("m1", "m3", "m5", "f1", "f2", "f4", "f5")
VOICES = [f"{a}+{v}" for a, v in itertools.product(ACCENTS, VARIANTS)]
TEST_VOICES = set(VOICES[2::5])  # 11 of 56 voices are never heard in training
SPEEDS, PITCHES = (120, 150, 180, 210), (35, 65)
NOISE_CLIPS = 2000 - len(WORDS) * len(VOICES) * len(SPEEDS) * len(PITCHES)
TIMED_WINDOWS = 200


def motion_project(path: Path) -> None:
    with Project.create(path, "motion") as project:
        add_gestures(project, GESTURES, range(0, 12), 20.0, 100.0, "training")
        add_gestures(project, GESTURES, range(12, 15), 20.0, 100.0, "testing")
        features.save_config(project, ImpulseConfig(2000, 200, "spectral"))


def keyword_project(path: Path) -> None:
    rng = np.random.default_rng(5)
    jobs = [(w, v, s, p, round(float(rng.uniform(0.0, 0.25)), 3))
            for w, v, s, p in itertools.product(WORDS, VOICES, SPEEDS, PITCHES)]
    with ThreadPoolExecutor(4) as pool:
        spoken = list(pool.map(lambda j: speak(*j), jobs))
    clips = [(j[0], "testing" if j[1] in TEST_VOICES else "training", x) for j, x in zip(jobs, spoken, strict=True)]
    clips += [("noise", "testing" if i % 5 == 0 else "training", background(i)) for i in range(NOISE_CLIPS)]
    assert len(clips) == 2000
    with Project.create(path, "keywords") as project:
        add_clips(project, clips)
        features.save_config(project, ImpulseConfig(1000, 1000, "mfcc"))


def ms_per_window(model: bytes, x: np.ndarray) -> float:
    ref = Reference(model)
    ref.raw(x[:5])
    t = time.perf_counter()
    ref.raw(x)
    return (time.perf_counter() - t) / len(x) * 1000


def int8_seconds(run_dir: Path, train_x: np.ndarray, seed: int) -> float:
    """The saved Keras model converted to int8 again, calibrated the way the job does it."""
    from studio.learn import convert
    from studio.learn.tf_env import tensorflow

    _, keras = tensorflow()
    model = keras.models.load_model(run_dir / "model.keras")
    calibration = convert.representative(train_x, seed)
    t = time.perf_counter()
    convert.to_int8(model, calibration)
    return time.perf_counter() - t


def measure(name: str, path: Path, make) -> dict:
    t = time.perf_counter()
    make(path)
    data_s = time.perf_counter() - t
    result = train.run(train.TrainParams(path), Progress())
    m, run = result.metrics, result.run
    fs = features.run(features.FeatureParams(path), Progress())  # from the cache now
    rng = np.random.default_rng(0)
    x = fs.features[np.sort(rng.permutation(len(fs.features))[:TIMED_WINDOWS])]
    train_x = fs.features[np.array(fs.categories) == "training"]
    acc_f, acc_i = m["float"]["accuracy"], m["int8"]["accuracy"]
    return {
        "case": name, "data_seconds": round(data_s, 2), "template": run.config["template"],
        "feature_shape": run.config["feature_shape"], "training_windows": m["training_windows"],
        "validation_windows": m["validation_windows"], "testing_windows": m["float"]["windows"],
        "seconds": m["seconds"], "int8_conversion_seconds": round(int8_seconds(run.path, train_x, 1), 2),
        "float_accuracy": acc_f, "int8_accuracy": acc_i, "diff_points": round(abs(acc_f - acc_i) * 100, 2),
        "int8_agreement": m["int8_agreement"],
        "model_bytes": {"float": m["float"]["model_bytes"], "int8": m["int8"]["model_bytes"]},
        "infer_ms_per_window": {"float": round(ms_per_window(run.model_bytes("float"), x), 4),
                                "int8": round(ms_per_window(run.model_bytes("int8"), x), 4)},
        "params": m["architecture"]["params"], "macs": m["architecture"]["macs"],
        "epochs_trained": m["epochs_trained"], "notes": m["notes"],
    }


def main() -> int:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(measure("motion", Path(tmp) / "motion", motion_project))
        rows.append(measure("keywords", Path(tmp) / "keywords", keyword_project))

    head = (f"{'case':<9} {'windows':>7} {'feat s':>7} {'fit s':>7} {'conv s':>7} {'int8 s':>7} {'job s':>7} "
            f"{'float':>7} {'int8':>7} {'|diff|':>7} {'ms f32':>8} {'ms int8':>8}")
    print(head)
    for r in rows:
        s, ms = r["seconds"], r["infer_ms_per_window"]
        print(f"{r['case']:<9} {r['training_windows']:>7} {s['features']:>7.1f} {s['training']:>7.1f} "
              f"{s['conversion']:>7.1f} {r['int8_conversion_seconds']:>7.1f} {s['total']:>7.1f} "
              f"{r['float_accuracy']:>7.4f} {r['int8_accuracy']:>7.4f} {r['diff_points']:>7.2f} "
              f"{ms['float']:>8.3f} {ms['int8']:>8.3f}")
    print("windows: training windows after the validation hold-out; feat/fit/conv/job s: the training job's "
          "features, fitting, float32+int8 conversion and whole run; int8 s: int8 conversion alone; "
          "ms: inference per window on the reference kernels (BUILTIN_REF, not a speed target)")
    for r in rows:
        print(f"{r['case']}: {r['template']}, features {'x'.join(map(str, r['feature_shape']))}, "
              f"{r['params']} parameters, {r['testing_windows']} testing windows, data made in {r['data_seconds']} s")

    motion = rows[0]
    goals = {"motion job <= 60 s on 2 CPU cores": motion["seconds"]["total"] <= 60.0}
    goals.update({f"{r['case']} int8 within 1 point of float": r["diff_points"] <= 1.0 for r in rows})
    for goal, met in goals.items():
        print(f"goal {goal}: {'met' if met else 'NOT met'}")
    write_results("train", {"cases": rows, "goals": goals, "goals_met": all(goals.values())})
    return 0 if all(goals.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
