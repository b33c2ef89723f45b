"""Calibrates the latency cost model (resources/estimates/cost_model.json) from instruction counts
measured under QEMU: single-layer int8 models of realistic shapes are compiled, run on every
emulated core (Cortex-M0+ code on the Cortex-M3 of mps2-an385, M3 on an385, M4 on an386, M7 on
an500, M33 on an505) with a counting mark after each kernel call, and for every core and kernel
variant the instructions per unit of work (features.counts) are fitted by non-negative least
squares. The reference models are not used here: the tests hold the fitted model against them.

    .venv/bin/python benchmarks/calibrate_costs.py [--layers-per-kind 24] [--seed 0]
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the flatbuffer writer of the compiler's property test

from support.tflite_factory import Builder, _bias, _weights, _wide  # noqa: E402

from studio.compiler import compile_model  # noqa: E402
from studio.compiler.compile import build  # noqa: E402
from studio.compiler.quant import out_size  # noqa: E402
from studio.compiler.verify import Compiled, run_board  # noqa: E402
from studio.cortexm import get_core  # noqa: E402
from studio.estimate.cost_model import COST_MODEL_PATH, CPI  # noqa: E402
from studio.estimate.features import counts, variant  # noqa: E402

CORES = ("cortex-m0plus", "cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33")
BATCH = 12  # models per emulator run (their arenas and weights must fit the board's memory)


def _window_op(rng, depthwise: bool) -> bytes:
    b = Builder(rng)
    s = b.s
    if depthwise:
        h, w = int(rng.integers(4, 33)), int(rng.integers(3, 17))
        c = int(rng.choice([4, 8, 16, 32, 64, 96, 6, 3]))
        mult = int(rng.choice([1, 1, 1, 1, 2]))
        kh = kw = min(int(rng.choice([3, 3, 5])), h, w)
        oc = c * mult
    else:
        c = int(rng.choice([1, 2, 3, 4, 8, 16, 32, 64, 128, 256, 5, 12]))
        oc = int(rng.choice([4, 8, 16, 32, 64, 128, 7, 24]))
        side = 33 if c * oc <= 1024 else 12
        h, w = int(rng.integers(4, side)), int(rng.integers(3, min(side, 17)))
        kh, kw = [(1, 1), (1, 1), (3, 3), (3, 3), (5, 5), (10, 4), (3, 1), (1, 3)][int(rng.integers(0, 8))]
        kh, kw = min(kh, h), min(kw, w)
    stride = int(rng.choice([1, 1, 2]))
    padding = int(rng.integers(0, 2))
    oh, ow = out_size(padding, h, kh, stride, 1), out_size(padding, w, kw, stride, 1)
    x = b.act((1, h, w, c))
    if depthwise:
        wt, ws, wz, axis = _weights(rng, (1, kh, kw, oc), True, oc, 3)
        o = s.DepthwiseConv2DOptionsT()
        o.depthMultiplier = mult
        kind, otype = "DEPTHWISE_CONV_2D", s.BuiltinOptions.DepthwiseConv2DOptions
    else:
        wt, ws, wz, axis = _weights(rng, (oc, kh, kw, c), True, oc, 0)
        o = s.Conv2DOptionsT()
        kind, otype = "CONV_2D", s.BuiltinOptions.Conv2DOptions
    o.padding, o.strideH, o.strideW, o.dilationHFactor, o.dilationWFactor = padding, stride, stride, 1, 1
    o.fusedActivationFunction = int(rng.choice([0, 1, 3]))
    wide = bool(rng.random() < 0.25)  # accumulators the fast rescaling cannot take
    ws, out_scale = _wide(rng, x.scale, ws, wide)
    wi = b.tensor(wt.shape, s.TensorType.INT8, ws, wz, wt, axis)
    y = b.act((1, oh, ow, oc), out_scale)
    b.op(kind, [x.index, wi, _bias(b, x.scale, ws, oc, wide)], [y.index], otype, o)
    return b.finish([x.index], [y.index])


def _fc(rng) -> bytes:
    b = Builder(rng)
    s = b.s
    n_in = int(rng.choice([16, 40, 64, 128, 256, 512, 640, 33, 100]))
    n_out = int(rng.choice([2, 5, 12, 16, 32, 64, 128, 256, 9]))
    x = b.act((1, n_in))
    wt, ws, wz, axis = _weights(rng, (n_out, n_in), bool(rng.random() < 0.5), n_out, 0)
    o = s.FullyConnectedOptionsT()
    o.fusedActivationFunction = int(rng.choice([0, 1]))
    wide = bool(rng.random() < 0.25)
    ws, out_scale = _wide(rng, x.scale, ws, wide)
    y = b.act((1, n_out), out_scale)
    b.op("FULLY_CONNECTED", [x.index, b.tensor(wt.shape, s.TensorType.INT8, ws, wz, wt, axis),
                             _bias(b, x.scale, ws, n_out, wide)], [y.index], s.BuiltinOptions.FullyConnectedOptions, o)
    return b.finish([x.index], [y.index])


def _pool(rng) -> bytes:
    b = Builder(rng)
    s = b.s
    h, w, c = int(rng.integers(2, 33)), int(rng.integers(1, 17)), int(rng.choice([4, 16, 32, 64, 3]))
    f = int(rng.choice([2, 3]))
    fh, fw = (h, w) if rng.random() < 0.3 else (min(f, h), min(f, w))
    stride = 1 if (fh, fw) == (h, w) else int(rng.choice([1, 2]))
    padding = int(rng.integers(0, 2))
    o = s.Pool2DOptionsT()
    o.padding, o.strideH, o.strideW, o.filterHeight, o.filterWidth = padding, stride, stride, fh, fw
    x = b.act((1, h, w, c))
    y = b.tensor((1, out_size(padding, h, fh, stride, 1), out_size(padding, w, fw, stride, 1), c),
                 s.TensorType.INT8, x.scale, x.zp)
    b.op("MAX_POOL_2D" if rng.random() < 0.5 else "AVERAGE_POOL_2D", [x.index], [y], s.BuiltinOptions.Pool2DOptions,
         o)
    return b.finish([x.index], [y])


def _elementwise(rng) -> bytes:
    b = Builder(rng)
    s = b.s
    shape = (1, int(rng.integers(1, 33)), int(rng.integers(1, 17)), int(rng.choice([4, 16, 64])))
    x = b.act(shape)
    kind = ["ADD", "QUANTIZE", "MEAN", "SOFTMAX"][int(rng.integers(0, 4))]
    if kind == "ADD":  # x + requantized x (a model has one input)
        other = b.act(shape)
        b.op("QUANTIZE", [x.index], [other.index], s.BuiltinOptions.QuantizeOptions, s.QuantizeOptionsT())
        y = b.act(shape)
        b.op("ADD", [x.index, other.index], [y.index], s.BuiltinOptions.AddOptions, s.AddOptionsT())
    elif kind == "QUANTIZE":
        y = b.act(shape)
        b.op("QUANTIZE", [x.index], [y.index], s.BuiltinOptions.QuantizeOptions, s.QuantizeOptionsT())
    elif kind == "MEAN":
        axes = b.tensor([2], s.TensorType.INT32, data=np.array([1, 2], np.int32))
        y = b.act((1, shape[3]))
        b.op("MEAN", [x.index, axes], [y.index], s.BuiltinOptions.ReducerOptions, s.ReducerOptionsT())
    else:
        y = b.act(shape, 1.0 / 256.0)
        o = s.SoftmaxOptionsT()
        o.beta = 1.0
        b.op("SOFTMAX", [x.index], [y.index], s.BuiltinOptions.SoftmaxOptions, o)
    return b.finish([x.index], [y.index])


def calibration_models(per_kind: int, seed: int) -> list[bytes]:
    rng = np.random.default_rng(seed)
    models = []
    for _ in range(per_kind):
        models += [_window_op(rng, False), _window_op(rng, True), _fc(rng), _pool(rng), _elementwise(rng)]
    return models


def measure(models: list[bytes], core: str, work: Path) -> list[tuple[str, dict[str, float], int]]:
    """(variant, work counts, instructions) of every kernel call of the models on one core."""
    simd = get_core(core).has_dsp
    rows = []
    for start in range(0, len(models), BATCH):
        batch = models[start : start + BATCH]
        compiled, inputs, steps = [], [], []
        for i, model in enumerate(batch):
            d = work / f"m{start + i}"
            result = compile_model(model, d, prefix=f"m{start + i}")
            compiled.append(Compiled(d, f"m{start + i}", result.input["size"], result.output["size"]))
            inputs.append(np.random.default_rng(i).integers(-128, 128, size=(1, result.input["size"]), dtype=np.int8))
            steps.append([s for s in build(model)[1] if s.kernel != "alias"])
        run = run_board(work / f"{core}-{start}", compiled, inputs, core=core, simd=simd,
                        op_counts=[len(s) for s in steps])
        for model_steps, per_run in zip(steps, run.op_instructions, strict=True):
            for step, n in zip(model_steps, per_run[0], strict=True):
                rows.append((variant(step, simd), counts(step), n))
    return rows


def fit(rows: list[tuple[str, dict[str, float], int]]) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    from scipy.optimize import nnls

    by_variant: dict[str, list] = defaultdict(list)
    for v, c, n in rows:
        by_variant[v].append((c, n))
    model, errors = {}, {}
    for v, samples in sorted(by_variant.items()):
        names = sorted({k for c, _ in samples for k in c})
        a = np.array([[c.get(k, 0.0) for k in names] for c, _ in samples], float)
        y = np.array([n for _, n in samples], float)
        coef, _ = nnls(a / y[:, None], np.ones_like(y))  # relative errors: small layers count as much as large
        model[v] = {k: round(float(x), 4) for k, x in zip(names, coef, strict=True) if x > 0}
        pred = a @ coef
        errors[v] = float(np.max(np.abs(pred - y) / y))
    return model, errors


def _tool_version(tool: str) -> str:
    out = subprocess.run([tool, "--version"], capture_output=True, text=True).stdout
    return out.splitlines()[0] if out else tool


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers-per-kind", type=int, default=24)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cores", nargs="*", default=list(CORES))
    parser.add_argument("--dump", type=Path, help="also write every measured kernel call here (JSON)")
    args = parser.parse_args()
    models = calibration_models(args.layers_per_kind, args.seed)
    cores, dump = {}, {}
    with tempfile.TemporaryDirectory(prefix="calibrate-") as tmp:
        for core in args.cores:
            rows = measure(models, core, Path(tmp) / core)
            dump[core] = rows
            coefficients, errors = fit(rows)
            cores[core] = {"machine": get_core(core).machine, "cpi": CPI[core]["cpi"],
                           "cpi_source": CPI[core]["source"],
                           "instructions": coefficients, "worst_fit_error": {k: round(v, 4) for k, v in errors.items()},
                           "samples": len(rows)}
            print(f"{core}: {len(rows)} kernel calls; worst fit error per variant: "
                  + ", ".join(f"{k} {v:.1%}" for k, v in errors.items()), flush=True)
    data = {
        "about": "Instructions per unit of work of the compiled kernels, fitted by benchmarks/calibrate_costs.py "
                 "to instruction counts measured under QEMU (see docs/estimates.md).",
        "calibrated": datetime.date.today().isoformat(),
        "compiler": _tool_version("arm-none-eabi-gcc"),
        "emulator": _tool_version("qemu-system-arm"),
        "calibration_layers": len(models),
        "cores": cores,
    }
    if args.dump:
        args.dump.write_text(json.dumps(dump))
    if set(args.cores) != set(CORES):
        print("not every core was measured: the cost model is left as it was")
        return 0
    COST_MODEL_PATH.parent.mkdir(parents=True, exist_ok=True)
    COST_MODEL_PATH.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {COST_MODEL_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
