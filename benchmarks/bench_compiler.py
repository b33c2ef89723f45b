"""The model compiler on the MLPerf Tiny reference models, measured on the emulated Cortex-M4
(QEMU mps2-an386): flash, RAM, instructions per inference and per MAC (SMLAD path and plain C),
and TFLM's minimum arena for the same model. Goals: arena <= 0.75 x TFLM's; <= 3 instructions per
MAC on the keyword-spotting DS-CNN with the SMLAD path.

    .venv/bin/python benchmarks/bench_compiler.py [--models DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from results_file import write_results  # noqa: E402

from studio.compiler import compile_model  # noqa: E402
from studio.compiler.tflm_arena import minimum_arena  # noqa: E402
from studio.compiler.verify import Compiled, reference_outputs, run_board  # noqa: E402
from studio.cortexm import size_of  # noqa: E402

NAMES = ["kws_ref_model", "ad01_int8", "pretrainedResnet_quant", "vww_96_int8", "str_ww_ref_model"]


def model_object_size(directory: Path, prefix: str, simd: bool) -> tuple[int, int, int]:
    """text, data, bss of the model's own object file for the Cortex-M4 (code + weights, arena)."""
    import subprocess

    from studio.cortexm import get_core

    obj = directory / f"{prefix}{'' if simd else '_plain'}.o"
    flags = [*get_core("cortex-m4").flags, "-O2", "-std=c99", "-ffunction-sections", "-fdata-sections", "-c"]
    if not simd:
        flags.append(f"-D{prefix.upper()}_NO_SIMD")
    subprocess.run(["arm-none-eabi-gcc", *flags, str(directory / f"{prefix}.c"), "-I", str(directory), "-o", str(obj)],
                   check=True)
    out = subprocess.run(["arm-none-eabi-size", str(obj)], capture_output=True, text=True, check=True).stdout
    text, data, bss = (int(v) for v in out.splitlines()[1].split()[:3])
    return text, data, bss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=Path(__file__).resolve().parents[2] / "shared/reference_models")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-compiler-") as tmp:
        for name in NAMES:
            model = (args.models / f"{name}.tflite").read_bytes()
            work = Path(tmp) / name
            result = compile_model(model, work, prefix="model", source=name)
            compiled = Compiled(work, "model", result.input["size"], result.output["size"])
            x = np.random.default_rng(0).integers(-128, 128, size=(2, compiled.input_size), dtype=np.int8)
            want = reference_outputs(model, x)
            row = {"model": name, "macs": result.macs, "weights": result.weight_bytes, "arena": result.arena_bytes}
            for simd in (True, False):
                run = run_board(work / ("smlad" if simd else "plain"), [compiled], [x], simd=simd, count=True)
                key = "smlad" if simd else "plain"
                row[f"exact_{key}"] = bool(np.array_equal(run.outputs[0], want))
                row[f"instructions_{key}"] = run.instructions[-1]
                row[f"per_mac_{key}"] = run.instructions[-1] / result.macs
                text, data, bss = model_object_size(work, "model", simd)
                row[f"flash_{key}"] = text + data
                row[f"code_{key}"] = text + data - result.weight_bytes
                row["model_bss"] = bss
                row["stack_high_water"] = run.stack_bytes
                row["image"] = size_of(run.elf).__dict__ if simd else row.get("image")
            row["tflm_arena"] = minimum_arena(model, step=4)
            row["arena_ratio"] = result.arena_bytes / row["tflm_arena"]
            rows.append(row)
            print(f"{name}: done", flush=True)
    print()
    print(f"{'model':24} {'MACs':>11} {'flash':>8} {'code':>6} {'arena':>7} {'TFLM arena':>10} {'ratio':>5} "
          f"{'stack':>6} {'instr (SMLAD)':>14} {'/MAC':>5} {'instr (plain)':>14} {'/MAC':>5} {'exact':>5}")
    for r in rows:
        print(f"{r['model']:24} {r['macs']:>11,} {r['flash_smlad']:>8,} {r['code_smlad']:>6,} {r['arena']:>7,} "
              f"{r['tflm_arena']:>10,} {r['arena_ratio']:>5.2f} {r['stack_high_water']:>6,} "
              f"{r['instructions_smlad']:>14,} {r['per_mac_smlad']:>5.2f} {r['instructions_plain']:>14,} "
              f"{r['per_mac_plain']:>5.2f} {str(r['exact_smlad'] and r['exact_plain']):>5}")
    kws = next(r for r in rows if r["model"] == "kws_ref_model")
    goals = {"arena_at_most_0.75_tflm": all(r["arena_ratio"] <= 0.75 for r in rows),
             "kws_at_most_3_instructions_per_mac": kws["per_mac_smlad"] <= 3.0}
    print("goals:", goals)
    write_results("bench_compiler", {"core": "cortex-m4 (qemu mps2-an386)", "rows": rows, "goals": goals})
    return 0


if __name__ == "__main__":
    sys.exit(main())
