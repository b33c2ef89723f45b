"""What can be streamed to the emulated board for a run: the virtual sensor making a gesture (for 3- or 6-axis
motion impulses) and the project's enabled samples that fit the impulse (its kind, axes and rate), testing
first. Each stream has a key (``gesture:NAME``, ``sample:ID``) that the Deploy page and the demo choose by."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from studio.deploy.running.emulated import gesture_frames
from studio.devices.gestures import GESTURES
from studio.errors import StudioError
from studio.formats.sample import SENSOR
from studio.learn.runs import Run
from studio.project import Project


@dataclass(frozen=True)
class Stream:
    key: str  # "gesture:<name>" or "sample:<id>"
    title: str

    @property
    def is_gesture(self) -> bool:
        return self.key.startswith("gesture:")


def streams_for(project: Project, run: Run) -> list[Stream]:
    """The streams that fit ``run``'s impulse, gestures first, then testing and training samples."""
    framing, axes = run.framing, run.axes
    out = []
    if framing.kind == SENSOR and axes in (3, 6):
        out += [Stream(f"gesture:{g}", f"Virtual sensor: {g}") for g in GESTURES]
    fs = framing.frequency_hz
    for category in ("testing", "training"):
        for s in project.samples(category=category, enabled=True):
            if s.kind == framing.kind and len(s.sensors) == axes and abs(s.frequency_hz - fs) <= 1e-3 * fs:
                out.append(Stream(f"sample:{s.id}", f"{category} sample {s.name} ({s.label})"))
    return out


def stream_frames(project: Project, run: Run, key: str, seconds: float) -> tuple[np.ndarray, str]:
    """The frames of stream ``key`` (``seconds`` long for a gesture) and a description; ``StudioError``."""
    kind, _, value = key.partition(":")
    if kind == "gesture":
        frames = gesture_frames(value, seconds, run.framing.frequency_hz, run.axes)
        return frames, f"{seconds:g} s of the virtual sensor's {value}"
    if kind != "sample" or not value.isdigit():
        raise StudioError(f"{key!r}: not a stream (gesture:NAME or sample:ID)")
    found = project.samples(ids=[int(value)])
    if not found:
        raise StudioError(f"{project.path}: sample {value} is gone")
    sample = found[0]
    return project.read(sample), f"sample {sample.name} ({sample.label})"
