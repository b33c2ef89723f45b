"""Build a tf_keras model from a checked :class:`~studio.learn.layers.Architecture`.

Imported only when training; TensorFlow comes from :mod:`studio.learn.tf_env`. Sequences
(time, channels) are carried as (time, 1, channels) tensors so 1-D layers become 2-D ones.
"""

from __future__ import annotations

from typing import Any

from studio.learn.layers import Architecture
from studio.learn.tf_env import tensorflow


def _activation(name: str) -> str | None:
    return None if name == "none" else name


def _to_keras_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    return (shape[0], 1, shape[1]) if len(shape) == 2 else shape


def build(arch: Architecture) -> Any:
    """An uncompiled Sequential model: input of the feature shape, softmax over the classes."""
    _, keras = tensorflow()
    L = keras.layers
    layers: list[Any] = [L.InputLayer(input_shape=arch.input_shape)]
    shape = arch.input_shape
    if len(shape) == 2:
        layers.append(L.Reshape(_to_keras_shape(shape)))
    for planned in arch.layers[:-1]:
        spec = planned.spec
        kind = spec["type"]
        if kind in ("conv2d", "depthwise_conv2d", "max_pool2d", "avg_pool2d") and len(shape) == 2:
            layers.append(L.Reshape((*shape, 1)))  # a sequence read as a one-channel image
        layers += _layers(L, spec)
        shape = planned.output
    if len(shape) != 1:
        layers.append(L.Flatten())
    layers.append(L.Dense(arch.classes, name="output"))
    layers.append(L.Softmax(name="probabilities"))
    return keras.Sequential(layers)


def _layers(L: Any, spec: dict[str, Any]) -> list[Any]:
    if spec.get("activation") == "relu6" and spec["type"] != "batch_norm":
        # a separate ReLU(6) layer: QAT accepts it where it refuses activation="relu6", and the
        # converter fuses it into the operator before it all the same
        return [_layer(L, {**spec, "activation": "none"}), L.ReLU(max_value=6.0)]
    if spec["type"] != "batch_norm":
        return [_layer(L, spec)]
    act = spec["activation"]
    if act == "none":
        return [L.BatchNormalization()]
    # the converter folds both into the convolution before them
    return [L.BatchNormalization(), L.ReLU(max_value=6.0 if act == "relu6" else None)]


def _layer(L: Any, spec: dict[str, Any]) -> Any:
    kind = spec["type"]
    act = _activation(spec.get("activation", "none"))
    if kind == "dense":
        return L.Dense(spec["units"], activation=act)
    if kind == "conv1d":
        return L.Conv2D(spec["filters"], (spec["kernel_size"], 1), strides=(spec["strides"], 1),
                        padding=spec["padding"], activation=act)
    if kind == "conv2d":
        return L.Conv2D(spec["filters"], spec["kernel_size"], strides=spec["strides"], padding=spec["padding"],
                        activation=act)
    if kind == "depthwise_conv2d":
        return L.DepthwiseConv2D(spec["kernel_size"], strides=spec["strides"], padding=spec["padding"],
                                 depth_multiplier=spec["depth_multiplier"], activation=act)
    if kind in ("max_pool1d", "avg_pool1d"):
        cls = L.MaxPooling2D if kind.startswith("max") else L.AveragePooling2D
        stride = spec["strides"] or spec["pool_size"]
        return cls((spec["pool_size"], 1), strides=(stride, 1), padding=spec["padding"])
    if kind in ("max_pool2d", "avg_pool2d"):
        cls = L.MaxPooling2D if kind.startswith("max") else L.AveragePooling2D
        return cls(spec["pool_size"], strides=spec["strides"] or spec["pool_size"], padding=spec["padding"])
    if kind == "dropout":
        return L.Dropout(spec["rate"])
    if kind == "flatten":
        return L.Flatten()
    if kind == "reshape":
        return L.Reshape(_to_keras_shape(tuple(spec["shape"])))
    raise ValueError(kind)
