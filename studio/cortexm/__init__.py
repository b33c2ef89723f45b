"""Building and running bare-metal C programs on emulated Cortex-M boards (QEMU mps2), counting instructions.

Qt-free. Typical use::

    elf = build_elf(["model.c", "main.c"], tmp / "model.elf", "cortex-m4")
    result = run(elf, "cortex-m4", count_marks=True)   # main() calls baremetal_mark() around the work
    per_call = result.mark_deltas[0]
"""

from __future__ import annotations

from studio.cortexm.cores import CORES, Core, get_core
from studio.cortexm.counting import build_plugin
from studio.cortexm.errors import BuildError, CortexMError, QemuError, QemuTimeout, ToolMissingError
from studio.cortexm.qemu import FAULT_EXIT, QemuRun, run
from studio.cortexm.serial_board import SerialBoard, uart_driver
from studio.cortexm.toolchain import (
    ImageSize,
    available,
    baremetal_dir,
    build_elf,
    build_host,
    compile_object,
    size_of,
    symbol_address,
)

__all__ = [
    "CORES", "FAULT_EXIT", "BuildError", "Core", "CortexMError", "ImageSize", "QemuError", "QemuRun", "QemuTimeout",
    "SerialBoard", "ToolMissingError", "available", "baremetal_dir", "build_elf", "build_host",
    "build_plugin", "compile_object", "get_core", "run",
    "size_of", "symbol_address", "uart_driver",
]
