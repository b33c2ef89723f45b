"""Keras model to TFLite: float32, and full-integer int8 (int8 input and output).

Post-training quantization calibrates on a representative set of training windows. A
quantization-aware model goes through the same path: ``Optimize.DEFAULT`` makes the converter
use the ranges it learned (without it, the result is a float graph wrapped in QUANTIZE and
DEQUANTIZE, which microcontroller runtimes reject). Every converted model is checked against
the operators the firmware compiler implements.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from studio.learn.layers import FIRMWARE_OPS, LayerError
from studio.learn.tf_env import quiet_native_stderr, tensorflow

REPRESENTATIVE_WINDOWS = 300


def representative(features: np.ndarray, seed: int, count: int = REPRESENTATIVE_WINDOWS) -> np.ndarray:
    """Up to ``count`` training windows, drawn without replacement and reproducibly."""
    rng = np.random.default_rng(seed)
    pick = rng.permutation(len(features))[:count]
    return features[np.sort(pick)].astype(np.float32)


def _converter(model: Any) -> Any:
    """A converter for batch size 1: with the batch fixed, reshapes and flattens stay single
    RESHAPE operators instead of SHAPE, STRIDED_SLICE and PACK computing the shape at run time."""
    tf, _ = tensorflow()
    spec = tf.TensorSpec([1, *model.input_shape[1:]], model.inputs[0].dtype)
    concrete = tf.function(lambda x: model(x, training=False)).get_concrete_function(spec)
    return tf.lite.TFLiteConverter.from_concrete_functions([concrete], model)


def to_float(model: Any) -> bytes:
    converter = _converter(model)
    with quiet_native_stderr():
        return _checked(converter.convert(), "float32")


def to_int8(model: Any, calibration: np.ndarray) -> bytes:
    tf, _ = tensorflow()
    converter = _converter(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]

    def windows():
        for w in calibration:
            yield [w[None, ...]]

    converter.representative_dataset = windows
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    with quiet_native_stderr():
        return _checked(converter.convert(), "int8")


def operators(model: bytes) -> list[str]:
    """The operator of every node, in execution order."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interp = Interpreter(model_content=model, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    return [op["op_name"] for op in interp._get_ops_details()]


def _checked(model: bytes, what: str) -> bytes:
    extra = sorted(set(operators(model)) - FIRMWARE_OPS)
    if extra:
        raise LayerError(f"the {what} model uses {', '.join(extra)}, which the firmware compiler lacks")
    return model
