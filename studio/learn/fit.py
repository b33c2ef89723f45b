"""The Keras side of training: fitting with progress and cancellation, magnitude pruning and
quantization-aware fine-tuning. TensorFlow is reached through :mod:`studio.learn.tf_env`
inside each function, never at import.

Every phase keeps the weights of its best epoch (lowest validation loss, or training loss
without a validation set) and restores them at its end, so cancelling keeps the best model so
far rather than the last one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from studio.jobs import ProgressLike
from studio.learn.data import Augmentation, Split
from studio.learn.tf_env import tensorflow, tfmot


@dataclass
class Phase:
    """What one fitting phase did: per-epoch curves, its best epoch, whether it was cancelled."""

    name: str
    curves: dict[str, list[float]] = field(default_factory=dict)
    best_epoch: int = 0
    best: float = math.inf
    epochs: int = 0
    cancelled: bool = False


def _reporter(progress: ProgressLike, phase: Phase, total: int, monitor: str) -> Any:
    _, keras = tensorflow()

    class Reporter(keras.callbacks.Callback):
        best_weights = None

        def on_train_batch_end(self, batch, logs=None):
            if progress.cancelled:
                phase.cancelled = True
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            logs = {k: float(v) for k, v in (logs or {}).items()}
            for k, v in logs.items():
                phase.curves.setdefault(k, []).append(round(v, 6))
            phase.epochs = epoch + 1
            value = logs.get(monitor, math.inf)
            if value < phase.best:
                phase.best, phase.best_epoch = value, epoch + 1
                self.best_weights = self.model.get_weights()
            text = ", ".join(f"{k} {v:.4f}" for k, v in logs.items())
            progress.update((epoch + 1) / total, f"{phase.name}: epoch {epoch + 1} of {total}: {text}")
            progress.partial({"phase": phase.name, "epoch": epoch + 1, "epochs": total, **logs})

        def on_train_end(self, logs=None):
            if self.best_weights is not None:
                self.model.set_weights(self.best_weights)

    return Reporter()


def _compile(model: Any, learning_rate: float) -> None:
    _, keras = tensorflow()
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])


def _batching(data: Split, p: dict[str, Any]) -> tuple[int, int]:
    """(batch size, steps per epoch) for the training windows."""
    batch = min(p["batch_size"], len(data.x_train))
    return batch, math.ceil(len(data.x_train) / batch)


def fit(model: Any, data: Split, p: dict[str, Any], name: str, epochs: int, learning_rate: float,
        weights: dict[int, float] | None, augment: Augmentation, progress: ProgressLike,
        extra_callbacks: tuple = ()) -> Phase:
    """Compile and fit ``model`` for ``epochs``; its best weights are in place afterwards."""
    _, keras = tensorflow()
    _compile(model, learning_rate)
    phase = Phase(name)
    has_val = len(data.x_val) > 0
    monitor = "val_loss" if has_val else "loss"
    callbacks = [_reporter(progress, phase, epochs, monitor), *extra_callbacks]
    if p["early_stopping"]:
        callbacks.append(keras.callbacks.EarlyStopping(monitor=monitor, patience=p["early_stopping"]))
    val = (data.x_val, data.y_val) if has_val else None
    batch, steps = _batching(data, p)
    if augment.active:
        w = np.ones(len(data.y_train), np.float32) if weights is None else \
            np.array([weights[int(c)] for c in data.y_train], np.float32)
        model.fit(_augmented(data.x_train, data.y_train, w, batch, augment), steps_per_epoch=steps,
                  epochs=epochs, validation_data=val, callbacks=callbacks, verbose=0)
    else:
        model.fit(data.x_train, data.y_train, batch_size=batch, epochs=epochs, validation_data=val,
                  class_weight=weights, shuffle=True, callbacks=callbacks, verbose=0)
    return phase


def augment_batch(x: Any, index: Any, aug: Augmentation) -> Any:
    """One batch augmented with TensorFlow's stateless random ops, seeded by (seed, batch index):
    the same seed gives the same batches, and no Python runs on tf.data's threads."""
    tf, _ = tensorflow()
    x = tf.convert_to_tensor(x, tf.float32)
    index = tf.cast(index, tf.int64)
    if aug.max_shift:
        frames = tf.shape(x)[1]
        shifts = tf.random.stateless_uniform([tf.shape(x)[0]], [aug.seed, index * 2], -aug.max_shift,
                                             aug.max_shift + 1, dtype=tf.int32)
        source = tf.clip_by_value(tf.range(frames)[None, :] - shifts[:, None], 0, frames - 1)
        x = tf.gather(x, source, batch_dims=1)
    if aug.noise > 0:
        noise = tf.random.stateless_normal(tf.shape(x), [aug.seed, index * 2 + 1])
        x = x + noise * tf.constant(aug.noise * aug.spread)
    return x


def _augmented(x: np.ndarray, y: np.ndarray, w: np.ndarray, batch: int, aug: Augmentation) -> Any:
    """Shuffled batches (reshuffled every epoch), augmented in the graph; endless, so
    ``steps_per_epoch`` ends each epoch."""
    tf, _ = tensorflow()
    data = tf.data.Dataset.from_tensor_slices((x, y, w)).shuffle(len(x), seed=aug.seed,
                                                                   reshuffle_each_iteration=True)
    data = data.batch(batch).repeat()
    return tf.data.Dataset.zip((tf.data.Dataset.counter(), data)).map(
        lambda i, b: (augment_batch(b[0], i, aug), b[1], b[2])).prefetch(2)


def prune(model: Any, data: Split, p: dict[str, Any], weights: dict[int, float] | None, augment: Augmentation,
          progress: ProgressLike) -> tuple[Any, Phase]:
    """Magnitude pruning to ``p["prune"]`` sparsity, reached gradually over two thirds of the
    fine-tuning steps; returns the stripped model (plain layers with zeroed weights)."""
    mot = tfmot()
    steps = _batching(data, p)[1] * p["prune_epochs"]
    schedule = mot.sparsity.keras.PolynomialDecay(initial_sparsity=0.0, final_sparsity=p["prune"], begin_step=0,
                                                  end_step=max(1, int(steps * 2 / 3)),
                                                  frequency=max(1, steps // (4 * p["prune_epochs"])))
    pruned = mot.sparsity.keras.prune_low_magnitude(model, pruning_schedule=schedule)
    phase = fit(pruned, data, p, "pruning", p["prune_epochs"], p["learning_rate"], weights, augment, progress,
                (mot.sparsity.keras.UpdatePruningStep(),))
    return mot.sparsity.keras.strip_pruning(pruned), phase


def quantization_aware(model: Any, data: Split, p: dict[str, Any], weights: dict[int, float] | None,
                       augment: Augmentation, progress: ProgressLike, keep_sparsity: bool) -> tuple[Any, Phase]:
    """Fine-tune with fake quantization; a pruned model keeps its zeros (prune-preserving scheme)."""
    mot = tfmot()
    q = mot.quantization.keras
    if keep_sparsity:
        from tensorflow_model_optimization.python.core.quantization.keras.collab_opts.prune_preserve import (
            default_8bit_prune_preserve_quantize_scheme as scheme,
        )

        qat = q.quantize_apply(q.quantize_annotate_model(model), scheme.Default8BitPrunePreserveQuantizeScheme())
    else:
        qat = q.quantize_model(model)
    phase = fit(qat, data, p, "quantization-aware training", p["qat_epochs"], p["learning_rate"] * 0.1, weights,
                augment, progress)
    return qat, phase


def sparsity(model: Any) -> float:
    """Share of exactly-zero weights over every dense and convolution kernel."""
    zeros = total = 0
    for layer in model.layers:
        for w in layer.weights:
            if "kernel" in w.name:
                v = w.numpy()
                zeros += int((v == 0).sum())
                total += v.size
    return zeros / total if total else 0.0
