"""The Cortex-M cores Studio can build for, and the QEMU board that runs each.

A QEMU mps2 board runs only its own CPU (``-cpu`` cannot change it), so each core is paired with a
board whose CPU can execute its code: ARMv6-M Cortex-M0+ code runs on the Cortex-M3 of mps2-an385.
"""

from __future__ import annotations

from dataclasses import dataclass

from studio.cortexm.errors import CortexMError


@dataclass(frozen=True)
class Core:
    name: str
    flags: tuple[str, ...]  # for both compiling and linking (they select the newlib multilib)
    machine: str  # qemu-system-arm -M
    linker_script: str  # in resources/baremetal/
    fpu: str | None  # None: soft float
    has_dsp: bool  # the DSP extension (SIMD multiply-accumulate on 8/16-bit lanes, saturation)

    @property
    def has_fpu(self) -> bool:
        return self.fpu is not None


CORES: dict[str, Core] = {c.name: c for c in (
    Core("cortex-m0plus", ("-mthumb", "-mcpu=cortex-m0plus", "-mfloat-abi=soft"), "mps2-an385", "mps2.ld",
         None, False),
    Core("cortex-m3", ("-mthumb", "-mcpu=cortex-m3", "-mfloat-abi=soft"), "mps2-an385", "mps2.ld", None, False),
    Core("cortex-m4", ("-mthumb", "-mcpu=cortex-m4", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"), "mps2-an386",
         "mps2.ld", "fpv4-sp-d16", True),
    # QEMU's Cortex-M7 has the double-precision FPv5 (double arithmetic runs in hardware on mps2-an500)
    Core("cortex-m7", ("-mthumb", "-mcpu=cortex-m7", "-mfloat-abi=hard", "-mfpu=fpv5-d16"), "mps2-an500",
         "mps2.ld", "fpv5-d16", True),
    Core("cortex-m33", ("-mthumb", "-mcpu=cortex-m33", "-mfloat-abi=hard", "-mfpu=fpv5-sp-d16"), "mps2-an505",
         "mps2_an505.ld", "fpv5-sp-d16", True),
)}


def get_core(core: str | Core) -> Core:
    """The table entry for a name (a ``Core`` is returned as is)."""
    if isinstance(core, Core):
        return core
    try:
        return CORES[core]
    except KeyError:
        raise CortexMError(f"unknown core {core!r} (known: {', '.join(CORES)})") from None
