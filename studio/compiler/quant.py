"""TFLite's int8 quantization arithmetic, done at compile time exactly as its kernels prepare it
(double-precision real multipliers turned into a 31-bit fixed-point significand and a shift)."""

from __future__ import annotations

import math

import numpy as np


def round_half_away(x: float) -> int:
    """``std::round``: halves go away from zero (Python's ``round`` goes to even)."""
    return int(math.floor(abs(x) + 0.5)) * (1 if x >= 0 else -1)


def quantize_multiplier(real: float) -> tuple[int, int]:
    """A real multiplier as (significand in [2^30, 2^31), shift) with real ~ sig * 2^(shift - 31)."""
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    fixed = round_half_away(q * (1 << 31))
    if fixed == 1 << 31:
        fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return int(fixed), int(shift)


def f32(x: float) -> float:
    return float(np.float32(x))


def activation_range(kind: int, scale: float, zero_point: int) -> tuple[int, int]:
    """Clamp bounds of a fused activation (0 none, 1 relu, 2 relu_n1_to_1, 3 relu6) in int8,
    with the float32 division and rounding TFLite uses."""
    lo, hi = -128, 127

    def q(v: float) -> int:
        return zero_point + round_half_away(float(np.float32(v) / np.float32(scale)))

    if kind == 1:
        lo = max(lo, q(0.0))
    elif kind == 2:
        lo, hi = max(lo, q(-1.0)), min(hi, q(1.0))
    elif kind == 3:
        lo, hi = max(lo, q(0.0)), min(hi, q(6.0))
    elif kind != 0:
        raise ValueError(f"fused activation {kind}")
    return lo, hi


def same_padding(in_size: int, filter_size: int, stride: int, dilation: int, out_size: int) -> int:
    """Leading padding TFLite computes for SAME (the odd pixel goes at the end)."""
    effective = (filter_size - 1) * dilation + 1
    total = max((out_size - 1) * stride + effective - in_size, 0)
    return total // 2


def out_size(padding: int, in_size: int, filter_size: int, stride: int, dilation: int) -> int:
    effective = (filter_size - 1) * dilation + 1
    if padding == 0:  # SAME
        return (in_size + stride - 1) // stride
    return (in_size - effective + stride) // stride
