"""Live classification: a run's impulse and models on a device's stream as data arrives.

Every stride (the impulse's window stride), the latest window of the stream is cut, run through
the DSP block and classified by the float32 and int8 models. The job sends each classification
as a partial result and runs until cancelled or for ``seconds``.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from studio.devices.capture import DeviceSpec, open_stream
from studio.devices.sources import DeviceError, StreamInfo
from studio.dsp.windowing import windows_of
from studio.jobs import ProgressLike
from studio.learn import runs
from studio.learn.anomaly import AnomalyModel
from studio.learn.reference import Reference
from studio.project import Project


@dataclass
class Classification:
    frame: int  # stream frame at the end of the window
    float_label: str
    int8_label: str
    float_probabilities: dict[str, float]
    int8_probabilities: dict[str, float]
    anomaly: float | None = None
    anomalous: bool = False


class LiveClassifier:
    """A run ready to classify windows of raw stream values (sensor units, or int16 audio)."""

    def __init__(self, run: runs.Run) -> None:
        self.run = run.number
        self.classes: list[str] = run.labels
        self.framing = run.framing
        self.axes = run.axes
        self.block = run.block()
        self.float_ref = Reference(run.model_bytes("float"))
        self.int8_ref = Reference(run.model_bytes("int8"))
        self.anomaly = AnomalyModel.from_dict(run.anomaly) if run.anomaly else None

    def check(self, info: StreamInfo) -> None:
        kind = "audio" if info.kind == "audio" else "sensor"
        if kind != self.framing.kind or len(info.axes) != self.axes:
            raise DeviceError(f"{info.device}: streams {len(info.axes)} {kind} axes; run {self.run} was trained on "
                              f"{self.axes} {self.framing.kind} axes")

    def frames_needed(self, stream_hz: float) -> int:
        return math.ceil(self.framing.window_frames * stream_hz / self.framing.frequency_hz) + 2

    def classify(self, values: np.ndarray, stream_hz: float, frame: int = 0) -> Classification | None:
        """The latest complete window of ``values`` (oldest first), or None if there is not one yet."""
        windows = windows_of(values, stream_hz, self.framing, pad_short=False)
        if not len(windows):
            return None
        feats = self.block.run(windows[-1])[None, ...]
        pf = self.float_ref.probabilities(feats)[0]
        pq = self.int8_ref.probabilities(feats)[0]
        score = float(self.anomaly.score(feats)[0]) if self.anomaly else None
        return Classification(frame, self.classes[int(pf.argmax())], self.classes[int(pq.argmax())],
                              {c: round(float(v), 4) for c, v in zip(self.classes, pf, strict=True)},
                              {c: round(float(v), 4) for c, v in zip(self.classes, pq, strict=True)},
                              None if score is None else round(score, 4),
                              bool(score is not None and score > self.anomaly.threshold))


@dataclass
class LiveParams:
    project_dir: Path
    spec: DeviceSpec
    run: int | None = None
    seconds: float | None = None  # None: until cancelled
    connect_timeout_s: float = 15.0


@dataclass
class LiveSummary:
    classifications: int
    float_counts: dict[str, int] = field(default_factory=dict)
    int8_counts: dict[str, int] = field(default_factory=dict)
    agreement: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"classifications": self.classifications, "float_counts": self.float_counts,
                "int8_counts": self.int8_counts, "agreement": self.agreement}


def run(params: LiveParams, progress: ProgressLike) -> LiveSummary:
    with Project.open(params.project_dir) as project:
        classifier = LiveClassifier(runs.load(project, params.run))
    stream = open_stream(params.spec, reconnect=params.seconds is None)
    stream.start()
    results: list[Classification] = []
    try:
        progress.update(0.0, f"connecting to {params.spec.device}")
        info = stream.wait_streaming(params.connect_timeout_s)
        classifier.check(info)
        need = classifier.frames_needed(info.frequency_hz)
        stride = max(1, round(classifier.framing.stride_frames * info.frequency_hz / classifier.framing.frequency_hz))
        start, next_at = time.monotonic(), need
        while params.seconds is None or time.monotonic() - start < params.seconds:
            progress.check()
            total = stream.total_frames()
            if total < next_at:
                time.sleep(0.01)
                continue
            next_at = max(next_at + stride, total - stride)  # skip ahead rather than fall behind
            result = classifier.classify(stream.latest(need), info.frequency_hz, total)
            if result is not None:
                results.append(result)
                progress.partial(result)
                fraction = None if params.seconds is None else min(1.0, (time.monotonic() - start) / params.seconds)
                progress.update(fraction, f"{result.float_label} (float) / {result.int8_label} (int8)")
    finally:
        stream.stop()
    summary = LiveSummary(len(results), dict(Counter(r.float_label for r in results)),
                          dict(Counter(r.int8_label for r in results)))
    if results:
        summary.agreement = round(sum(r.float_label == r.int8_label for r in results) / len(results), 4)
    return summary
