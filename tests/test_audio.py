"""The microphone, recorded for real through a PulseAudio null sink."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest
import soundfile
from conftest import ROOT

from studio.devices.microphone import load_sounddevice
from studio.devices.sources import DeviceError
from studio.project import Project

SPEECH = ROOT / "resources" / "examples" / "audio" / "yes.01.wav"


def best_alignment(recorded: np.ndarray, played: np.ndarray) -> float:
    """Correlation of the recording with what was played, at the lag where they line up."""
    from scipy.signal import correlate

    c = correlate(recorded, played, mode="full", method="fft")
    lag = int(np.argmax(c)) - (len(played) - 1)
    a = recorded[max(lag, 0) : max(lag, 0) + len(played)]
    b = played[max(-lag, 0) : max(-lag, 0) + len(a)]
    return float(np.corrcoef(a[: len(b)], b)[0, 1])


def test_capture_from_the_microphone_records_what_was_played(pulse, tmp_path):
    proj = tmp_path / "p"
    Project.create(proj).close()
    rec = subprocess.Popen([sys.executable, "-m", "studio", "capture", str(proj), "--device", "mic", "--label",
                            "yes", "--seconds", "5"], cwd=ROOT, env=pulse, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    time.sleep(2.5)  # interpreter start and the first stream's start-up
    subprocess.run(["paplay", "--device=vsink", str(SPEECH)], env=pulse, check=True, timeout=20)
    out, err = rec.communicate(timeout=60)
    assert rec.returncode == 0, err
    assert "80000 frames at 16000 Hz" in out
    with Project.open(proj) as p:
        (s,) = p.samples()
        recorded = p.read(s)[:, 0].astype(float)
        assert s.kind == "audio" and s.frequency_hz == 16000
    played = soundfile.read(SPEECH, dtype="int16")[0].astype(float)
    assert best_alignment(recorded, played) > 0.95


def test_devices_lists_audio_inputs_when_there_are_some(pulse):
    out = subprocess.run([sys.executable, "-m", "studio", "devices", "--json"], cwd=ROOT, env=pulse,
                         capture_output=True, text=True, check=True)
    assert '"kind": "audio"' in out.stdout


def test_no_input_device_is_a_one_line_error(tmp_path):
    empty = tmp_path / "run"
    empty.mkdir(mode=0o700)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_RUNTIME_DIR": str(empty),
           "PULSE_SERVER": "unix:" + str(empty / "none")}
    proj = tmp_path / "p"
    Project.create(proj).close()
    out = subprocess.run([sys.executable, "-m", "studio", "capture", str(proj), "--device", "mic", "--label", "x",
                          "--seconds", "1"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert out.stderr.strip().count("\n") == 0 and out.stderr.startswith("tinyml-studio: error: microphone")


def test_missing_sounddevice_or_portaudio_is_reported_not_raised(monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # import now fails as when it is absent
    with pytest.raises(DeviceError, match="microphone: the sounddevice package is not installed"):
        load_sounddevice()
