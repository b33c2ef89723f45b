"""Import throughput and peak memory.

  .venv/bin/python benchmarks/bench_import.py [--samples 10000] [--hours 1]

Cases, each in a fresh process so that its peak RSS is its own:
- 10,000 small Edge Impulse JSON samples (2 s of 3-axis motion at 100 Hz each), one folder;
- one hour of 16 kHz mono 16-bit WAV, and ten minutes of the same, to show peak memory does not
  grow with file size;
- CSV of 200,000 and 2,000,000 rows (6 axes), for the same reason.
Prints a table and writes benchmarks/results/import.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from results_file import RESULTS, write_results

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from studio.dataset import importer
from studio.jobs import Progress
from studio.project import Project
proj, src, label = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
Project.create(proj).close()
t = time.perf_counter()
report = importer.run(importer.ImportParams(proj, [src], label=label or None), Progress())
elapsed = time.perf_counter() - t
print(json.dumps({"seconds": elapsed, "imported": len(report.imported), "refused": len(report.refused),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_case(work: Path, name: str, src: Path, label: str = "") -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(work / f"proj-{name}"), str(src), label],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def make_json_samples(folder: Path, n: int) -> int:
    folder.mkdir()
    rng = np.random.default_rng(0)
    total = 0
    for i in range(n):
        values = rng.normal(size=(200, 3)).round(3).tolist()
        doc = {"protected": {"ver": "v1", "alg": "none", "iat": 0}, "signature": "0" * 64,
               "payload": {"device_name": "bench", "device_type": "BENCH", "interval_ms": 10,
                           "sensors": [{"name": a, "units": "m/s2"} for a in ("accX", "accY", "accZ")],
                           "values": values}}
        data = json.dumps(doc).encode()
        (folder / f"{('idle', 'wave', 'updown')[i % 3]}.{i}.json").write_bytes(data)
        total += len(data)
    return total


def make_wav(path: Path, seconds: int, rate: int = 16000) -> int:
    frames = seconds * rate
    header_size = 36 + frames * 2
    with open(path, "wb") as f:
        f.write(b"RIFF" + header_size.to_bytes(4, "little") + b"WAVE" + b"fmt " + (16).to_bytes(4, "little")
                + (1).to_bytes(2, "little") + (1).to_bytes(2, "little") + rate.to_bytes(4, "little")
                + (rate * 2).to_bytes(4, "little") + (2).to_bytes(2, "little") + (16).to_bytes(2, "little")
                + b"data" + (frames * 2).to_bytes(4, "little"))
        block = (8000 * np.sin(2 * np.pi * 440 * np.arange(rate) / rate)).astype("<i2").tobytes()
        for _ in range(seconds):
            f.write(block)
    return path.stat().st_size


def make_csv(path: Path, rows: int) -> int:
    rng = np.random.default_rng(1)
    with open(path, "w") as f:
        f.write("timestamp,ax,ay,az,gx,gy,gz\n")
        for start in range(0, rows, 100_000):
            n = min(100_000, rows - start)
            table = np.hstack([np.arange(start, start + n).reshape(-1, 1) * 10.0, rng.normal(size=(n, 6)).round(4)])
            np.savetxt(f, table, delimiter=",", fmt=["%d"] + ["%.4f"] * 6)
    return path.stat().st_size


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=10_000)
    ap.add_argument("--hours", type=float, default=1.0)
    ap.add_argument("--out", type=Path, default=RESULTS / "import.json")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as tmp:
        work = Path(tmp)
        size = make_json_samples(work / "json", args.samples)
        r = run_case(work, "json", work / "json")
        rows.append(("Edge Impulse JSON", f"{args.samples} files", size, r, r["imported"] / r["seconds"], "files/s"))

        for label, seconds in (("WAV 16 kHz", 600), ("WAV 16 kHz", int(3600 * args.hours))):
            src = work / f"wav{seconds}"
            src.mkdir()
            size = make_wav(src / "long.wav", seconds)
            r = run_case(work, f"wav{seconds}", src, "speech")
            rows.append((label, f"{seconds / 60:g} min", size, r, size / 2**20 / r["seconds"], "MiB/s"))

        for n in (200_000, 2_000_000):
            src = work / f"csv{n}"
            src.mkdir()
            size = make_csv(src / "motion.csv", n)
            r = run_case(work, f"csv{n}", src, "motion")
            rows.append(("CSV 6 axes", f"{n:,} rows", size, r, n / r["seconds"], "rows/s"))

    print(f"{'case':<20} {'size':>14} {'input MiB':>10} {'seconds':>8} {'throughput':>18} {'peak RSS MiB':>13}")
    results = []
    for name, what, size, r, rate, unit in rows:
        assert r["refused"] == 0, (name, r)
        print(f"{name:<20} {what:>14} {size / 2**20:>10.1f} {r['seconds']:>8.2f} {rate:>12.0f} {unit:<5} "
              f"{r['peak_rss_mb']:>13.0f}")
        results.append({"case": name, "size": what, "input_bytes": size, "seconds": round(r["seconds"], 3),
                        "throughput": round(rate, 1), "unit": unit, "peak_rss_mib": round(r["peak_rss_mb"], 1)})
    write_results("import", {"results": results}, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
