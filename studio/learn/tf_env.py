"""The one place TensorFlow is imported.

``tensorflow-model-optimization`` works only with Keras 2, so ``TF_USE_LEGACY_KERAS=1`` must be
set before TensorFlow's first import; every module that needs TensorFlow, ``tf_keras`` or
``tfmot`` gets them from here, inside the functions that train or convert, never at import.
"""

from __future__ import annotations

import os
import threading
from types import ModuleType
from typing import Any

_lock = threading.Lock()
_loaded: dict[str, Any] = {}


def _environment() -> None:
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # no start-up chatter on stderr
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")  # CPU only: skip probing for a GPU


def tensorflow() -> tuple[ModuleType, ModuleType]:
    """``(tf, tf_keras)``, imported once."""
    with _lock:
        if "tf" not in _loaded:
            _environment()
            import tensorflow as tf
            import tf_keras

            tf.get_logger().setLevel("ERROR")
            _loaded["tf"], _loaded["keras"] = tf, tf_keras
    return _loaded["tf"], _loaded["keras"]


def tfmot() -> ModuleType:
    tensorflow()
    with _lock:
        if "tfmot" not in _loaded:
            import tensorflow_model_optimization

            _loaded["tfmot"] = tensorflow_model_optimization
    return _loaded["tfmot"]


def seed_everything(seed: int) -> None:
    """Same seed, same model: seeded initialisers and shuffles, deterministic kernels."""
    tf, keras = tensorflow()
    keras.utils.set_random_seed(int(seed))
    tf.config.experimental.enable_op_determinism()
