"""Regenerate ``resources/examples/``: a few small recordings in every import format.

Motion: 2 s of 3-axis accelerometer at 100 Hz (idle and wave), as CSV and as Edge Impulse
JSON/CBOR signed with HS256 and the key ``tinyml-example-key``. Audio: 1 s keywords spoken by
espeak-ng at 16 kHz. Deterministic: the same files every run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from studio.formats import edge_impulse
from studio.formats.sample import SENSOR, SampleHeader, Sensor

OUT = Path(__file__).resolve().parent.parent / "resources" / "examples"
KEY = b"tinyml-example-key"
RATE_HZ = 100


def motion(kind: str, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(2 * RATE_HZ) / RATE_HZ
    g = np.array([0.0, 0.0, 9.81])
    if kind == "idle":
        x = np.tile(g, (len(t), 1)) + rng.normal(0, 0.05, (len(t), 3))
    else:
        f = 1.5 + 0.3 * rng.random()
        x = np.stack([6 * np.sin(2 * np.pi * f * t), 2 * np.sin(4 * np.pi * f * t + 0.5),
                      9.81 + 1.5 * np.cos(2 * np.pi * f * t)], axis=1) + rng.normal(0, 0.2, (len(t), 3))
    return np.round(x, 3)


def write_csv(path: Path, x: np.ndarray) -> None:
    lines = ["timestamp,accX (m/s2),accY (m/s2),accZ (m/s2)"]
    lines += [f"{i * 1000 // RATE_HZ}," + ",".join(f"{v:.3f}" for v in row) for i, row in enumerate(x)]
    path.write_text("\n".join(lines) + "\n")


def write_doc(path: Path, x: np.ndarray, encoding: str) -> None:
    sensors = [Sensor(n, "m/s2") for n in ("accX", "accY", "accZ")]
    header = SampleHeader(SENSOR, sensors, 1000 / RATE_HZ, len(x), device_name="example", device_type="EXAMPLE")
    with open(path, "wb") as f:
        edge_impulse.write_document(f, header, [x], encoding, KEY, wide=True, iat=1700000000)


def speak(path: Path, word: str) -> None:
    espeak = subprocess.run(["espeak-ng", "-v", "en", "-s", "160", "--stdout", word], check=True,
                            capture_output=True).stdout
    subprocess.run(["sox", "-V1", "-D", "-t", "wav", "-", "-r", "16000", "-c", "1", "-b", "16", str(path),
                    "pad", "0", "1", "trim", "0", "1"], input=espeak, check=True)


def main() -> int:
    (OUT / "motion").mkdir(parents=True, exist_ok=True)
    (OUT / "audio").mkdir(parents=True, exist_ok=True)
    for i in range(1, 5):
        for kind in ("idle", "wave"):
            write_csv(OUT / "motion" / f"{kind}.{i:02d}.csv", motion(kind, i * 10 + (kind == "wave")))
    write_doc(OUT / "motion" / "idle.05.json", motion("idle", 50), "json")
    write_doc(OUT / "motion" / "wave.05.cbor", motion("wave", 51), "cbor")
    for word in ("yes", "no"):
        speak(OUT / "audio" / f"{word}.01.wav", word)
    print(f"wrote examples to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
