"""The test job: every testing sample through a run's impulse, float32 and int8 side by side.

Long samples are cut into sliding windows exactly as in training; each window is classified by
both models on LiteRT's reference kernels. A sample's prediction is the class with the highest
mean probability over its windows. Results per sample are sent as partial results as they come.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from studio.dsp import features
from studio.dsp.windowing import ImpulseConfig
from studio.jobs import ProgressLike
from studio.learn import runs
from studio.learn.anomaly import AnomalyModel
from studio.learn.metrics import report
from studio.learn.reference import Reference
from studio.project import Project


@dataclass
class TestParams:
    project_dir: Path
    run: int | None = None  # None: the run chosen for deployment, else the newest
    workers: int = 2


@dataclass
class SampleResult:
    sample_id: int
    name: str
    label: str
    windows: int
    float_label: str
    int8_label: str
    float_confidence: float
    int8_confidence: float
    float_windows: list[str]  # per window
    int8_windows: list[str]
    anomaly_max: float | None = None

    @property
    def correct(self) -> bool:
        return self.float_label == self.label and self.int8_label == self.label


@dataclass
class TestReport:
    run: int
    classes: list[str]
    float: dict[str, Any]
    int8: dict[str, Any]
    samples: list[SampleResult] = field(default_factory=list)
    sample_accuracy: dict[str, float | None] = field(default_factory=dict)
    anomaly_threshold: float | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def impulse_of(run: runs.Run) -> ImpulseConfig:
    """The impulse a run was trained with, at the rate it was trained at."""
    return run.impulse


def run(params: TestParams, progress: ProgressLike) -> TestReport:
    with Project.open(params.project_dir) as project:
        chosen = runs.load(project, params.run)
        names = {s.id: s.name for s in project.samples(category="testing")}
    classes = chosen.labels
    fs = features.run(features.FeatureParams(Path(params.project_dir), impulse_of(chosen), params.workers, "testing"),
                      progress.span(0.0, 0.3))
    float_ref = Reference(chosen.model_bytes("float"))
    int8_ref = Reference(chosen.model_bytes("int8"))
    anomaly = AnomalyModel.from_dict(chosen.anomaly) if chosen.anomaly else None
    index = {c: i for i, c in enumerate(classes)}
    labels = np.array(fs.labels)
    out = TestReport(chosen.number, classes, {}, {}, notes=list(fs.notes),
                     anomaly_threshold=anomaly.threshold if anomaly else None)
    y_true, y_float, y_int8 = [], [], []
    ids = list(dict.fromkeys(int(i) for i in fs.sample_ids))
    for n, sid in enumerate(ids):
        progress.check()
        mask = fs.sample_ids == sid
        x = fs.features[mask]
        pf, pq = float_ref.probabilities(x), int8_ref.probabilities(x)
        label = str(labels[mask][0])
        mf, mq = pf.mean(0), pq.mean(0)
        result = SampleResult(
            sid, names.get(sid, str(sid)), label, int(mask.sum()), classes[int(mf.argmax())], classes[int(mq.argmax())],
            round(float(mf.max()), 4), round(float(mq.max()), 4), [classes[i] for i in pf.argmax(1)],
            [classes[i] for i in pq.argmax(1)],
            round(float(anomaly.score(x).max()), 4) if anomaly is not None else None)
        out.samples.append(result)
        if label in index:
            y_true += [index[label]] * len(x)
            y_float += list(pf.argmax(1))
            y_int8 += list(pq.argmax(1))
        progress.partial(result)
        progress.update(0.3 + 0.7 * (n + 1) / len(ids), f"classified {n + 1} of {len(ids)} testing samples")
    unknown = sorted({s.label for s in out.samples} - set(classes))
    if unknown:
        out.notes.append(f"testing label(s) {', '.join(unknown)} are not classes of run {chosen.number}: "
                         "left out of the accuracy")
    out.float = report(np.array(y_true, int), np.array(y_float, int), classes)
    out.int8 = report(np.array(y_true, int), np.array(y_int8, int), classes)
    known = [s for s in out.samples if s.label in index]
    for kind in ("float", "int8"):
        right = sum(getattr(s, f"{kind}_label") == s.label for s in known)
        out.sample_accuracy[kind] = round(right / len(known), 4) if known else None
    progress.update(1.0, f"run {chosen.number}: float {out.float['accuracy']}, int8 {out.int8['accuracy']} "
                         f"over {len(fs.features)} windows")
    return out
