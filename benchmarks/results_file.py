"""The one way benchmarks record their numbers: benchmarks/results/<name>.json, with the time and
the machine, printed path."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def write_results(name: str, payload: dict[str, Any], out: Path | None = None) -> Path:
    out = out or RESULTS / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    record = {"when": time.strftime("%Y-%m-%d %H:%M:%S"),
              "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
              **payload}
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {out}")
    return out
