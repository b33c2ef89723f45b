"""The per-core latency model: instructions per unit of kernel work (calibrated under QEMU by
benchmarks/calibrate_costs.py into resources/estimates/cost_model.json) times a cycles-per-
instruction factor per core (below, with where each comes from), divided by the board's clock.

Cores without a compiler or emulator here (Xtensa, RISC-V) are modelled on another core's
instruction counts with their own factor; the estimate says so and from what."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from studio.compiler.lower import Step
from studio.cortexm import get_core
from studio.errors import StudioError
from studio.estimate.features import counts, variant
from studio.paths import resources_dir

COST_MODEL_PATH = resources_dir() / "estimates" / "cost_model.json"

# Cycles per executed instruction for this generated code. The Cortex-M4 figure comes from the
# instruction timings of its Technical Reference Manual applied to the kernels' inner loops (see
# docs/estimates.md); M7 and M33 scale it by the ratio of their published CoreMark/MHz to the M4's
# (same Thumb-2 code, so cycles follow the core's throughput on it).
CPI: dict[str, dict[str, object]] = {
    "cortex-m0plus": {"cpi": 1.4, "source": "Cortex-M0+ TRM timings: loads/stores 2 cycles, taken branches 2-3, "
                                            "single-cycle multiplier; 64-bit multiplies are library calls"},
    "cortex-m3": {"cpi": 1.3, "source": "Cortex-M3 TRM timings: as the M4 but MLA 2 cycles and SMULL/SMLAL 3-5"},
    "cortex-m4": {"cpi": 1.25, "source": "Cortex-M4 TRM timings on the SMLAD inner loops: LDR 2 cycles (1 when "
                                        "pipelined), LDRD 3, SMLAD/SXTB16 1, taken branch 2-4"},
    "cortex-m7": {"cpi": 0.85, "source": "M4 factor x 3.42/5.01 (published CoreMark/MHz of Cortex-M4 and M7): "
                                        "dual issue"},
    "cortex-m33": {"cpi": 1.06, "source": "M4 factor x 3.42/4.02 (published CoreMark/MHz of Cortex-M4 and M33)"},
}

# Board cores -> the emulated core whose code and counts they use, and what is modelled.
CORE_BASIS: dict[str, tuple[str, str | None, float]] = {
    # board core: (emulated core, what is modelled (None: compiled and counted for this core), CPI override)
    "cortex-m0plus": ("cortex-m0plus", None, 0.0),
    "cortex-m3": ("cortex-m3", None, 0.0),
    "cortex-m4": ("cortex-m4", None, 0.0),
    "cortex-m4f": ("cortex-m4", None, 0.0),
    "cortex-m7": ("cortex-m7", None, 0.0),
    "cortex-m33": ("cortex-m33", None, 0.0),
    "xtensa-lx6": ("cortex-m3", "no Xtensa compiler or emulator here: instruction counts and code size of the "
                   "Cortex-M3 build (no SIMD), 1.0 cycles per instruction", 1.0),
    "xtensa-lx7": ("cortex-m3", "no Xtensa compiler or emulator here: instruction counts and code size of the "
                   "Cortex-M3 build (the C kernels do not use the LX7 vector unit), 1.0 cycles per instruction",
                   1.0),
    "riscv32": ("cortex-m3", "no RISC-V compiler or emulator here: instruction counts and code size of the "
                "Cortex-M3 build, 1.2 cycles per instruction", 1.2),
}


class CostModelError(StudioError):
    pass


@dataclass(frozen=True)
class CoreCosts:
    core: str  # the emulated core the counts come from
    cpi: float
    cpi_source: str
    modelled: str | None  # what is modelled rather than compiled for the board's own core
    simd: bool
    instructions: dict[str, dict[str, float]]

    def instructions_for(self, step: Step) -> float:
        """Estimated instructions of one kernel call."""
        work = counts(step)
        if not work:
            return 0.0
        key = variant(step, self.simd)
        coefficients = self.instructions.get(key)
        if coefficients is None:
            raise CostModelError(f"{COST_MODEL_PATH}: no costs for {key} on {self.core} (run "
                                 "benchmarks/calibrate_costs.py)")
        return sum(coefficients.get(name, 0.0) * amount for name, amount in work.items())


@lru_cache(maxsize=1)
def _load(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise CostModelError(f"{path}: cannot read the cost model ({e})") from None


def costs_for(board_core: str) -> CoreCosts:
    """The latency model for a board's core (``cortex-m4f``, ``xtensa-lx7``, ...)."""
    if board_core not in CORE_BASIS:
        raise CostModelError(f"no latency model for core {board_core!r}")
    core, modelled, cpi_override = CORE_BASIS[board_core]
    entry = _load(COST_MODEL_PATH)["cores"].get(core)
    if entry is None:
        raise CostModelError(f"{COST_MODEL_PATH}: no calibration for {core}")
    cpi = cpi_override or float(CPI[core]["cpi"])
    source = modelled or str(CPI[core]["source"])
    return CoreCosts(core, cpi, source, modelled, get_core(core).has_dsp, entry["instructions"])
