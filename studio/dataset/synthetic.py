"""Synthetic datasets (for the demo, tests and benchmarks): the virtual board's gestures, and
keywords spoken by espeak-ng with room-like background noise.

Each person (a seed) moves with their own tempo, strength and grip; holding whole persons out
for testing makes the testing set measure generalisation to new people, not new seconds.
"""

from __future__ import annotations

import subprocess

import numpy as np

from studio.devices.gestures import GestureSynth
from studio.formats.edge_impulse import fits_float32
from studio.formats.sample import AUDIO, SENSOR, SampleHeader, Sensor, content_hash
from studio.project import Project, ProjectError

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


def speak(word: str, voice: str, speed: int, pitch: int, offset_s: float = 0.0, rate_hz: int = 16000) -> np.ndarray:
    """One second of ``word`` spoken by espeak-ng, int16 at ``rate_hz``, starting ``offset_s`` in.

    sox runs with ``-D`` (no dither) so the same arguments give the same samples."""
    try:
        speech = subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", word],
                                check=True, capture_output=True, timeout=30).stdout
        raw = subprocess.run(["sox", "-V1", "-D", "-t", "wav", "-", "-t", "raw", "-e", "signed", "-b", "16",
                              "-c", "1", "-r", str(rate_hz), "-", "pad", f"{offset_s:.3f}", "1", "trim", "0", "1"],
                             input=speech, check=True, capture_output=True, timeout=30).stdout
    except FileNotFoundError as e:
        raise ProjectError(f"{e.filename} is not installed (installer/setup.sh installs it)") from None
    except subprocess.CalledProcessError as e:
        raise ProjectError(f"speaking {word!r} with voice {voice!r} failed: "
                           f"{e.stderr.decode(errors='replace').strip()[:200]}") from None
    values = np.frombuffer(raw, "<i2").astype(np.int16)
    return np.pad(values, (0, max(0, rate_hz - len(values))))[:rate_hz].reshape(-1, 1)


def background(seed: int, rate_hz: int = 16000) -> np.ndarray:
    """One second of room-like background: coloured noise, mains hum and a slow swell, int16."""
    rng = np.random.default_rng(seed)
    alpha = rng.uniform(0.0, 0.97)  # from white to strongly low-passed (brown-ish) noise
    # scipy.signal takes over a second to import: --help and the first window must not wait
    from scipy import signal

    coloured = signal.lfilter([1.0], [1.0, -alpha], rng.standard_normal(rate_hz))
    coloured /= np.abs(coloured).max() + 1e-9
    t = np.arange(rate_hz) / rate_hz
    hum = np.sin(2 * np.pi * rng.choice([50.0, 60.0]) * t) * rng.uniform(0, 0.3)
    swell = 0.6 + 0.4 * np.sin(2 * np.pi * rng.uniform(0.2, 2.0) * t + rng.uniform(0, 6.3))
    level = rng.uniform(500, 6000)
    return np.clip((coloured * swell + hum) * level, -32768, 32767).astype(np.int16).reshape(-1, 1)


def add_clips(project: Project, clips: list[tuple[str, str, np.ndarray]], rate_hz: int = 16000) -> int:
    """Add (label, category, int16 values) clips as audio samples in one transaction."""
    with project.writing() as writer:
        for n, (label, category, values) in enumerate(clips):
            header = SampleHeader(AUDIO, [Sensor("audio", "wav")], 1000.0 / rate_hz, len(values),
                                  device_name="espeak-ng")
            writer.add(label, category, header, [values], content_hash(header, values), name=f"{label}.{n}")
    return len(clips)
