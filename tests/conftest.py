from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# a loaded 2-core machine must not turn slow examples into failures: timing lives in benchmarks/
settings.register_profile("studio", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("studio")

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


@pytest.fixture
def project(tmp_path):
    from studio.project import Project

    p = Project.create(tmp_path / "proj", "Test project")
    yield p
    p.close()


# ---------------------------------------------------------------- the default projects, trained once per session


@pytest.fixture(scope="session")
def gesture_project(tmp_path_factory):
    """Virtual-board gestures (tests/support/projects.py); other tests add runs to it, so the
    first run is ``gesture_run``'s only when that fixture is set up before them (test order does)."""
    from support.projects import make_project

    return make_project(tmp_path_factory.mktemp("gestures") / "project")


@pytest.fixture(scope="session")
def gesture_run(gesture_project):
    """The gesture project's first run: the training job's TrainResult."""
    from support.projects import GESTURE_TRAINING

    from studio.jobs import Progress
    from studio.learn import train

    return train.run(train.TrainParams(gesture_project, dict(GESTURE_TRAINING)), Progress())


@pytest.fixture(scope="session")
def keyword_project(tmp_path_factory):
    """Keywords spoken by espeak-ng with background noise; skipped without espeak-ng and sox."""
    from support.projects import KEYWORD_TOOLS_MISSING, make_keyword_project

    if not (have("espeak-ng") and have("sox")):
        pytest.skip(KEYWORD_TOOLS_MISSING)
    return make_keyword_project(tmp_path_factory.mktemp("kws") / "project")


@pytest.fixture(scope="session")
def keyword_run(keyword_project):
    """The keyword project's first run: the training job's TrainResult."""
    from support.projects import KEYWORD_TRAINING

    from studio.jobs import Progress
    from studio.learn import train

    return train.run(train.TrainParams(keyword_project, dict(KEYWORD_TRAINING)), Progress())


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """The real command, in a fresh interpreter."""
    return subprocess.run([sys.executable, "-m", "studio", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout)


def write_wav_raw(path: Path, data: bytes, rate: int = 16000, channels: int = 1, bits: int = 16,
                  tag: int = 1, data_size: int | None = None) -> Path:
    """A WAV written byte by byte (independent of the code under test)."""
    block = channels * bits // 8
    size = len(data) if data_size is None else data_size
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    path.write_bytes(b"RIFF" + struct.pack("<I", 36 + size) + b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt
                     + b"data" + struct.pack("<I", size) + data)
    return path


def tone(n: int = 16000, freq: float = 440.0, rate: int = 16000, amp: int = 12000) -> np.ndarray:
    return (amp * np.sin(2 * np.pi * freq * np.arange(n) / rate)).astype(np.int16)


def have(tool: str) -> bool:
    return shutil.which(tool) is not None


@pytest.fixture(scope="session")
def pulse(tmp_path_factory):
    """A real PulseAudio server with a null sink whose monitor is the default source.

    Yields the environment a child process needs to use it (sounddevice reads it at import)."""
    if not (have("pulseaudio") and have("paplay") and have("pactl")):
        pytest.skip("pulseaudio, paplay or pactl is not installed (installer/setup.sh installs them)")
    home = tmp_path_factory.mktemp("pulse")
    run = home / "run"
    run.mkdir(mode=0o700)
    env = dict(os.environ, HOME=str(home), XDG_RUNTIME_DIR=str(run))
    env.pop("PULSE_SERVER", None)
    server = subprocess.Popen(
        ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--disallow-exit",
         "-L", "module-native-protocol-unix", "-L", "module-null-sink sink_name=vsink rate=16000 channels=1"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode == 0:
                break
            time.sleep(0.05)
        else:
            pytest.fail("PulseAudio did not start")
        subprocess.run(["pactl", "set-default-source", "vsink.monitor"], env=env, check=True)
        subprocess.run(["pactl", "set-default-sink", "vsink"], env=env, check=True)
        yield env
    finally:
        server.terminate()
        server.wait(10)
