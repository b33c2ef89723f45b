"""Graph clean-up before lowering: constant folding of shape arithmetic, float edges, aliases.

Models converted with a dynamic batch size compute every RESHAPE's target shape at run time
(SHAPE, STRIDED_SLICE, PACK, CONCATENATION); all shapes are static here, so these are evaluated
now and vanish. QUANTIZE at the input and DEQUANTIZE at the output are dropped: the compiled
model's API is int8 in and out, with the scale and zero point published in the header."""

from __future__ import annotations

import numpy as np

from studio.compiler.errors import CompileError
from studio.compiler.tflite_model import Graph, Op, Tensor

SHAPE_OPS = {"SHAPE", "STRIDED_SLICE", "PACK", "CONCATENATION", "CAST", "GATHER"}
ALIAS_OPS = {"RESHAPE", "EXPAND_DIMS", "SQUEEZE"}


def simplify(graph: Graph) -> Graph:
    _fold_constants(graph)
    _drop_float_edges(graph)
    _drop_dead(graph)
    return graph


def _fold_constants(graph: Graph) -> None:
    changed = True
    while changed:
        changed = False
        for op in list(graph.ops):
            try:
                value = _evaluate(graph, op)
            except (ValueError, IndexError, TypeError, AttributeError) as e:
                # constants from the file that do not fit the shapes or options it gives them
                raise CompileError(graph.source, [f"operator {op.index} {op.kind}: its constant inputs cannot be "
                                                  f"evaluated ({type(e).__name__}: {e})"]) from None
            if value is None:
                continue
            out = graph.tensor(op.outputs[0])
            out.data = value
            out.shape = tuple(int(d) for d in value.shape)
            graph.ops.remove(op)
            changed = True


def _const(graph: Graph, index: int) -> np.ndarray | None:
    return graph.tensor(index).data if index >= 0 else None


def _evaluate(graph: Graph, op: Op) -> np.ndarray | None:
    """The op's output when it can be computed now (its inputs are constants or static shapes)."""
    if op.kind == "SHAPE":
        if not op.inputs or len(op.outputs) != 1:
            raise ValueError(f"{len(op.inputs)} inputs and {len(op.outputs)} outputs")
        shape = graph.tensor(op.inputs[0]).shape
        return np.asarray(shape, np.int32)
    if op.kind not in SHAPE_OPS | ALIAS_OPS:
        return None
    if not op.inputs or len(op.outputs) != 1:
        raise ValueError(f"{len(op.inputs)} inputs and {len(op.outputs)} outputs")
    values = [_const(graph, i) for i in op.inputs]
    if values[0] is None or (op.kind not in ALIAS_OPS and any(v is None for v in values)):
        return None
    if op.kind in ALIAS_OPS:
        return values[0].reshape(graph.tensor(op.outputs[0]).shape)
    if op.kind == "PACK":
        return np.stack([np.asarray(v) for v in values], axis=int(op.options.axis))
    if op.kind == "CONCATENATION":
        return np.concatenate([np.atleast_1d(v) for v in values], axis=int(op.options.axis))
    if op.kind == "CAST":
        return values[0].astype(np.dtype(graph.tensor(op.outputs[0]).dtype))
    if op.kind == "GATHER":
        return np.take(values[0], values[1], axis=int(op.options.axis))
    return _strided_slice(values, op.options)


def _strided_slice(values: list[np.ndarray], o) -> np.ndarray | None:
    data, begin, end, strides = values
    if o.ellipsisMask or o.newAxisMask or getattr(o, "offset", False):
        return None
    index = []
    for axis in range(len(begin)):
        b, e, s = int(begin[axis]), int(end[axis]), int(strides[axis])
        if o.shrinkAxisMask >> axis & 1:
            index.append(b)
            continue
        index.append(slice(None if o.beginMask >> axis & 1 else b, None if o.endMask >> axis & 1 else e, s))
    return np.asarray(data[tuple(index)])


def _drop_float_edges(graph: Graph) -> None:
    for op in list(graph.ops):
        src = graph.tensor(op.inputs[0]) if op.inputs else None
        dst = graph.tensor(op.outputs[0]) if op.outputs else None
        if src is None or dst is None:
            continue
        if op.kind == "QUANTIZE" and src.index in graph.inputs and src.dtype == "float32" and dst.dtype == "int8":
            if len(graph.consumers(src.index)) == 1:
                graph.inputs[graph.inputs.index(src.index)] = dst.index
                graph.ops.remove(op)
        elif op.kind == "DEQUANTIZE" and dst.index in graph.outputs and src.dtype == "int8":
            graph.outputs[graph.outputs.index(dst.index)] = src.index
            graph.ops.remove(op)


def _drop_dead(graph: Graph) -> None:
    needed = set(graph.outputs)
    for op in reversed(list(graph.ops)):
        if any(o in needed for o in op.outputs):
            needed.update(i for i in op.inputs if i >= 0)
        else:
            graph.ops.remove(op)


def check_io(graph: Graph) -> None:
    problems = []
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        problems.append(f"the model has {len(graph.inputs)} inputs and {len(graph.outputs)} outputs (one of each "
                        "is supported)")
    for label, index in (("input", graph.inputs[0]), ("output", graph.outputs[0])):
        t: Tensor = graph.tensor(index)
        if t.dtype != "int8":
            problems.append(f"{label} tensor '{t.name}' is {t.dtype}; a full-integer int8 model is needed "
                            "(convert with int8 input and output, or with a QUANTIZE/DEQUANTIZE pair at the edges)")
    if problems:
        raise CompileError(graph.source, problems)
