"""The DSP block registry. Each entry carries everything about its block: the parameter schema and defaults,
the version, the computation and its check, the names of the features it computes, and its C port (the
template in ``project_templates/impulse/`` and the function that builds the template's tables). Adding a block
is one module that registers one entry, plus its C template (docs/architecture.md).

A block is configured once per impulse (rate, window length, axes), which resolves defaults and checks every
parameter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from studio.dsp.params import DspError
from studio.params import Entry


@dataclass(frozen=True)
class Configured:
    """A block bound to an impulse: ``run(window) -> features`` of ``shape``."""

    block: Block
    params: dict[str, Any]
    fs: float
    window_frames: int
    axes: int
    shape: tuple[int, ...]
    notes: list[str] = field(default_factory=list)

    def run(self, window: np.ndarray) -> np.ndarray:
        out = self.block.compute(np.asarray(window, dtype=np.float32), self.fs, self.params)
        return out.reshape(self.shape).astype(np.float32, copy=False)

    def feature_names(self, axis_names: list[str] | None = None) -> list[str]:
        """One name a feature, in the order ``run`` returns them (``axis_names`` default to axis1, axis2...)."""
        names = axis_names or [f"axis{i + 1}" for i in range(self.axes)]
        return self.block.feature_names(self, names)

    def c_context(self) -> dict[str, Any]:
        """What the block's C template needs: its tables, computed with the Python block's own functions."""
        return {"template": self.block.c_template, **self.block.c_tables(self),
                "feature_count": int(np.prod(self.shape))}


@dataclass(frozen=True)
class Block(Entry):
    compute: Callable[[np.ndarray, float, dict[str, Any]], np.ndarray]
    check: Callable[[dict[str, Any], float, int, int, set[str], list[str]], None]
    feature_names: Callable[[Configured, list[str]], list[str]]
    c_template: str  # a template of project_templates/impulse/
    c_tables: Callable[[Configured], dict[str, Any]]
    c_version: int  # the version of the formulas the C template implements
    single_axis: bool = False

    def configure(self, given: dict[str, Any], fs: float, window_frames: int, axes: int) -> Configured:
        if not fs > 0:
            raise DspError(f"sampling frequency must be positive (got {fs:g} Hz)")
        if window_frames < 1:
            raise DspError("the window holds no samples")
        if self.single_axis and axes != 1:
            raise DspError(f"{self.title} takes one axis (audio); this data has {axes}")
        params = self.resolve(given)
        notes: list[str] = []
        self.check(params, fs, window_frames, axes, set(given), notes)
        probe = self.compute(np.zeros((window_frames, axes), np.float32), fs, params)
        return Configured(self, params, fs, window_frames, axes, tuple(probe.shape), notes)

    def missing(self) -> list[str]:
        """The parts of the entry that are absent (a test requires none)."""
        parts = {"compute": self.compute, "check": self.check, "feature_names": self.feature_names,
                 "c_template": self.c_template, "c_tables": self.c_tables, "c_version": self.c_version}
        return [name for name, part in parts.items() if not part]


BLOCKS: dict[str, Block] = {}


def register(block: Block) -> Block:
    if block.missing():
        raise ValueError(f"DSP block {block.name} lacks {', '.join(block.missing())}")
    BLOCKS[block.name] = block
    return block


def get_block(name: str) -> Block:
    try:
        return BLOCKS[name]
    except KeyError:
        raise DspError(f"unknown DSP block {name!r} (one of {', '.join(sorted(BLOCKS))})") from None


def all_blocks() -> list[Block]:
    return list(BLOCKS.values())
