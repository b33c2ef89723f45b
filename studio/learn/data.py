"""From feature windows to training arrays: classes, the validation split, class weights and
augmentation. Windows of one sample overlap, so validation is held out by sample, not by
window (otherwise validation would see near copies of training windows)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from studio.dsp.features import FeatureSet
from studio.params import ParamError


@dataclass
class Split:
    classes: list[str]
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray  # -1 where the label is not one of the classes
    test_labels: list[str]
    train_ids: set[int] = field(default_factory=set)  # samples whose windows are in x_train
    notes: list[str] = field(default_factory=list)


def split(fs: FeatureSet, validation: float, seed: int, exclude: set[str] = frozenset()) -> Split:
    """Training windows by class, a by-sample validation hold-out per class, and the testing set."""
    cats = np.array(fs.categories)
    labels = np.array(fs.labels)
    train_mask = (cats == "training") & ~np.isin(labels, list(exclude))
    classes = sorted(set(labels[train_mask]))
    if len(classes) < 2:
        raise ParamError(f"training needs at least two labels in the training set (found {classes or 'none'})")
    index = {c: i for i, c in enumerate(classes)}
    rng = np.random.default_rng(seed)
    val_ids: set[int] = set()
    notes = []
    if validation > 0:
        for c in classes:
            ids = np.unique(fs.sample_ids[train_mask & (labels == c)])
            take = int(round(len(ids) * validation))
            if len(ids) >= 2:
                val_ids.update(int(i) for i in rng.permutation(ids)[: max(1, take)])
            else:
                notes.append(f"label {c!r} has one training sample: none of it is held out for validation")
    in_val = train_mask & np.isin(fs.sample_ids, list(val_ids))
    in_train = train_mask & ~in_val
    test_mask = cats == "testing"
    y = np.array([index.get(v, -1) for v in labels], np.int64)
    unknown = sorted(set(labels[test_mask]) - set(classes))
    if unknown:
        notes.append(f"testing label(s) {', '.join(unknown)} are not classes: they are left out of the accuracy")
    return Split(classes, fs.features[in_train], y[in_train], fs.features[in_val], y[in_val],
                 fs.features[test_mask], y[test_mask], list(labels[test_mask]),
                 {int(i) for i in np.unique(fs.sample_ids[in_train])}, notes)


def class_weights(y: np.ndarray, classes: int) -> dict[int, float]:
    """Inverse class frequency, 1.0 on average: each class weighs the same in the loss."""
    counts = np.bincount(y, minlength=classes).astype(np.float64)
    present = counts > 0
    w = np.zeros(classes)
    w[present] = counts.sum() / (present.sum() * counts[present])
    return {i: float(v) for i, v in enumerate(w)}


@dataclass
class Augmentation:
    """Noise and time shift applied to each training batch (inside the TensorFlow input
    pipeline, see :func:`studio.learn.fit.augment_batch`).

    Noise is scaled per feature by that feature's spread in the training set; the time shift
    moves sequence and image features along their first axis by up to ``max_shift`` frames,
    filling with the edge frame. Flat features have no time axis and are not shifted.
    """

    noise: float
    spread: np.ndarray
    max_shift: int
    seed: int

    @classmethod
    def for_training(cls, x_train: np.ndarray, noise: float, time_shift: float, seed: int) -> Augmentation:
        spread = x_train.std(axis=0).astype(np.float32) if len(x_train) else np.zeros(x_train.shape[1:], np.float32)
        max_shift = int(round(time_shift * x_train.shape[1])) if x_train.ndim >= 3 else 0
        return cls(noise, spread, max_shift, seed)

    @property
    def active(self) -> bool:
        return self.noise > 0 or self.max_shift > 0
