"""The raw and flatten blocks: the window's values as they are, or statistics per axis.
Formulas are in docs/dsp-blocks.md; each step maps to a loop of ``block_raw.c.j2`` / ``block_flatten.c.j2``."""

from __future__ import annotations

from typing import Any

import numpy as np

from studio.dsp.params import DspError, Param
from studio.dsp.registry import Block, Configured, register

STATS = ("mean", "min", "max", "rms", "stdev", "skewness", "kurtosis")
STAT_NAMES = {"mean": "mean", "min": "minimum", "max": "maximum", "rms": "root mean square (RMS)",
              "stdev": "standard deviation", "skewness": "skewness", "kurtosis": "excess kurtosis"}


def no_check(params, fs, frames, axes, given, notes) -> None:
    return None


# ---------------------------------------------------------------- raw


def _raw(window: np.ndarray, fs: float, p: dict[str, Any]) -> np.ndarray:
    return (window * np.float32(p["scale"])).reshape(-1)


def _raw_names(c: Configured, axes: list[str]) -> list[str]:
    return [f"{axis} t{t}" for t in range(c.window_frames) for axis in axes]  # frame by frame


def _raw_tables(c: Configured) -> dict[str, Any]:
    return {"scale": c.params["scale"]}


register(Block(
    name="raw", title="Raw data", version=1,
    schema=(Param("scale", "float", 1.0, "Multiply every value by this"),),
    summary="The window's values, frame by frame, times a scale.",
    compute=_raw, check=no_check, feature_names=_raw_names,
    c_template="block_raw.c.j2", c_tables=_raw_tables, c_version=1,
))

# ---------------------------------------------------------------- flatten


def _flatten(window: np.ndarray, fs: float, p: dict[str, Any]) -> np.ndarray:
    x = window.astype(np.float64) * p["scale"]
    mean = x.mean(axis=0)
    centered = x - mean
    var = (centered ** 2).mean(axis=0)
    std = np.sqrt(var)
    safe = np.where(std > 0, std, 1.0)
    columns = {
        "mean": mean, "min": x.min(axis=0), "max": x.max(axis=0), "rms": np.sqrt((x ** 2).mean(axis=0)),
        "stdev": std,
        "skewness": np.where(std > 0, (centered ** 3).mean(axis=0) / safe ** 3, 0.0),
        "kurtosis": np.where(std > 0, (centered ** 4).mean(axis=0) / safe ** 4 - 3.0, 0.0),
    }
    chosen = [columns[s] for s in STATS if p[s]]
    if not chosen:
        raise DspError("flatten needs at least one statistic")
    return np.stack(chosen, axis=1).reshape(-1).astype(np.float32)  # axis by axis


def _flatten_names(c: Configured, axes: list[str]) -> list[str]:
    return [f"{axis} {s}" for axis in axes for s in STATS if c.params[s]]


def _flatten_tables(c: Configured) -> dict[str, Any]:
    return {"scale": c.params["scale"], "stats": [s for s in STATS if c.params[s]]}


register(Block(
    name="flatten", title="Flatten", version=1,
    schema=(Param("scale", "float", 1.0, "Multiply every value by this first"),)
    + tuple(Param(s, "bool", True, f"Include the {STAT_NAMES[s]} of each axis") for s in STATS),
    summary="Per axis: mean, min, max, RMS, standard deviation, skewness, excess kurtosis.",
    compute=_flatten, check=no_check, feature_names=_flatten_names,
    c_template="block_flatten.c.j2", c_tables=_flatten_tables, c_version=1,
))
