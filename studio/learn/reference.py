"""Reference inference on TFLite models: LiteRT's reference kernels (``BUILTIN_REF``).

The int8 results here are the ground truth the firmware is held to; the default XNNPACK
delegate rounds convolutions differently by a few LSB, so it is never used.
"""

from __future__ import annotations

import threading

import numpy as np


class Reference:
    """One model, one interpreter; ``probabilities`` takes float features like the Keras model."""

    def __init__(self, model: bytes) -> None:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        self._lock = threading.Lock()
        self._interp = Interpreter(model_content=model, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
        self._interp.allocate_tensors()
        self.input = self._interp.get_input_details()[0]
        self.output = self._interp.get_output_details()[0]
        self.quantized = self.input["dtype"] == np.int8
        self.size = len(model)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(v) for v in self.input["shape"][1:])

    def quantize(self, x: np.ndarray) -> np.ndarray:
        scale, zero = self.input["quantization"]
        return np.clip(np.round(x / scale) + zero, -128, 127).astype(np.int8)

    def raw(self, x: np.ndarray) -> np.ndarray:
        """The model's own outputs (int8 for an int8 model) for each window of ``x``."""
        x = np.asarray(x, np.float32)
        if self.quantized:
            x = self.quantize(x)
        out = np.empty((len(x), int(self.output["shape"][-1])), self.output["dtype"])
        with self._lock:
            for i, window in enumerate(x):
                self._interp.set_tensor(self.input["index"], window[None, ...])
                self._interp.invoke()
                out[i] = self._interp.get_tensor(self.output["index"])[0]
        return out

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        out = self.raw(x)
        if not self.quantized:
            return out.astype(np.float32)
        scale, zero = self.output["quantization"]
        return ((out.astype(np.float32) - zero) * scale).astype(np.float32)
