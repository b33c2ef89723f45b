"""Reads a ``.tflite`` flatbuffer into a small mutable graph, with the schema module LiteRT ships."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from studio.compiler.errors import CompileError

_DTYPES = {0: np.float32, 2: np.int32, 3: np.uint8, 4: np.int64, 6: np.bool_, 7: np.int16, 9: np.int8, 10: np.float64}
_TYPE_NAMES = {0: "float32", 1: "float16", 2: "int32", 3: "uint8", 4: "int64", 6: "bool", 7: "int16", 9: "int8",
               10: "float64", 17: "int4"}


@dataclass
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    scale: np.ndarray | None = None  # float32, one per channel or one
    zero_point: np.ndarray | None = None
    quant_axis: int = 0
    data: np.ndarray | None = None  # constant contents, already in ``shape``

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    @property
    def nbytes(self) -> int:
        return self.size * np.dtype(self.dtype).itemsize if self.dtype in _NUMPY else self.size

    @property
    def is_const(self) -> bool:
        return self.data is not None

    @property
    def per_channel(self) -> bool:
        return self.scale is not None and self.scale.size > 1

    def single_scale(self) -> float:
        assert self.scale is not None
        return float(self.scale.reshape(-1)[0])

    def single_zero_point(self) -> int:
        return int(self.zero_point.reshape(-1)[0]) if self.zero_point is not None and self.zero_point.size else 0


_NUMPY = {"float32", "int32", "uint8", "int64", "bool", "int16", "int8", "float64"}


@dataclass
class Op:
    index: int
    kind: str
    inputs: list[int]
    outputs: list[int]
    options: Any = None
    version: int = 1
    notes: list[str] = field(default_factory=list)


@dataclass
class Graph:
    tensors: list[Tensor]
    ops: list[Op]
    inputs: list[int]
    outputs: list[int]
    source: str = "model"

    def tensor(self, index: int) -> Tensor:
        return self.tensors[index]

    def consumers(self, index: int) -> list[Op]:
        return [op for op in self.ops if index in op.inputs]

    def producer(self, index: int) -> Op | None:
        return next((op for op in self.ops if index in op.outputs), None)


def _schema():
    from ai_edge_litert import schema_py_generated as schema

    return schema


def _op_names(schema) -> dict[int, str]:
    return {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}


def read(model: bytes, source: str = "model") -> Graph:
    """Parse a TFLite flatbuffer. Only the first subgraph is compiled (the main one)."""
    schema = _schema()
    buf = bytearray(model)
    if len(buf) < 8 or bytes(buf[4:8]) != b"TFL3":
        raise CompileError(source, ["not a TensorFlow Lite model (no TFL3 identifier)"])
    try:
        m = schema.ModelT.InitFromPackedBuf(buf, 0)
    except Exception as exc:  # a truncated or corrupt flatbuffer raises anything
        raise CompileError(source, [f"unreadable flatbuffer ({type(exc).__name__}: {exc})"]) from None
    if not m.subgraphs:
        raise CompileError(source, ["the model has no subgraph"])
    problems: list[str] = []
    try:
        graph = _graph(schema, m, buf, source, problems)
    except (TypeError, ValueError, OverflowError, IndexError, AttributeError, UnicodeDecodeError) as exc:
        # the flatbuffer library reads lazily: a corrupt table shows here, not at InitFromPackedBuf
        raise CompileError(source, [f"unreadable flatbuffer ({type(exc).__name__}: {exc})"]) from None
    if problems:
        raise CompileError(source, ["malformed model: " + problems[0]] + problems[1:5])
    return graph


def _graph(schema, m, buf: bytearray, source: str, problems: list[str]) -> Graph:
    names = _op_names(schema)
    sub = m.subgraphs[0]
    buffers = m.buffers or []
    tensors = [_tensor(i, t, buffers, buf, problems) for i, t in enumerate(sub.tensors or [])]
    codes = m.operatorCodes or []
    n = len(tensors)
    ops: list[Op] = []
    for i, o in enumerate(sub.operators or []):
        if not 0 <= o.opcodeIndex < len(codes):
            problems.append(f"operator {i} names operator code {o.opcodeIndex} of {len(codes)}")
            continue
        code = codes[o.opcodeIndex]
        number = max(int(code.builtinCode), int(code.deprecatedBuiltinCode))
        kind = names.get(number, f"builtin {number}")
        if number == schema.BuiltinOperator.CUSTOM:
            kind = f"CUSTOM {code.customCode.decode() if isinstance(code.customCode, bytes) else code.customCode}"
        inputs = [int(x) for x in (o.inputs if o.inputs is not None else [])]
        outputs = [int(x) for x in (o.outputs if o.outputs is not None else [])]
        bad = [x for x in inputs if not -1 <= x < n] + [x for x in outputs if not 0 <= x < n]
        if bad:
            problems.append(f"operator {i} ({kind}) names tensor {bad[0]} of {n}")
        ops.append(Op(i, kind, inputs, outputs, o.builtinOptions, int(code.version)))
    inputs = [int(x) for x in (sub.inputs if sub.inputs is not None else [])]
    outputs = [int(x) for x in (sub.outputs if sub.outputs is not None else [])]
    for what, ids in (("input", inputs), ("output", outputs)):
        if not ids:
            problems.append(f"the model has no {what}")
        problems += [f"the model's {what} names tensor {x} of {n}" for x in ids if not 0 <= x < n]
    return Graph(tensors, ops, inputs, outputs, source)


MAX_ELEMENTS = 1 << 30  # no microcontroller holds a tensor larger than this
MAX_RANK = 8


def _tensor(index: int, t, buffers, raw: bytearray, problems: list[str]) -> Tensor:
    name = t.name.decode("utf-8", "replace") if isinstance(t.name, bytes) else str(t.name or f"tensor{index}")
    shape = tuple(int(d) for d in (t.shape if t.shape is not None else []))
    dtype = _TYPE_NAMES.get(int(t.type), f"type {int(t.type)}")
    tensor = Tensor(index, name, shape, dtype)
    if len(shape) > MAX_RANK or any(d < 0 for d in shape) or \
            int(np.prod([max(d, 1) for d in shape], dtype=object)) > MAX_ELEMENTS:
        problems.append(f"tensor {index} ({name}) has the shape {list(shape)}")
        return tensor
    q = t.quantization
    if q is not None and q.scale is not None and len(q.scale):
        tensor.scale = np.asarray(q.scale, np.float32)
        zp = q.zeroPoint if q.zeroPoint is not None else [0] * len(q.scale)
        tensor.zero_point = np.asarray(zp, np.int64)
        tensor.quant_axis = int(q.quantizedDimension)
        channels = shape[tensor.quant_axis] if 0 <= tensor.quant_axis < len(shape) else None
        if len(tensor.zero_point) != len(tensor.scale) or (len(tensor.scale) > 1 and channels != len(tensor.scale)):
            problems.append(f"tensor {index} ({name}) has {len(tensor.scale)} scales and {len(tensor.zero_point)} "
                            f"zero points for the shape {list(shape)} on axis {tensor.quant_axis}")
        if not (np.isfinite(tensor.scale).all() and (tensor.scale > 0).all()):
            problems.append(f"tensor {index} ({name}) has a scale that is not a positive number")
    if not 0 <= t.buffer < len(buffers):
        problems.append(f"tensor {index} ({name}) names buffer {t.buffer} of {len(buffers)}")
        return tensor
    if t.buffer == 0:
        return tensor
    b = buffers[t.buffer]
    data = None
    if b.data is not None and len(b.data):
        data = np.asarray(b.data, np.uint8).tobytes()
    elif b.offset > 1 and b.size:
        if b.offset + b.size > len(raw):
            problems.append(f"tensor {index} ({name}): its buffer runs past the end of the file")
            return tensor
        data = bytes(raw[b.offset : b.offset + b.size])
    if data is not None and dtype in _NUMPY:
        itemsize = np.dtype(_DTYPES[int(t.type)]).itemsize
        if len(data) != tensor.size * itemsize:
            problems.append(f"tensor {index} ({name}): its buffer holds {len(data)} bytes, the shape "
                            f"{list(shape)} of {dtype} needs {tensor.size * itemsize}")
            return tensor
        arr = np.frombuffer(data, dtype=_DTYPES[int(t.type)])
        tensor.data = arr.reshape(shape) if shape else arr.reshape(())
    return tensor
