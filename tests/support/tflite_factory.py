"""Writes small random int8 TFLite models directly as flatbuffers (no converter): random operator
sequences, shapes, strides, padding, dilation, depth multipliers, activations, per-tensor and
per-channel quantization. The compiler's property test runs them against LiteRT's reference."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from studio.compiler.quant import out_size


def _schema():
    from ai_edge_litert import schema_py_generated as schema

    return schema


@dataclass
class _T:
    shape: tuple[int, ...]
    scale: float
    zp: int
    index: int


@dataclass
class Builder:
    rng: np.random.Generator
    tensors: list = field(default_factory=list)
    buffers: list = field(default_factory=list)
    ops: list = field(default_factory=list)
    codes: dict = field(default_factory=dict)
    kinds: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        s = _schema()
        self.s = s
        self.buffers.append(s.BufferT())

    def tensor(self, shape, dtype: int, scale=None, zp=None, data: np.ndarray | None = None, axis: int = 0) -> int:
        s = self.s
        t = s.TensorT()
        t.shape = list(shape)
        t.type = dtype
        t.name = f"t{len(self.tensors)}"
        if scale is not None:
            q = s.QuantizationParametersT()
            q.scale = [float(v) for v in np.atleast_1d(scale)]
            q.zeroPoint = [int(v) for v in np.atleast_1d(zp)]
            q.quantizedDimension = axis
            t.quantization = q
        if data is not None:
            b = s.BufferT()
            b.data = np.frombuffer(np.ascontiguousarray(data).tobytes(), np.uint8)
            self.buffers.append(b)
            t.buffer = len(self.buffers) - 1
        else:
            t.buffer = 0
        self.tensors.append(t)
        return len(self.tensors) - 1

    def act(self, shape, scale: float | None = None) -> _T:
        scale = float(np.float32(self.rng.uniform(0.01, 0.25) if scale is None else scale))
        zp = int(self.rng.integers(-40, 40))
        return _T(tuple(shape), scale, zp, self.tensor(shape, self.s.TensorType.INT8, scale, zp))

    def op(self, kind: str, inputs, outputs, options_type: int = 0, options=None) -> None:
        s = self.s
        code = getattr(s.BuiltinOperator, kind)
        if code not in self.codes:
            c = s.OperatorCodeT()
            c.builtinCode = code
            c.deprecatedBuiltinCode = min(code, 127)
            c.version = 1
            self.codes[code] = (len(self.codes), c)
        o = s.OperatorT()
        o.opcodeIndex = self.codes[code][0]
        o.inputs = list(inputs)
        o.outputs = list(outputs)
        o.builtinOptionsType = options_type
        o.builtinOptions = options
        self.ops.append(o)
        self.kinds.append(kind)

    def finish(self, inputs, outputs) -> bytes:
        import flatbuffers

        s = self.s
        sub = s.SubGraphT()
        sub.tensors, sub.operators, sub.inputs, sub.outputs = self.tensors, self.ops, list(inputs), list(outputs)
        m = s.ModelT()
        m.version = 3
        m.operatorCodes = [c for _, c in sorted(self.codes.values(), key=lambda x: x[0])]
        m.subgraphs = [sub]
        m.buffers = self.buffers
        m.description = "random test model"
        b = flatbuffers.Builder(1024)
        b.Finish(m.Pack(b), file_identifier=b"TFL3")
        return bytes(b.Output())


def _weights(rng, shape, per_channel: bool, channels: int, axis: int):
    w = rng.integers(-127, 128, size=shape).astype(np.int8)
    n = channels if per_channel else 1
    scales = np.float32(rng.uniform(0.002, 0.05, size=n))
    return w, scales, np.zeros(n, np.int64), axis if per_channel else 0


def _activation(rng) -> int:
    return int(rng.choice([0, 0, 1, 3]))


def _bias(b: Builder, in_scale: float, w_scales: np.ndarray, n: int, wide: bool = False) -> int:
    scales = np.float32(in_scale) * np.asarray(w_scales, np.float32)  # one scale when the weights have one
    limit = 2**30 + 2**28 if wide else 3000
    data = b.rng.integers(-limit, limit, size=n).astype(np.int32)
    return b.tensor([n], b.s.TensorType.INT32, scales, np.zeros(scales.size, np.int64), data)


def _wide(rng, in_scale: float, ws: np.ndarray, wide: bool) -> tuple[np.ndarray, float | None]:
    """For "wide" layers (biases beyond 2^30, which the kernels' fast rescaling cannot take), weight
    scales that bring such accumulators back into int8 range: multipliers near 2^-23."""
    if not wide:
        return ws, None
    out_scale = float(np.float32(rng.uniform(0.01, 0.25)))
    return np.float32(out_scale / in_scale * 2.0**-24 * rng.uniform(0.5, 1.0, size=ws.size)), out_scale


def _conv(b: Builder, x: _T, depthwise: bool) -> _T:
    s, rng = b.s, b.rng
    wide = bool(rng.random() < 0.15)
    _, h, w, c = x.shape
    kh, kw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    sh, sw = int(rng.integers(1, 3)), int(rng.integers(1, 3))
    dh = dw = 1
    if rng.random() < 0.2:
        dh, dw, sh, sw = int(rng.integers(1, 3)), int(rng.integers(1, 3)), 1, 1
    padding = int(rng.integers(0, 2))
    if padding == 1 and ((kh - 1) * dh + 1 > h or (kw - 1) * dw + 1 > w):
        padding = 0
    oh, ow = out_size(padding, h, kh, sh, dh), out_size(padding, w, kw, sw, dw)
    per_channel = bool(rng.random() < 0.6)
    if depthwise:
        mult = int(rng.choice([1, 1, 2, 3]))
        oc = c * mult
        wt, ws, wz, axis = _weights(rng, (1, kh, kw, oc), per_channel, oc, 3)
        o = s.DepthwiseConv2DOptionsT()
        o.depthMultiplier = mult
        kind, otype = "DEPTHWISE_CONV_2D", s.BuiltinOptions.DepthwiseConv2DOptions
    else:
        oc = int(rng.integers(1, 9))
        wt, ws, wz, axis = _weights(rng, (oc, kh, kw, c), per_channel, oc, 0)
        o = s.Conv2DOptionsT()
        kind, otype = "CONV_2D", s.BuiltinOptions.Conv2DOptions
    o.padding, o.strideH, o.strideW, o.dilationHFactor, o.dilationWFactor = padding, sh, sw, dh, dw
    o.fusedActivationFunction = _activation(rng)
    ws, out_scale = _wide(rng, x.scale, ws, wide)
    wi = b.tensor(wt.shape, s.TensorType.INT8, ws, wz, wt, axis)
    bi = _bias(b, x.scale, ws, oc, wide)
    y = b.act((1, oh, ow, oc), out_scale)
    b.op(kind, [x.index, wi, bi], [y.index], otype, o)
    return y


def _pool(b: Builder, x: _T) -> _T:
    s, rng = b.s, b.rng
    _, h, w, c = x.shape
    fh, fw = int(rng.integers(1, min(h, 3) + 1)), int(rng.integers(1, min(w, 3) + 1))
    sh, sw, padding = int(rng.integers(1, 3)), int(rng.integers(1, 3)), int(rng.integers(0, 2))
    o = s.Pool2DOptionsT()
    o.padding, o.strideH, o.strideW, o.filterHeight, o.filterWidth = padding, sh, sw, fh, fw
    o.fusedActivationFunction = _activation(rng)
    y = _T((1, out_size(padding, h, fh, sh, 1), out_size(padding, w, fw, sw, 1), c), x.scale, x.zp, 0)
    y.index = b.tensor(y.shape, s.TensorType.INT8, x.scale, x.zp)
    kind = "MAX_POOL_2D" if rng.random() < 0.5 else "AVERAGE_POOL_2D"
    b.op(kind, [x.index], [y.index], s.BuiltinOptions.Pool2DOptions, o)
    return y


def _add(b: Builder, x: _T) -> _T:
    """x + conv1x1(x): a residual connection of one shape."""
    s = b.s
    c = x.shape[3]
    wt, ws, wz, axis = _weights(b.rng, (c, 1, 1, c), True, c, 0)
    o = s.Conv2DOptionsT()
    o.padding, o.strideH, o.strideW, o.dilationHFactor, o.dilationWFactor = 0, 1, 1, 1, 1
    branch = b.act(x.shape)
    b.op("CONV_2D", [x.index, b.tensor(wt.shape, s.TensorType.INT8, ws, wz, wt, axis), _bias(b, x.scale, ws, c)],
         [branch.index], s.BuiltinOptions.Conv2DOptions, o)
    y = b.act(x.shape)
    a = s.AddOptionsT()
    a.fusedActivationFunction = _activation(b.rng)
    b.op("ADD", [x.index, branch.index], [y.index], s.BuiltinOptions.AddOptions, a)
    return y


def _mean(b: Builder, x: _T) -> _T:
    s = b.s
    axes = b.tensor([2], s.TensorType.INT32, data=np.array([1, 2], np.int32))
    keep = bool(b.rng.random() < 0.5)
    y = b.act((1, 1, 1, x.shape[3]) if keep else (1, x.shape[3]))
    o = s.ReducerOptionsT()
    o.keepDims = keep
    b.op("MEAN", [x.index, axes], [y.index], s.BuiltinOptions.ReducerOptions, o)
    return y


def _requantize(b: Builder, x: _T) -> _T:
    y = b.act(x.shape)
    b.op("QUANTIZE", [x.index], [y.index], b.s.BuiltinOptions.QuantizeOptions, b.s.QuantizeOptionsT())
    return y


def _flatten(b: Builder, x: _T, dynamic: bool) -> _T:
    """RESHAPE to (1, N): with ``dynamic`` the target shape is computed as a Keras 3 model with a
    dynamic batch does it (SHAPE, STRIDED_SLICE, PACK), which the compiler must fold away."""
    s = b.s
    n = int(np.prod(x.shape))
    y = _T((1, n), x.scale, x.zp, 0)
    y.index = b.tensor(y.shape, s.TensorType.INT8, x.scale, x.zp)
    if dynamic:
        shape = b.tensor([len(x.shape)], s.TensorType.INT32)
        so = s.ShapeOptionsT()
        so.outType = s.TensorType.INT32
        b.op("SHAPE", [x.index], [shape], s.BuiltinOptions.ShapeOptions, so)
        i32 = s.TensorType.INT32
        begin, end, step = (b.tensor([1], i32, data=np.array([v], np.int32)) for v in (0, 1, 1))
        batch = b.tensor([], i32)
        o = s.StridedSliceOptionsT()
        o.shrinkAxisMask = 1
        b.op("STRIDED_SLICE", [shape, begin, end, step], [batch], s.BuiltinOptions.StridedSliceOptions, o)
        rest = b.tensor([], i32, data=np.array(n, np.int32))
        target = b.tensor([2], i32)
        p = s.PackOptionsT()
        p.valuesCount, p.axis = 2, 0
        b.op("PACK", [batch, rest], [target], s.BuiltinOptions.PackOptions, p)
    else:
        target = b.tensor([2], s.TensorType.INT32, data=np.array([1, n], np.int32))
    b.op("RESHAPE", [x.index, target], [y.index], s.BuiltinOptions.ReshapeOptions, s.ReshapeOptionsT())
    return y


def _fc(b: Builder, x: _T) -> _T:
    s, rng = b.s, b.rng
    n_in = x.shape[-1]
    n_out = int(rng.integers(1, 17))
    wide = bool(rng.random() < 0.15)
    wt, ws, wz, axis = _weights(rng, (n_out, n_in), bool(rng.random() < 0.3), n_out, 0)
    o = s.FullyConnectedOptionsT()
    o.fusedActivationFunction = _activation(rng)
    ws, out_scale = _wide(rng, x.scale, ws, wide)
    y = b.act((1, n_out), out_scale)
    inputs = [x.index, b.tensor(wt.shape, s.TensorType.INT8, ws, wz, wt, axis)]
    inputs.append(_bias(b, x.scale, ws, n_out, wide) if wide or rng.random() < 0.8 else -1)
    b.op("FULLY_CONNECTED", inputs, [y.index], s.BuiltinOptions.FullyConnectedOptions, o)
    return y


def _softmax(b: Builder, x: _T) -> _T:
    s = b.s
    y = _T(x.shape, 1.0 / 256.0, -128, 0)
    y.index = b.tensor(x.shape, s.TensorType.INT8, y.scale, y.zp)
    o = s.SoftmaxOptionsT()
    o.beta = float(b.rng.choice([1.0, 1.0, 0.5, 2.0]))
    b.op("SOFTMAX", [x.index], [y.index], s.BuiltinOptions.SoftmaxOptions, o)
    return y


def random_model(seed: int) -> tuple[bytes, list[str]]:
    """One random model and the operator kinds in it."""
    rng = np.random.default_rng(seed)
    b = Builder(rng)
    x = b.act((1, int(rng.integers(1, 11)), int(rng.integers(1, 11)), int(rng.integers(1, 7))))
    first = x.index
    for _ in range(int(rng.integers(1, 5))):
        choice = rng.random()
        if choice < 0.35:
            x = _conv(b, x, depthwise=False)
        elif choice < 0.6:
            x = _conv(b, x, depthwise=True)
        elif choice < 0.75:
            x = _pool(b, x)
        elif choice < 0.88:
            x = _add(b, x)
        else:
            x = _requantize(b, x)
    tail = rng.random()
    if tail < 0.15:
        x = _mean(b, x)
    elif tail < 0.7:
        x = _flatten(b, x, dynamic=bool(rng.random() < 0.4))
        x = _fc(b, x)
        if rng.random() < 0.5:
            x = _softmax(b, x)
    return b.finish([first], [x.index]), b.kinds
