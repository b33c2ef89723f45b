"""Synthetic datasets made from the virtual board's gestures (for the demo, tests and benchmarks).

Each person (a seed) moves with their own tempo, strength and grip; holding whole persons out
for testing makes the testing set measure generalisation to new people, not new seconds.
"""

from __future__ import annotations

from studio.devices.gestures import GestureSynth
from studio.formats.edge_impulse import fits_float32
from studio.formats.sample import SENSOR, SampleHeader, Sensor, content_hash
from studio.project import Project

ACC_AXES = [Sensor("accX", "m/s2"), Sensor("accY", "m/s2"), Sensor("accZ", "m/s2")]


def add_gestures(project: Project, gestures: tuple[str, ...], persons: range, seconds: float, rate_hz: float,
                 category: str, samples_per_person: int = 1) -> int:
    """Record ``samples_per_person`` takes of ``seconds`` per gesture and person; returns how many."""
    frames = int(round(seconds * rate_hz))
    added = 0
    with project.writing() as writer:
        for person in persons:
            for g_index, gesture in enumerate(gestures):
                synth = GestureSynth(gesture, rate_hz, seed=1000 * person + g_index)
                for take in range(samples_per_person):
                    values = synth.next(frames)
                    header = SampleHeader(SENSOR, ACC_AXES, 1000.0 / rate_hz, frames, device_name="virtual-board")
                    writer.add(gesture, category, header, [values], content_hash(header, values),
                               name=f"{gesture}.p{person}.t{take}", wide=not fits_float32(values))
                    added += 1
    return added
