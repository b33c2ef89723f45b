"""Structural checks of operators before lowering: a damaged or hand-made model must be refused
with the operator and the reason, never reach the kernels with shapes they would index out of."""

from __future__ import annotations

from studio.compiler.quant import out_size
from studio.compiler.tflite_model import Op, Tensor


class Unsupported(Exception):
    pass


# what each supported operator must carry: how many leading inputs, and whether its options table
OPERANDS = {"CONV_2D": (2, "Conv2DOptionsT"), "DEPTHWISE_CONV_2D": (2, "DepthwiseConv2DOptionsT"),
            "FULLY_CONNECTED": (2, "FullyConnectedOptionsT"), "AVERAGE_POOL_2D": (1, "Pool2DOptionsT"),
            "MAX_POOL_2D": (1, "Pool2DOptionsT"), "ADD": (2, "AddOptionsT"), "SOFTMAX": (1, "SoftmaxOptionsT"),
            "MEAN": (2, ""), "QUANTIZE": (1, ""), "RESHAPE": (1, ""), "EXPAND_DIMS": (1, ""), "SQUEEZE": (1, "")}


def malformed(op: Op) -> str | None:
    """Why ``op`` lacks what its kind needs (a damaged file), or None."""
    inputs, options = OPERANDS[op.kind]
    if len(op.inputs) < inputs or any(i < 0 for i in op.inputs[:inputs]):
        return f"has {len(op.inputs)} inputs, {inputs} needed"
    if len(op.outputs) != 1:
        return f"has {len(op.outputs)} outputs, 1 needed"
    if options and type(op.options).__name__ != options:
        return f"has {type(op.options).__name__.removesuffix('T') if op.options is not None else 'no'} options " \
               f"where {options.removesuffix('T')} belong"
    return None


def check_geometry(padding: int, size: tuple[int, int], kernel: tuple[int, int], stride: tuple[int, int],
                    dilation: tuple[int, int], out: tuple[int, int], t_out: Tensor) -> None:
    """The output's height and width must be what the window gives (the kernels index by them)."""
    if min(*kernel, *stride) < 1 or padding not in (0, 1):
        raise Unsupported(f"window {list(kernel)}, stride {list(stride)} and padding {padding} are not valid")
    want = tuple(out_size(padding, i, k, s, d) for i, k, s, d in zip(size, kernel, stride, dilation, strict=True))
    if want != out:
        raise Unsupported(f"the output '{t_out.name}' is {list(out)} high and wide; the window gives {list(want)}")
