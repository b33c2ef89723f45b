"""The virtual board's motion: distinct gestures, variation between people and repetitions."""

from __future__ import annotations

import numpy as np
import pytest

from studio.devices.gestures import GESTURES, G, GestureSynth


def dominant_hz(x, rate):
    x = x - x.mean()
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return np.fft.rfftfreq(len(x), 1 / rate)[np.argmax(spectrum[1:]) + 1]


def test_idle_is_gravity_with_noise():
    x = GestureSynth("idle", 100, seed=1).next(1000)
    assert np.linalg.norm(x.mean(axis=0)) == pytest.approx(G, rel=0.05)
    assert x.std(axis=0).max() < 0.5


@pytest.mark.parametrize("gesture, low, high", [("wave", 1.2, 2.8), ("circle", 0.7, 1.7), ("shake", 4.5, 9.0),
                                                ("updown", 0.9, 2.2)])
def test_gestures_move_at_their_own_tempo(gesture, low, high):
    x = GestureSynth(gesture, 100, seed=3).next(2000)
    axis = int(np.argmax(x.std(axis=0)))
    assert low <= dominant_hz(x[:, axis], 100) <= high
    assert x.std(axis=0).max() > 1.5


def test_people_and_repetitions_differ_but_a_seed_repeats():
    a = GestureSynth("wave", 100, seed=1).next(500)
    b = GestureSynth("wave", 100, seed=2).next(500)
    assert not np.allclose(a, b)
    np.testing.assert_array_equal(a, GestureSynth("wave", 100, seed=1).next(500))
    synth = GestureSynth("updown", 100, seed=4)
    periods = []
    for _ in range(6):
        start = synth._freq
        synth.next(int(100 / start) + 1)
        periods.append(start)
    assert len(set(np.round(periods, 6))) > 3  # each repetition has its own tempo


def test_gyro_adds_three_axes_and_stream_is_continuous():
    synth = GestureSynth("circle", 200, seed=0, gyro=True)
    x = np.vstack([synth.next(37) for _ in range(20)])
    assert x.shape == (740, 6) and synth.axes[3:] == ["gyrX", "gyrY", "gyrZ"]
    jumps = np.abs(np.diff(x[:, :3], axis=0)).max()
    assert jumps < 3.0  # no discontinuities at chunk boundaries beyond noise and motion


def test_unknown_gesture_is_refused():
    assert set(GESTURES) >= {"idle", "wave", "circle", "shake", "updown"}
    with pytest.raises(ValueError, match="unknown gesture"):
        GestureSynth("dance", 100)
