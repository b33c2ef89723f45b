"""The headless demo end to end (goal: under 5 minutes on 2 cores), timed step by step.

  .venv/bin/python benchmarks/bench_demo.py [--runs 1]

Each run is ``tinyml-studio demo --headless`` in a fresh process with a fresh PlatformIO core (so the
offline kit's installation is counted), in a new folder. Prints a table of the steps' seconds and writes
benchmarks/results/demo.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from results_file import write_results

ROOT = Path(__file__).resolve().parent.parent
GOAL_S = 300.0


def one_run() -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-demo-") as tmp:
        env = dict(os.environ, TINYML_STUDIO_PIO_CORE=str(Path(tmp) / "pio-core"))
        start = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "studio", "demo", "--headless", "--json", "--workdir",
                               str(Path(tmp) / "demo")], capture_output=True, text=True, env=env, cwd=ROOT)
        wall = time.monotonic() - start
        if done.returncode != 0:
            sys.exit(f"the demo failed (exit {done.returncode}): {done.stderr.strip()[-500:]}")
        report = json.loads(done.stdout)
    return {"wall_s": round(wall, 1), "job_s": report["seconds"], "steps": report["steps"],
            "native_windows": report["native"]["windows"], "board_windows": report["emulated"]["windows"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    runs = [one_run() for _ in range(args.runs)]
    steps = list(runs[0]["steps"])
    print(f"{'step':<16}" + "".join(f"{f'run {i + 1}':>10}" for i in range(len(runs))))
    for step in steps:
        print(f"{step:<16}" + "".join(f"{r['steps'][step]:>9.1f}s" for r in runs))
    print(f"{'whole process':<16}" + "".join(f"{r['wall_s']:>9.1f}s" for r in runs) + f"   (goal {GOAL_S:.0f} s)")
    write_results("demo", {"goal_s": GOAL_S, "runs": runs})


if __name__ == "__main__":
    main()
