"""What a compiled kernel call costs depends on a few counts of its work: multiply-accumulates
as the inner loops run them (rows padded to 4, padded taps skipped), outputs rescaled, patch
bytes gathered, loop heads. This module computes those counts from a lowered step; the cost
model holds, per core and kernel variant, the instructions each count takes."""

from __future__ import annotations

from studio.compiler.lower import EXACT, ONCE, Step


def _taps(out: int, stride: int, pad: int, size: int, kernel: int, dilation: int) -> int:
    """Kernel taps that fall inside the input, summed over the output positions of one axis."""
    total = 0
    for o in range(out):
        start = o * stride - pad
        total += sum(1 for k in range(kernel) if 0 <= start + k * dilation < size)
    return total


def variant(step: Step, simd: bool) -> str:
    """The kernel and which of its code paths runs (``simd`` when the core has the DSP extension)."""
    f = dict(step.fields)
    if step.kernel in ("tms_conv", "tms_fc"):
        return f"{step.kernel}:{'simd' if simd else 'plain'}"
    if step.kernel == "tms_pool":
        return f"tms_pool:{'max' if step.extra_args == ['1'] else 'average'}"
    if step.kernel == "tms_dwconv":
        vector = simd and f["mult_depth"] == 1 and f["ic"] % 4 == 0
        return f"tms_dwconv:{'simd' if vector else 'plain'}"
    return step.kernel


def counts(step: Step) -> dict[str, float]:
    """The work counts of one kernel call (an alias moves no data and counts nothing)."""
    f = dict(step.fields)
    k = step.kernel
    if k == "alias":
        return {}
    if k == "tms_conv":
        pixels = f["oh"] * f["ow"]
        outputs = pixels * f["oc"]
        contiguous = f["dw"] == 1 or f["kw"] == 1
        rows = 0 if f["direct"] else pixels * f["kh"] * (1 if contiguous else f["kw"])
        return {"mac": outputs * f["k4"], "out_exact" if f["mode"] == EXACT else "out": outputs,
                "patch": pixels * f["k4"], "patch_rows": rows, "pixel": pixels, "call": 1}
    if k == "tms_fc":
        outputs = f["batches"] * f["out"]
        return {"mac": outputs * f["k4"], "out_exact" if f["mode"] == ONCE else "out": outputs,
                "patch": f["batches"] * f["k4"], "call": 1}
    if k == "tms_dwconv":
        ty = _taps(f["oh"], f["sh"], f["pt"], f["ih"], f["kh"], f["dh"])
        tx = _taps(f["ow"], f["sw"], f["pl"], f["iw"], f["kw"], f["dw"])
        pixels = f["oh"] * f["ow"]
        outputs = pixels * f["oc"]
        return {"mac": ty * tx * f["oc"], "tap_rows": ty * f["ow"] * f["oc"],
                "out_exact" if f["mode"] == EXACT else "out": outputs, "pixel": pixels, "call": 1}
    if k == "tms_pool":
        ty = _taps(f["oh"], f["sh"], f["pt"], f["ih"], f["fh"], 1)
        tx = _taps(f["ow"], f["sw"], f["pl"], f["iw"], f["fw"], 1)
        return {"tap": ty * tx * f["c"], "tap_rows": ty * f["ow"] * f["c"], "out": f["oh"] * f["ow"] * f["c"],
                "pixel": f["oh"] * f["ow"], "call": 1}
    if k in ("tms_add", "tms_requantize"):
        return {"elem": f["size"], "call": 1}
    if k == "tms_mean":
        return {"elem": f["hw"] * f["c"], "out": f["c"], "call": 1}
    if k == "tms_softmax":
        return {"elem": f["rows"] * f["depth"], "row": f["rows"], "call": 1}
    raise ValueError(f"no cost counts for kernel {k}")
