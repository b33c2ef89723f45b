"""The smallest arena with which TensorFlow Lite Micro's interpreter (PyPI ``tflite-micro``) runs a
model, for comparison with the compiler's planned arena. A too-small arena crashes that interpreter
(a segfault, not an exception), so every attempt runs in its own subprocess."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

_CHILD = """
import sys
import numpy as np
from tflite_micro.python.tflite_micro import runtime
data = open(sys.argv[1], "rb").read()
interp = runtime.Interpreter.from_bytes(data, arena_size=int(sys.argv[2]))
detail = interp.get_input_details(0)
interp.set_input(np.zeros(detail["shape"], detail["dtype"]), 0)
interp.invoke()
print("ok")
"""


def runs_with(model: Path, arena: int, timeout: float = 120.0) -> bool:
    done = subprocess.run([sys.executable, "-c", _CHILD, str(model), str(arena)], capture_output=True, text=True,
                          timeout=timeout)
    return done.returncode == 0 and done.stdout.strip().endswith("ok")


def minimum_arena(model: bytes, low: int = 256, high: int = 4 << 20, step: int = 16) -> int:
    """Bisection to within ``step`` bytes (rounded up to it). Raises ValueError when even ``high`` fails."""
    with tempfile.TemporaryDirectory(prefix="tinyml-tflm-") as tmp:
        path = Path(tmp) / "model.tflite"
        path.write_bytes(model)
        if not runs_with(path, high):
            raise ValueError(f"the TFLM interpreter does not run this model even with a {high}-byte arena")
        while high - low > step:
            mid = (low + high) // 2
            if runs_with(path, mid):
                high = mid
            else:
                low = mid
        return high
