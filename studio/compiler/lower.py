"""Lowering: each TFLite operator becomes one kernel call with its constants prepared now
(multipliers, shifts, folded biases, padded weight rows, activation bounds)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from studio.compiler.checks import Unsupported, check_geometry, malformed
from studio.compiler.errors import CompileError
from studio.compiler.fold import ALIAS_OPS
from studio.compiler.quant import activation_range, f32, quantize_multiplier, same_padding
from studio.compiler.tflite_model import Graph, Op, Tensor

SUPPORTED = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D", "MAX_POOL_2D", "ADD", "SOFTMAX",
             "MEAN", "QUANTIZE", "RESHAPE", "EXPAND_DIMS", "SQUEEZE")


@dataclass
class Const:
    name: str
    ctype: str  # int8_t, int32_t, float
    values: np.ndarray
    in_struct: bool = True  # a pointer field of the kernel's parameters (else passed as an operand)


@dataclass
class Step:
    """One kernel call: ``kernel(&params, inputs..., output, scratch)``."""

    op: Op
    kernel: str  # C function, or "alias" for a reshape that moves no data
    struct: str = ""
    fields: list[tuple[str, object]] = field(default_factory=list)
    inputs: list[int] = field(default_factory=list)  # tensor indices (arena or constant)
    output: int = -1
    scratch: int = 0  # bytes
    consts: list[Const] = field(default_factory=list)
    extra_args: list[str] = field(default_factory=list)
    macs: int = 0
    in_place: dict[int, int] = field(default_factory=dict)  # input tensor -> bytes the output may start before it

    @property
    def weight_bytes(self) -> int:
        return sum(c.values.nbytes for c in self.consts)


def lower(graph: Graph) -> list[Step]:
    steps, problems = [], []
    for op in graph.ops:
        try:
            steps.append(_lower_op(graph, op))
        except Unsupported as exc:
            problems.append(f"operator {op.index} {op.kind}: {exc}")
        except (ValueError, OverflowError, ZeroDivisionError, IndexError) as exc:
            # the checks above cover the shapes a model can be wrong in; this names what slipped through
            problems.append(f"operator {op.index} {op.kind}: its tensors do not fit together "
                            f"({type(exc).__name__}: {exc})")
    if problems:
        raise CompileError(graph.source, problems)
    return steps


def _lower_op(graph: Graph, op: Op) -> Step:
    if op.kind not in SUPPORTED:
        raise Unsupported("not supported (supported: " + ", ".join(SUPPORTED) + ")")
    if (problem := malformed(op)) is not None:
        raise Unsupported(f"malformed: {problem}")
    if op.kind in ALIAS_OPS:
        return Step(op, "alias", inputs=[op.inputs[0]], output=op.outputs[0])
    for i in op.inputs:
        if i >= 0 and graph.tensor(i).dtype not in ("int8", "int32"):
            t = graph.tensor(i)
            raise Unsupported(f"tensor '{t.name}' is {t.dtype} (only int8 tensors with int32 biases are supported)")
    return _LOWER[op.kind](graph, op)


def _q(t: Tensor) -> tuple[float, int]:
    if t.scale is None:
        raise Unsupported(f"tensor '{t.name}' has no quantization parameters")
    if t.per_channel:
        raise Unsupported(f"tensor '{t.name}' is quantized per channel where one scale is expected")
    return t.single_scale(), t.single_zero_point()


def _nhwc(t: Tensor) -> tuple[int, int, int]:
    if len(t.shape) != 4:
        raise Unsupported(f"tensor '{t.name}' has shape {list(t.shape)}; 4 dimensions (NHWC) expected")
    if t.shape[0] != 1:
        raise Unsupported(f"tensor '{t.name}' has batch {t.shape[0]}; the compiled model runs batch 1")
    return t.shape[1], t.shape[2], t.shape[3]


def _weights(graph: Graph, op: Op, index: int, what: str) -> Tensor:
    t = graph.tensor(index)
    if t.data is None:
        raise Unsupported(f"the {what} '{t.name}' is not a constant")
    if t.dtype != "int8":
        raise Unsupported(f"the {what} '{t.name}' is {t.dtype}; int8 expected")
    if t.zero_point is not None and np.any(t.zero_point != 0):
        raise Unsupported(f"the {what} '{t.name}' has a non-zero zero point (int8 weights are symmetric)")
    return t


def _bias(graph: Graph, op: Op, n: int) -> np.ndarray:
    if len(op.inputs) < 3 or op.inputs[2] < 0:
        return np.zeros(n, np.int64)
    t = graph.tensor(op.inputs[2])
    if t.data is None or t.dtype != "int32":
        raise Unsupported(f"the bias '{t.name}' must be a constant int32 tensor (got {t.dtype})")
    if t.data.size != n:
        raise Unsupported(f"the bias '{t.name}' has {t.data.size} values for {n} channels")
    return t.data.astype(np.int64).reshape(-1)


def _channel_multipliers(in_scale: float, w: Tensor, out_scale: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    scales = w.scale.reshape(-1) if w.scale is not None else np.ones(1, np.float32)
    if scales.size not in (1, n):
        raise Unsupported(f"the weights '{w.name}' have {scales.size} scales for {n} channels")
    mult, shift = [], []
    for c in range(n):
        s = float(scales[c if scales.size > 1 else 0])
        m, sh = quantize_multiplier(float(in_scale) * s / float(out_scale))
        mult.append(m)
        shift.append(sh)
    return np.asarray(mult, np.int64), np.asarray(shift, np.int64)


def _int32(values: np.ndarray, what: str) -> np.ndarray:
    if values.size and (values.min() < -(2**31) or values.max() >= 2**31):
        raise Unsupported(f"the folded {what} overflows int32")
    return values.astype(np.int32)


def _padded_rows(w: np.ndarray, rows: int) -> tuple[np.ndarray, int]:
    """Weight rows padded to k4 (a multiple of 4) and stored in pairs: each group of four weights of
    row r is followed by the same group of row r + 1 (the kernels walk a pair with one pointer);
    an odd last row stays plain."""
    flat = w.reshape(rows, -1)
    k = flat.shape[1]
    k4 = (k + 3) // 4 * 4
    padded = np.zeros((rows, k4), np.int8)
    padded[:, :k] = flat
    pairs = rows // 2 * 2
    paired = padded[:pairs].reshape(pairs // 2, 2, k4 // 4, 4).transpose(0, 2, 1, 3).reshape(-1)
    return np.concatenate([paired, padded[pairs:].reshape(-1)]), k4


# rescaling modes of the kernels (TMS_EXACT .. TMS_ONCE_FAST in kernels.c)
EXACT, FAST, ONCE, ONCE_FAST = 0, 1, 2, 3


def _rescale_mode(bias: np.ndarray, w_rows: np.ndarray, x_max: int, shift: np.ndarray, once: bool) -> int:
    """The fast rescaling needs |acc << (max(shift, 0) + 1)| < 2^31; this bounds every channel's
    accumulator by |bias| + x_max * sum |w|."""
    abs_w = np.abs(w_rows.reshape(len(bias), -1).astype(np.int64)).sum(axis=1)
    fits = all((abs(int(b)) + x_max * int(a)) << (max(int(s), 0) + 1) < 2**31
               for b, a, s in zip(bias, abs_w, shift, strict=True))
    if once:
        return ONCE_FAST if fits else ONCE
    return FAST if fits else EXACT


def _name(op: Op, what: str) -> str:
    return f"op{op.index}_{what}"


@dataclass
class _Window:
    """What CONV_2D and DEPTHWISE_CONV_2D share: geometry, quantization, per-channel rescaling."""

    w: Tensor
    geometry: list[tuple[str, int]]  # ih .. pl, the first fields of both kernels' parameters
    oh: int
    oc: int
    in_zp: int
    out_zp: int
    lo: int
    hi: int
    rescale: list[Const]  # the per-channel multipliers and shifts
    overlap: int  # see _spatial_overlap

    def field(self, name: str) -> int:
        return dict(self.geometry)[name]


def _window(graph: Graph, op: Op, depthwise: bool) -> _Window:
    o = op.options
    t_in, t_out = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    w = _weights(graph, op, op.inputs[1], "filter")
    ih, iw, ic = _nhwc(t_in)
    oh, ow, oc = _nhwc(t_out)
    if oh * ow * oc == 0:
        raise Unsupported(f"the output '{t_out.name}' is empty {list(t_out.shape)}")
    fits = w.shape[0] == 1 and w.shape[3] == oc and oc % ic == 0 if depthwise else w.shape[0] == oc and w.shape[3] == ic
    if len(w.shape) != 4 or not fits:
        raise Unsupported(f"filter shape {list(w.shape)} does not match input {list(t_in.shape)}")
    kh, kw = w.shape[1], w.shape[2]
    sh, sw, dh, dw = o.strideH, o.strideW, max(o.dilationHFactor, 1), max(o.dilationWFactor, 1)
    check_geometry(o.padding, (ih, iw), (kh, kw), (sh, sw), (dh, dw), (oh, ow), t_out)
    in_s, in_zp = _q(t_in)
    out_s, out_zp = _q(t_out)
    pt = same_padding(ih, kh, sh, dh, oh) if o.padding == 0 else 0
    pl = same_padding(iw, kw, sw, dw, ow) if o.padding == 0 else 0
    mult, shift = _channel_multipliers(in_s, w, out_s, oc)
    lo, hi = activation_range(o.fusedActivationFunction, out_s, out_zp)
    geometry = [("ih", ih), ("iw", iw), ("ic", ic), ("oh", oh), ("ow", ow), ("oc", oc), ("kh", kh), ("kw", kw),
                ("sh", sh), ("sw", sw), ("dh", dh), ("dw", dw), ("pt", pt), ("pl", pl)]
    rescale = [Const(_name(op, "mult"), "int32_t", mult.astype(np.int32)),
               Const(_name(op, "shift"), "int8_t", shift.astype(np.int8))]
    return _Window(w, geometry, oh, oc, in_zp, out_zp, lo, hi, rescale,
                   _spatial_overlap(oh, ow * oc, iw * ic, sh, pt))


def _conv(graph: Graph, op: Op) -> Step:
    g = _window(graph, op, depthwise=False)
    oc, ic = g.oc, g.field("ic")
    rows, k4 = _padded_rows(g.w.data, oc)
    bias = _bias(graph, op, oc) - g.in_zp * g.w.data.reshape(oc, -1).astype(np.int64).sum(axis=1)
    mode = _rescale_mode(bias, g.w.data, 128, g.rescale[1].values, once=False)
    # a 1x1 filter over a multiple of 4 channels reads its patch in place (1x1 never pads)
    direct = int(g.field("kh") == 1 and g.field("kw") == 1 and ic % 4 == 0)
    consts = [Const(_name(op, "weights"), "int8_t", rows), Const(_name(op, "bias"), "int32_t", _int32(bias, "bias")),
              *g.rescale]
    fields = [*g.geometry, ("k4", k4), ("pad_value", g.in_zp), ("out_zp", g.out_zp), ("act_min", g.lo),
              ("act_max", g.hi), ("mode", mode), ("direct", direct)]
    macs = g.oh * g.field("ow") * oc * g.field("kh") * g.field("kw") * ic
    scratch = 4 * k4 + (0 if direct else 2 * k4)  # widened patches of two pixels, their int8 copies
    return Step(op, "tms_conv", "tms_conv_t", fields, [op.inputs[0]], op.outputs[0], scratch=scratch, consts=consts,
                macs=macs, in_place={op.inputs[0]: g.overlap})


def _spatial_overlap(oh: int, out_row: int, in_row: int, stride: int, pad_top: int) -> int:
    """How many bytes before its input a sliding-window op's output may start so that no row is
    overwritten before it is read for the last time (outputs are written in raster order)."""
    return max((oy + 1) * out_row - max(0, oy * stride - pad_top) * in_row for oy in range(oh))


def _dwconv(graph: Graph, op: Op) -> Step:
    g = _window(graph, op, depthwise=True)
    oc = g.oc
    bias = _bias(graph, op, oc)
    # the kernel multiplies input - zero point, at most 255 in magnitude
    mode = _rescale_mode(bias, g.w.data.reshape(-1, oc).T, 255, g.rescale[1].values, once=False)
    consts = [Const(_name(op, "weights"), "int8_t", g.w.data.reshape(-1).astype(np.int8)),
              Const(_name(op, "bias"), "int32_t", _int32(bias, "bias")), *g.rescale]
    fields = [*g.geometry, ("mult_depth", oc // g.field("ic")), ("in_offset", -g.in_zp), ("out_zp", g.out_zp),
              ("act_min", g.lo), ("act_max", g.hi), ("mode", mode)]
    macs = g.oh * g.field("ow") * oc * g.field("kh") * g.field("kw")
    return Step(op, "tms_dwconv", "tms_dwconv_t", fields, [op.inputs[0]], op.outputs[0], consts=consts, macs=macs,
                in_place={op.inputs[0]: g.overlap})


def _fc(graph: Graph, op: Op) -> Step:
    o = op.options
    t_in, t_out = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    w = _weights(graph, op, op.inputs[1], "weights")
    if len(w.shape) != 2:
        raise Unsupported(f"weights of shape {list(w.shape)}; 2 dimensions expected")
    n_out, n_in = w.shape
    if n_in == 0 or t_in.size % n_in:
        raise Unsupported(f"input of {t_in.size} values does not split into rows of {n_in}")
    if t_out.size != t_in.size // n_in * n_out:
        raise Unsupported(f"output of {t_out.size} values for {t_in.size // n_in} rows of {n_out}")
    in_s, in_zp = _q(t_in)
    out_s, out_zp = _q(t_out)
    mult, shift = _channel_multipliers(in_s, w, out_s, n_out)
    rows, k4 = _padded_rows(w.data, n_out)
    bias = _bias(graph, op, n_out) - in_zp * w.data.astype(np.int64).sum(axis=1)
    mode = _rescale_mode(bias, w.data, 128, shift, once=True)
    lo, hi = activation_range(o.fusedActivationFunction, out_s, out_zp)
    consts = [Const(_name(op, "weights"), "int8_t", rows), Const(_name(op, "bias"), "int32_t", _int32(bias, "bias")),
              Const(_name(op, "mult"), "int32_t", mult.astype(np.int32)),
              Const(_name(op, "shift"), "int8_t", shift.astype(np.int8))]
    batches = t_in.size // n_in
    fields = [("batches", batches), ("in", n_in), ("out", n_out), ("k4", k4), ("out_zp", out_zp), ("act_min", lo),
              ("act_max", hi), ("mode", mode)]
    scratch = 2 * k4 + (k4 if n_in != k4 else 0)  # the widened input, an int8 copy padded to k4
    return Step(op, "tms_fc", "tms_fc_t", fields, [op.inputs[0]], op.outputs[0], scratch=scratch, consts=consts,
                macs=batches * n_in * n_out)


def _pool(graph: Graph, op: Op) -> Step:
    o = op.options
    t_in, t_out = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    ih, iw, c = _nhwc(t_in)
    oh, ow, oc = _nhwc(t_out)
    if oc != c:
        raise Unsupported(f"pooling {c} channels into {oc}")
    check_geometry(o.padding, (ih, iw), (o.filterHeight, o.filterWidth), (o.strideH, o.strideW), (1, 1), (oh, ow),
                    t_out)
    in_q, out_q = _q(t_in), _q(t_out)
    if f32(in_q[0]) != f32(out_q[0]) or in_q[1] != out_q[1]:
        raise Unsupported("input and output quantization differ (TFLite requires them equal for int8 pooling)")
    pt = same_padding(ih, o.filterHeight, o.strideH, 1, oh) if o.padding == 0 else 0
    pl = same_padding(iw, o.filterWidth, o.strideW, 1, ow) if o.padding == 0 else 0
    lo, hi = activation_range(o.fusedActivationFunction, *out_q)
    fields = [("ih", ih), ("iw", iw), ("c", c), ("oh", oh), ("ow", ow), ("fh", o.filterHeight), ("fw", o.filterWidth),
              ("sh", o.strideH), ("sw", o.strideW), ("pt", pt), ("pl", pl), ("act_min", lo), ("act_max", hi)]
    is_max = "1" if op.kind == "MAX_POOL_2D" else "0"
    return Step(op, "tms_pool", "tms_pool_t", fields, [op.inputs[0]], op.outputs[0], extra_args=[is_max],
                in_place={op.inputs[0]: _spatial_overlap(oh, ow * c, iw * c, o.strideH, pt)})


def _add(graph: Graph, op: Op) -> Step:
    a, b, t_out = graph.tensor(op.inputs[0]), graph.tensor(op.inputs[1]), graph.tensor(op.outputs[0])
    if a.shape != b.shape or a.size != t_out.size:
        raise Unsupported(f"broadcasting {list(a.shape)} with {list(b.shape)} is not supported")
    (s1, z1), (s2, z2), (so, zo) = _q(a), _q(b), _q(t_out)
    left_shift = 20
    twice_max = 2.0 * max(f32(s1), f32(s2))
    m1, sh1 = quantize_multiplier(float(s1) / twice_max)
    m2, sh2 = quantize_multiplier(float(s2) / twice_max)
    mo, sho = quantize_multiplier(twice_max / float(np.float32((1 << left_shift) * np.float32(so))))
    lo, hi = activation_range(op.options.fusedActivationFunction, so, zo)
    fields = [("size", t_out.size), ("in1_offset", -z1), ("in2_offset", -z2), ("in1_mult", m1), ("in2_mult", m2),
              ("out_mult", mo), ("out_zp", zo), ("act_min", lo), ("act_max", hi), ("in1_shift", sh1),
              ("in2_shift", sh2), ("out_shift", sho), ("left_shift", left_shift)]
    consts = [Const(_name(op, f"operand{k}"), "int8_t", graph.tensor(i).data.reshape(-1).astype(np.int8), False)
              for k, i in enumerate(op.inputs) if graph.tensor(i).data is not None]
    in_place = {i: 0 for i in op.inputs if graph.tensor(i).data is None}
    return Step(op, "tms_add", "tms_add_t", fields, list(op.inputs), op.outputs[0], consts=consts, in_place=in_place)


def _requantize(graph: Graph, op: Op) -> Step:
    t_in, t_out = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    if t_in.size != t_out.size:
        raise Unsupported(f"{t_in.size} values in, {t_out.size} out")
    (si, zi), (so, zo) = _q(t_in), _q(t_out)
    m, sh = quantize_multiplier(float(si) / float(so))
    fields = [("size", t_out.size), ("in_zp", zi), ("mult", m), ("out_zp", zo), ("shift", sh)]
    return Step(op, "tms_requantize", "tms_requantize_t", fields, [op.inputs[0]], op.outputs[0],
                in_place={op.inputs[0]: 0})


def _mean(graph: Graph, op: Op) -> Step:
    t_in, t_out = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    axes = graph.tensor(op.inputs[1]).data
    shape, rank = t_in.shape, len(t_in.shape)
    if rank < 3 or shape[0] != 1 or axes is None:
        raise Unsupported(f"the mean of a tensor of shape {list(shape)} is not supported (batch 1, rank 3 or 4)")
    if sorted({int(a) % rank for a in np.atleast_1d(axes)}) != list(range(1, rank - 1)):
        raise Unsupported("only the mean over every axis between batch and channels (global average pooling) "
                          "is supported")
    c = shape[-1]
    if t_out.size != c:
        raise Unsupported(f"the mean of {c} channels gives {t_out.size} values")
    ih, iw = int(np.prod(shape[1:-1])), 1
    (si, zi), (so, zo) = _q(t_in), _q(t_out)
    count = ih * iw
    m, sh = quantize_multiplier(float(si) / float(so))
    bits = min(count.bit_length() - 1, 32, 31 + sh)
    m = (m << bits) // count
    sh -= bits
    fields = [("hw", count), ("c", c), ("in_zp", zi), ("mult", m), ("out_zp", zo), ("shift", sh)]
    return Step(op, "tms_mean", "tms_mean_t", fields, [op.inputs[0]], op.outputs[0], scratch=4 * c)


def _softmax(graph: Graph, op: Op) -> Step:
    t_in, t_out = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    (si, _), (so, zo) = _q(t_in), _q(t_out)
    depth = t_in.shape[-1] if t_in.shape else 0
    if depth < 1 or t_in.size != t_out.size:
        raise Unsupported(f"softmax of shape {list(t_in.shape)} into {list(t_out.shape)}")
    scale = np.float32(-np.float32(si) * np.float32(op.options.beta))
    table = np.empty(256, np.float32)
    for v in range(256):
        table[255 - v] = np.float32(math.exp(float(np.float32(scale * np.float32(v)))))
    fields = [("rows", t_in.size // depth), ("depth", depth), ("out_zp", zo), ("out_scale", f32(so))]
    return Step(op, "tms_softmax", "tms_softmax_t", fields, [op.inputs[0]], op.outputs[0],
                consts=[Const(_name(op, "exp"), "float", table)], in_place={op.inputs[0]: 0})


_LOWER = {"CONV_2D": _conv, "DEPTHWISE_CONV_2D": _dwconv, "FULLY_CONNECTED": _fc, "AVERAGE_POOL_2D": _pool,
          "MAX_POOL_2D": _pool, "ADD": _add, "QUANTIZE": _requantize, "MEAN": _mean, "SOFTMAX": _softmax}
