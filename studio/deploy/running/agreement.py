"""How closely a firmware's printed results follow Python: the int8 reference (LiteRT's reference kernels) on
the Python DSP block's features of the same windows. Used by the headless demo and the tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from studio.deploy.running.result_line import ResultLine
from studio.learn.reference import Reference
from studio.learn.runs import Run


def expected_scores(run: Run, windows: np.ndarray) -> tuple[np.ndarray, float]:
    """The int8 reference's scores on the Python features of ``windows`` (count, frames, axes), and one output
    step (the int8 output's scale): what a correct firmware prints for those windows."""
    block = run.block()
    ref = Reference(run.model_bytes("int8"))
    if not len(windows):
        return np.zeros((0, len(run.labels)), np.float32), float(ref.output["quantization"][0])
    return ref.probabilities(np.stack([block.run(w) for w in windows])), float(ref.output["quantization"][0])


@dataclass
class Agreement:
    windows: int  # windows compared
    same_top: int  # windows where the firmware's top class is Python's
    worst_difference: float  # largest score difference over all windows and classes
    output_step: float  # one step of the int8 output, the resolution both sides share
    labels_match: bool  # the firmware named the run's classes, in order

    @property
    def exact(self) -> bool:
        """Every window has Python's top class and every score is within one output step (plus the print's
        rounding): the firmware computes what Python computes."""
        return (self.labels_match and self.windows > 0 and self.same_top == self.windows
                and self.worst_difference <= self.output_step + 1e-5)

    def to_dict(self) -> dict[str, Any]:
        return {"windows": self.windows, "same_top": self.same_top, "worst_difference": self.worst_difference,
                "output_step": self.output_step, "labels_match": self.labels_match, "exact": self.exact}


def compare(results: Sequence[ResultLine], expected: np.ndarray, step: float, classes: Sequence[str]) -> Agreement:
    """The firmware's ``results`` against ``expected`` scores (one row per window, in order)."""
    got = np.array([r.scores for r in results], np.float64).reshape(len(results), -1)
    if got.shape != np.shape(expected):
        return Agreement(len(results), 0, float("inf"), step, False)
    labels = all(r.labels == tuple(classes) for r in results)
    same = int((got.argmax(1) == expected.argmax(1)).sum()) if len(got) else 0
    worst = float(np.abs(got - expected).max()) if len(got) else 0.0
    return Agreement(len(results), same, worst, step, labels)
