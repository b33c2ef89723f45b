"""Synthetic accelerometer (and gyroscope) motion for the virtual board.

Each gesture is a periodic movement of the hand on top of gravity. Realism comes from three
layers of variation: the *person* (seed) fixes a preferred tempo, strength and how the board is
held (a tilt of the whole frame); each *repetition* (one cycle) redraws tempo and amplitude
around those; sensor noise and a slow drift are added to every reading. Units: m/s^2 and dps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

G = 9.80665
GESTURES = ("idle", "wave", "circle", "shake", "updown")

# base frequency (Hz) and amplitude (m/s^2) of each gesture's movement
_BASE = {"idle": (0.3, 0.15), "wave": (1.8, 6.0), "circle": (1.1, 4.5), "shake": (6.5, 14.0), "updown": (1.4, 7.0)}


def _rotation(rng: np.random.Generator, max_deg: float) -> np.ndarray:
    ax, ay, az = np.radians(rng.uniform(-max_deg, max_deg, 3))
    rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    return rz @ ry @ rx


@dataclass
class Person:
    tempo: float  # multiplies the gesture's frequency
    strength: float  # multiplies its amplitude
    hold: np.ndarray  # 3x3 rotation: how the board sits in the hand

    @classmethod
    def draw(cls, rng: np.random.Generator) -> Person:
        return cls(rng.uniform(0.8, 1.25), rng.uniform(0.75, 1.3), _rotation(rng, 15.0))


class GestureSynth:
    """A continuous stream: successive :meth:`next` calls join without jumps."""

    def __init__(self, gesture: str, rate_hz: float, seed: int = 0, gyro: bool = False) -> None:
        if gesture not in GESTURES:
            raise ValueError(f"unknown gesture {gesture!r} (one of {', '.join(GESTURES)})")
        if not rate_hz > 0:
            raise ValueError("rate must be positive")
        self.rng = np.random.default_rng(seed)
        self.person = Person.draw(self.rng)
        self.rate = float(rate_hz)
        self.gyro = gyro
        self.gesture = gesture
        self._phase = 0.0
        self._drift = np.zeros(3)
        self._new_repetition()

    @property
    def axes(self) -> list[str]:
        names = ["accX", "accY", "accZ"]
        return names + ["gyrX", "gyrY", "gyrZ"] if self.gyro else names

    def set_gesture(self, gesture: str) -> None:
        if gesture not in GESTURES:
            raise ValueError(f"unknown gesture {gesture!r}")
        self.gesture = gesture
        self._new_repetition()

    def _new_repetition(self) -> None:
        f0, a0 = _BASE[self.gesture]
        self._freq = f0 * self.person.tempo * self.rng.uniform(0.87, 1.15)
        self._amp = a0 * self.person.strength * self.rng.uniform(0.85, 1.15)
        self._shape = self.rng.uniform(0.0, 0.35)  # harmonic content of this repetition

    def _motion(self, phase: np.ndarray) -> np.ndarray:
        """Hand acceleration for phases (radians), shape (n, 3), before rotation and gravity."""
        a, h = self._amp, self._shape
        s, c = np.sin(phase), np.cos(phase)
        if self.gesture == "idle":
            return np.stack([a * s, a * np.sin(0.7 * phase + 1.0), 0.5 * a * c], axis=1)
        if self.gesture == "wave":
            side = a * s + h * a * np.sin(2 * phase)
            return np.stack([side, 0.35 * a * np.sin(2 * phase + 0.4), 0.2 * a * c], axis=1)
        if self.gesture == "circle":
            return np.stack([a * c, a * s, h * a * np.sin(2 * phase)], axis=1)
        if self.gesture == "shake":
            jolt = np.sign(s) * np.abs(s) ** 0.6  # sharper turns than a sine
            return np.stack([a * jolt, 0.4 * a * np.sin(2 * phase + h), 0.25 * a * c], axis=1)
        return np.stack([0.15 * a * np.sin(phase + h), 0.1 * a * c, a * s + h * a * np.sin(2 * phase)], axis=1)

    def next(self, n: int) -> np.ndarray:
        """The next ``n`` readings, shape (n, 3) or (n, 6)."""
        out = np.empty((n, 3))
        done = 0
        dt = 1.0 / self.rate
        while done < n:
            # readings until this repetition's cycle ends (at least one)
            left = max(1, int(np.ceil((2 * np.pi - self._phase) / (2 * np.pi * self._freq * dt))))
            k = min(n - done, left)
            phases = self._phase + 2 * np.pi * self._freq * dt * np.arange(k)
            out[done : done + k] = self._motion(phases)
            self._phase += 2 * np.pi * self._freq * dt * k
            done += k
            if self._phase >= 2 * np.pi:
                self._phase -= 2 * np.pi
                self._new_repetition()
        gravity = np.array([0.0, 0.0, G])
        acc = (out + gravity) @ self.person.hold.T
        steps = self.rng.normal(0, 0.002, (n, 3))
        drift = self._drift + np.cumsum(steps, axis=0)
        self._drift = drift[-1] * 0.999
        acc = acc + drift + self.rng.normal(0, 0.06, (n, 3))
        if not self.gyro:
            return acc
        # angular rate follows the change of the hand's acceleration (a rough but coherent coupling)
        prev = np.vstack([out[:1], out[:-1]])
        gyro = (out - prev) * self.rate * 2.0 + self.rng.normal(0, 0.3, (n, 3))
        return np.hstack([acc, gyro])
