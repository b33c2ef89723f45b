"""The two default projects the tests train: gestures from the virtual board (spectral features,
dense network) and keywords spoken by espeak-ng (MFCC, 1-D CNN). conftest.py trains each once per
session (fixtures ``gesture_project``/``gesture_run`` and ``keyword_project``/``keyword_run``)."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from studio.dataset.synthetic import add_clips, add_gestures, background, speak
from studio.dsp import features
from studio.dsp.windowing import ImpulseConfig
from studio.project import Project

GESTURES = ("idle", "wave", "circle", "shake")
GESTURE_TRAINING = {"epochs": 30}


def make_project(path: Path, gestures=GESTURES, test_gestures=GESTURES, seconds: float = 20.0) -> Path:
    with Project.create(path, "gestures") as project:
        add_gestures(project, gestures, range(0, 8), seconds, 100.0, "training")
        add_gestures(project, test_gestures, range(8, 11), seconds, 100.0, "testing")
        features.save_config(project, ImpulseConfig(2000, 200, "spectral"))
    return path


WORDS = ("yes", "no", "left", "right")
# "en", not "en-gb": espeak-ng 1.51 ignores the +variant on en-gb, so its voices would all be one
ACCENTS = ("en", "en-us", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029",
           "en-us-nyc")
VARIANTS = ("m1", "m3", "f2", "f4")
VOICES = [f"{a}+{v}" for a, v in itertools.product(ACCENTS, VARIANTS)]
TEST_VOICES = set(VOICES[2::5])  # 6 of 32 voices are never heard in training
KEYWORD_TRAINING = {"epochs": 40, "background_mix": 0.3, "noise": 0.05, "time_shift": 0.1}
KEYWORD_TOOLS_MISSING = "espeak-ng or sox is not installed (installer/setup.sh installs them)"


def keyword_clips() -> list[tuple[str, str, np.ndarray]]:
    rng = np.random.default_rng(5)
    jobs = [(w, v, s, p, round(float(rng.uniform(0.0, 0.25)), 3))
            for w, v, s, p in itertools.product(WORDS, VOICES, (130, 165, 200), (35, 65))]
    with ThreadPoolExecutor(4) as pool:
        spoken = list(pool.map(lambda j: speak(*j), jobs))
    clips = [(j[0], "testing" if j[1] in TEST_VOICES else "training", x) for j, x in zip(jobs, spoken, strict=True)]
    clips += [("noise", "testing" if i % 5 == 0 else "training", background(i)) for i in range(100)]
    return clips


def make_keyword_project(path: Path) -> Path:
    with Project.create(path, "keywords") as project:
        add_clips(project, keyword_clips())
        features.save_config(project, ImpulseConfig(1000, 1000, "mfcc"))
    return path
