"""The layer list of a classifier: data, checked without TensorFlow.

A model is a list of layer specs (``{"type": "conv1d", "filters": 8, ...}``) followed by the
output layer the trainer adds (dense to the classes, softmax). Only layers that convert to the
operators the firmware compiler implements are accepted: CONV_2D, DEPTHWISE_CONV_2D,
FULLY_CONNECTED, AVERAGE_POOL_2D, MAX_POOL_2D, RESHAPE, SOFTMAX, ADD. Anything else is refused
when it is added, with the reason. Shapes and parameter counts are worked out here so the
editor can show them and refuse a layer that does not fit before any training starts.

Shapes are logical: (n,) vectors, (time, channels) sequences and (height, width, channels)
images. 1-D layers are built as 2-D ones on a (time, 1, channels) tensor, so they convert to
CONV_2D and the 2-D pools rather than to EXPAND_DIMS/SQUEEZE.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from studio.params import Param, ParamError, resolve

FIRMWARE_OPS = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D", "MAX_POOL_2D",
                          "RESHAPE", "SOFTMAX", "ADD"})
ACTIVATIONS = ("relu", "relu6", "none")  # fused into the layer's operator

# layers users ask for that the firmware cannot run, and why
REFUSED = {
    "lstm": "recurrent layers convert to WHILE or UNIDIRECTIONAL_SEQUENCE_LSTM, which the firmware compiler lacks",
    "gru": "recurrent layers convert to WHILE loops, which the firmware compiler lacks",
    "simple_rnn": "recurrent layers convert to WHILE loops, which the firmware compiler lacks",
    "global_average_pooling": "global pooling converts to MEAN; use avg_pool with the input's full size instead",
    "global_max_pooling": "global pooling converts to REDUCE_MAX; use max_pool with the input's full size instead",
    "conv1d_transpose": "transposed convolutions convert to TRANSPOSE_CONV, which the firmware compiler lacks",
    "conv2d_transpose": "transposed convolutions convert to TRANSPOSE_CONV, which the firmware compiler lacks",
    "separable_conv2d": "add depthwise_conv2d then a 1x1 conv2d instead (the same maths, supported operators)",
    "attention": "attention needs BATCH_MATMUL and more, which the firmware compiler lacks",
    "layer_norm": "layer normalisation needs MEAN, SQUARED_DIFFERENCE and RSQRT, which the firmware compiler lacks",
    "embedding": "embeddings convert to GATHER, which the firmware compiler lacks",
    "upsampling": "upsampling converts to RESIZE_NEAREST_NEIGHBOR, which the firmware compiler lacks",
    "activation": "a separate activation becomes its own operator; set the activation on the layer before it",
}
REFUSED_ACTIVATIONS = {
    "tanh": "TANH", "sigmoid": "LOGISTIC", "softmax": "SOFTMAX in a hidden layer", "elu": "ELU", "gelu": "GELU",
    "swish": "LOGISTIC and MUL", "leaky_relu": "LEAKY_RELU", "selu": "ELU and MUL", "hard_swish": "HARD_SWISH",
}

_ACT = Param("activation", "choice", "relu", "Activation fused into the layer", choices=ACTIVATIONS)
_PAD = Param("padding", "choice", "same", "same: output as long as the input / stride; valid: no padding",
             choices=("same", "valid"))

_FILTERS = "Filters: the output channels, each a pattern the layer learns to detect"


def _conv(kernel: int) -> tuple[Param, ...]:
    return (Param("kernel_size", "int", kernel, "Length of each filter along the input (1-D), or its height and "
                  "width (2-D)", minimum=1, maximum=64),
            Param("strides", "int", 1, "Steps the filter moves between outputs (2 halves the output)",
                  minimum=1, maximum=16), _PAD, _ACT)


def _pool() -> tuple[Param, ...]:
    return (Param("pool_size", "int", 2, "Inputs combined into one output along each axis", minimum=1, maximum=64),
            Param("strides", "int", 0, "Steps between pooled outputs (0: the pool size)", minimum=0, maximum=64),
            Param("padding", "choice", "valid", "valid: drop the remainder; same: pad it", choices=("same", "valid")))


SCHEMAS: dict[str, tuple[Param, ...]] = {
    "dense": (Param("units", "int", 16, "Neurons: the layer's outputs", minimum=1, maximum=4096), _ACT),
    "conv1d": (Param("filters", "int", 8, _FILTERS, minimum=1, maximum=1024),) + _conv(3),
    "conv2d": (Param("filters", "int", 8, _FILTERS, minimum=1, maximum=1024),) + _conv(3),
    "depthwise_conv2d": (Param("depth_multiplier", "int", 1, "Outputs per input channel", minimum=1, maximum=16),)
    + _conv(3),
    "max_pool1d": _pool(), "avg_pool1d": _pool(), "max_pool2d": _pool(), "avg_pool2d": _pool(),
    "dropout": (Param("rate", "float", 0.25, "Share of inputs set to zero at random while training",
                      minimum=0.0, maximum=0.9),),
    "flatten": (),
    "reshape": (Param("shape", "floats", [], "Target shape without the batch (one -1 allowed)"),),
    "batch_norm": (Param("activation", "choice", "none", "Activation after it (fused on export)",
                         choices=ACTIVATIONS),),
}
TITLES = {
    "dense": "Dense", "conv1d": "1-D convolution", "conv2d": "2-D convolution",
    "depthwise_conv2d": "2-D depthwise convolution", "max_pool1d": "1-D max pooling",
    "avg_pool1d": "1-D average pooling",
    "max_pool2d": "2-D max pooling", "avg_pool2d": "2-D average pooling", "dropout": "Dropout", "flatten": "Flatten",
    "reshape": "Reshape", "batch_norm": "Batch normalisation (folded on export)",
}
_FOLDS_INTO = {"dense", "conv1d", "conv2d", "depthwise_conv2d"}


class LayerError(ParamError):
    """A layer outside what the firmware runs, or one that does not fit its input."""


@dataclass
class Planned:
    """One layer after checking: its resolved spec, output shape and weights."""

    spec: dict[str, Any]
    output: tuple[int, ...]
    params: int
    macs: int
    note: str = ""


@dataclass
class Architecture:
    input_shape: tuple[int, ...]
    layers: list[Planned]
    classes: int
    notes: list[str] = field(default_factory=list)

    @property
    def params(self) -> int:
        return sum(p.params for p in self.layers)

    @property
    def macs(self) -> int:
        return sum(p.macs for p in self.layers)

    def specs(self) -> list[dict[str, Any]]:
        """The hidden layers as resolved specs (the output layer is implied)."""
        return [p.spec for p in self.layers[:-1]]


def check_layer(spec: dict[str, Any]) -> dict[str, Any]:
    """A layer's spec with defaults filled in, or the reason it cannot be used."""
    if not isinstance(spec, dict) or "type" not in spec:
        raise LayerError(f"a layer needs a type (got {spec!r})")
    kind = str(spec["type"]).strip().lower()
    if kind in REFUSED:
        raise LayerError(f"layer {kind!r} is not supported: {REFUSED[kind]}")
    if kind not in SCHEMAS:
        raise LayerError(f"unknown layer {kind!r} (supported: {', '.join(SCHEMAS)})")
    given = {k: v for k, v in spec.items() if k != "type"}
    act = str(given.get("activation", "")).lower()
    if act in REFUSED_ACTIVATIONS:
        raise LayerError(f"activation {act!r} is not supported: it converts to {REFUSED_ACTIVATIONS[act]}, "
                         f"which the firmware compiler lacks (use {', '.join(ACTIVATIONS)})")
    try:
        return {"type": kind, **resolve(SCHEMAS[kind], given)}
    except ParamError as e:
        raise LayerError(f"{kind}: {e}") from None


def _out_len(n: int, k: int, s: int, padding: str, what: str) -> int:
    if padding == "same":
        return math.ceil(n / s)
    if k > n:
        raise LayerError(f"{what} of {k} does not fit its input of {n} with valid padding")
    return (n - k) // s + 1


def _plan_one(spec: dict[str, Any], shape: tuple[int, ...], prev: str | None) -> tuple[Planned, list[str]]:
    kind = spec["type"]
    notes: list[str] = []
    if kind == "dense":
        if len(shape) != 1:
            raise LayerError(f"dense needs a flat input, it gets {shape}: add flatten before it")
        macs = shape[0] * spec["units"]
        return Planned(spec, (spec["units"],), macs + spec["units"], macs), notes
    if kind in ("conv1d", "max_pool1d", "avg_pool1d"):
        if len(shape) != 2:
            raise LayerError(f"{kind} needs a (time, channels) input, it gets {shape}: add reshape before it")
        t, c = shape
        if kind == "conv1d":
            t2 = _out_len(t, spec["kernel_size"], spec["strides"], spec["padding"], "kernel")
            w = spec["kernel_size"] * c * spec["filters"]
            return Planned(spec, (t2, spec["filters"]), w + spec["filters"], t2 * w), notes
        stride = spec["strides"] or spec["pool_size"]
        t2 = _out_len(t, spec["pool_size"], stride, spec["padding"], "pool")
        return Planned(spec, (t2, c), 0, 0), notes
    if kind in ("conv2d", "depthwise_conv2d", "max_pool2d", "avg_pool2d"):
        if len(shape) == 2:
            notes.append(f"input {shape} is read as a {shape[0]}x{shape[1]} one-channel image for {kind}")
            shape = (*shape, 1)
        if len(shape) != 3:
            raise LayerError(f"{kind} needs a (height, width, channels) input, it gets {shape}: add reshape")
        h, w, c = shape
        if kind in ("conv2d", "depthwise_conv2d"):
            k, s = spec["kernel_size"], spec["strides"]
            h2 = _out_len(h, k, s, spec["padding"], "kernel")
            w2 = _out_len(w, k, s, spec["padding"], "kernel")
            if kind == "conv2d":
                weights = k * k * c * spec["filters"]
                return Planned(spec, (h2, w2, spec["filters"]), weights + spec["filters"], h2 * w2 * weights), notes
            out_c = c * spec["depth_multiplier"]
            return Planned(spec, (h2, w2, out_c), k * k * out_c + out_c, h2 * w2 * k * k * out_c), notes
        p, stride = spec["pool_size"], spec["strides"] or spec["pool_size"]
        h2 = _out_len(h, p, stride, spec["padding"], "pool")
        w2 = _out_len(w, p, stride, spec["padding"], "pool")
        return Planned(spec, (h2, w2, c), 0, 0), notes
    if kind == "dropout":
        return Planned(spec, shape, 0, 0), notes
    if kind == "flatten":
        return Planned(spec, (math.prod(shape),), 0, 0), notes
    if kind == "reshape":
        target = [int(v) for v in spec["shape"]]
        if not target or target.count(-1) > 1 or any(v == 0 or v < -1 for v in target) or len(target) > 3:
            raise LayerError(f"reshape needs 1 to 3 positive sizes with at most one -1 (got {target})")
        total, known = math.prod(shape), math.prod(v for v in target if v != -1)
        if -1 in target:
            if total % known:
                raise LayerError(f"cannot reshape {shape} ({total} values) to {target}")
            target[target.index(-1)] = total // known
        if math.prod(target) != total:
            raise LayerError(f"cannot reshape {shape} ({total} values) to {target}")
        return Planned({**spec, "shape": target}, tuple(target), 0, 0), notes
    if kind == "batch_norm":
        if prev not in _FOLDS_INTO:
            raise LayerError("batch_norm must follow a dense or convolution layer, into which it is folded on export")
        return Planned(spec, shape, 4 * shape[-1], 0), notes
    raise LayerError(f"unknown layer {kind!r}")  # check_layer keeps this unreachable


def plan(layers: list[dict[str, Any]], input_shape: tuple[int, ...], classes: int) -> Architecture:
    """Check a layer list against the feature shape; the output layer (dense + softmax) is added."""
    if classes < 2:
        raise LayerError(f"a classifier needs at least two labels (got {classes})")
    shape = tuple(int(v) for v in input_shape)
    out, notes, prev = [], [], None
    for i, raw in enumerate(layers):
        spec = check_layer(raw)
        if spec["type"] == "batch_norm" and prev in _FOLDS_INTO and out[-1].spec.get("activation") != "none":
            raise LayerError(f"layer {i + 1}: batch_norm can only be folded into a layer without activation; "
                             "set that layer's activation to none and this one's to relu")
        try:
            planned, more = _plan_one(spec, shape, prev)
        except LayerError as e:
            raise LayerError(f"layer {i + 1} ({spec['type']}): {e}") from None
        notes += more
        out.append(planned)
        shape, prev = planned.output, spec["type"]
    if len(shape) != 1:
        notes.append(f"the last hidden output {shape} is flattened for the output layer")
        shape = (math.prod(shape),)
    out.append(Planned({"type": "output", "units": classes}, (classes,), shape[0] * classes + classes,
                       shape[0] * classes))
    return Architecture(tuple(int(v) for v in input_shape), out, classes, notes)


def template(feature_shape: tuple[int, ...], dsp_block: str) -> tuple[str, list[dict[str, Any]]]:
    """The starting model for a DSP block's features: (name, layers)."""
    if dsp_block == "spectrogram" or len(feature_shape) == 3:
        return "2-D depthwise-separable CNN", [
            {"type": "conv2d", "filters": 8, "kernel_size": 3, "strides": 2, "activation": "none"},
            {"type": "batch_norm", "activation": "relu"},
            {"type": "depthwise_conv2d", "kernel_size": 3, "activation": "relu"},
            {"type": "conv2d", "filters": 16, "kernel_size": 1, "activation": "relu"},
            {"type": "max_pool2d", "pool_size": 2},
            {"type": "dropout", "rate": 0.25},
            {"type": "flatten"},
        ]
    if len(feature_shape) == 2:
        return "1-D CNN", [
            {"type": "conv1d", "filters": 8, "kernel_size": 3, "activation": "relu"},
            {"type": "max_pool1d", "pool_size": 2},
            {"type": "dropout", "rate": 0.25},
            {"type": "conv1d", "filters": 16, "kernel_size": 3, "activation": "relu"},
            {"type": "max_pool1d", "pool_size": 2},
            {"type": "dropout", "rate": 0.25},
            {"type": "flatten"},
        ]
    return "dense network", [
        {"type": "dense", "units": 20, "activation": "relu"},
        {"type": "dense", "units": 10, "activation": "relu"},
    ]
