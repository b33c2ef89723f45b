"""The one place TensorFlow is imported.

``tensorflow-model-optimization`` works only with Keras 2, so ``TF_USE_LEGACY_KERAS=1`` must be
set before TensorFlow's first import; every module that needs TensorFlow, ``tf_keras`` or
``tfmot`` gets them from here, inside the functions that train or convert, never at import.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

_lock = threading.Lock()
_stderr_lock = threading.RLock()  # file descriptor 2 is the process's: one holder at a time
_loaded: dict[str, Any] = {}


def _environment() -> None:
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    # no native chatter on stderr: not even ERROR-level, since TF 2.21's tf.data logs a harmless Python/C++
    # attribute skew ("NodeDef mentions attribute use_unbounded_threadpool") as an error on every fit;
    # real failures reach us as Python exceptions
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")  # CPU only: skip probing for a GPU


@contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Hold back what native code writes to stderr (TensorFlow's start-up and converter chatter,
    which no setting silences); shown after all if the block fails."""
    with _stderr_lock, tempfile.TemporaryFile() as held:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(held.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            held.seek(0)
            sys.stderr.write(held.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def tensorflow() -> tuple[ModuleType, ModuleType]:
    """``(tf, tf_keras)``, imported once."""
    with _lock:
        if "tf" not in _loaded:
            _environment()
            with quiet_native_stderr():
                import tensorflow as tf
                import tf_keras

                tf.constant(0)  # device set-up logs now, held back, not in the middle of a job

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
    keras.backend.clear_session()  # layer names restart too: same seed, same model file
    keras.utils.set_random_seed(int(seed))
    tf.config.experimental.enable_op_determinism()
