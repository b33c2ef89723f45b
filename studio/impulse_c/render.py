"""Render the impulse (DSP block, framing, labels, anomaly model) as C99 from Jinja2 templates."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from studio import c_literals
from studio.c_literals import CSourceError as ImpulseCError
from studio.code_templates import code_environment
from studio.dsp.registry import Configured, all_blocks, get_block
from studio.errors import StudioError
from studio.fsutil import atomic_write_text
from studio.learn.anomaly import AnomalyModel
from studio.learn.runs import Run

OUTPUTS = {"impulse.h": "impulse.h.j2", "impulse.c": "impulse.c.j2", "impulse_run.c": "impulse_run.c.j2"}


def _configure(dsp: dict[str, Any], framing: dict[str, Any], feature_shape: Sequence[int]) -> Configured:
    name, version = dsp.get("block"), dsp.get("version")
    with_c = sorted(b.name for b in all_blocks() if b.c_template)
    if name not in with_c:
        raise ImpulseCError(f"DSP block {name!r} has no C implementation (C exists for {', '.join(with_c)})")
    block = get_block(name)
    if block.c_version != block.version:
        raise ImpulseCError(f"the studio's {name} block is version {block.version} but its C template implements "
                            f"version {block.c_version}")
    if version != block.c_version:
        raise ImpulseCError(f"DSP block {name} version {version} has no C implementation (the C template "
                            f"implements version {block.c_version})")
    try:
        configured = block.configure(dict(dsp.get("params") or {}), float(framing["frequency_hz"]),
                                     int(framing["window_frames"]), int(framing["axes"]))
    except StudioError as e:
        raise ImpulseCError(f"DSP block {name}: {e}") from None
    if math.prod(int(v) for v in feature_shape) != math.prod(configured.shape):
        raise ImpulseCError(f"the run's feature shape {tuple(feature_shape)} is not what {name} computes "
                            f"with these parameters {configured.shape}")
    return configured


def _anomaly_context(model: AnomalyModel, feature_count: int) -> dict[str, Any]:
    idx = [int(i) for i in model.features]
    centres = np.asarray(model.centres, np.float64)
    if not idx or any(not 0 <= i < feature_count for i in idx):
        raise ImpulseCError(f"anomaly feature indices must lie within 0..{feature_count - 1}")
    if len(model.mean) != len(idx) or len(model.scale) != len(idx) or centres.ndim != 2 \
            or centres.shape[1] != len(idx) or not len(centres):
        raise ImpulseCError("the anomaly model's means, scales and centres do not match its feature indices")
    if any(s == 0 for s in model.scale):
        raise ImpulseCError("the anomaly model has a zero feature scale")
    return {"index": idx, "mean": model.mean, "scale": model.scale, "centres": centres,
            "clusters": len(centres), "threshold": model.threshold}


def _params_comment(params: dict[str, Any]) -> list[str]:
    def fmt(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, list | tuple):
            return ",".join(fmt(x) for x in v)
        return f"{v:g}" if isinstance(v, float) else str(v)

    return [c_literals.c_comment(f"{k} = {fmt(v)}") for k, v in params.items()]


def render_impulse(dsp: dict[str, Any], framing: dict[str, Any], feature_shape: Sequence[int], classes: list[str],
                   out_dir: Path, *, model_prefix: str = "model", anomaly: AnomalyModel | None = None) -> list[Path]:
    """Write ``impulse.h``, ``impulse.c`` (the DSP block, labels, anomaly score) and ``impulse_run.c``
    (``run_impulse``, which needs the compiled model ``<model_prefix>.h``) into ``out_dir``."""
    c_literals.c_identifier(model_prefix, "model prefix")
    if model_prefix.lower().startswith("impulse"):
        raise ImpulseCError(f"model prefix {model_prefix!r} would clash with the impulse's own files and names")
    if not classes:
        raise ImpulseCError("the impulse has no classes")
    configured = _configure(dsp, framing, feature_shape)
    block = configured.c_context()
    labels = [c_literals.c_string(str(label)) for label in classes]
    context = {
        "block_name": configured.block.name, "block_version": configured.block.version,
        "params": _params_comment(configured.params), "fs": configured.fs,
        "window_frames": configured.window_frames, "axes": configured.axes,
        "stride_frames": int(framing.get("stride_frames", configured.window_frames)),
        "audio": framing.get("kind") == "audio", "feature_shape": [int(v) for v in configured.shape],
        "feature_count": block["feature_count"], "labels": labels, "dsp": block,
        "anomaly": None if anomaly is None else _anomaly_context(anomaly, block["feature_count"]),
        "prefix": model_prefix, "PREFIX": model_prefix.upper(),
    }
    env = code_environment("impulse", ImpulseCError)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, template in OUTPUTS.items():
        text = env.get_template(template).render(context)
        path = out_dir / name
        atomic_write_text(path, text)
        written.append(path)
    return written


def render_for_run(run: Run, out_dir: Path, model_prefix: str = "model") -> list[Path]:
    """``render_impulse`` with a training run's DSP block, framing, feature shape, classes and anomaly model."""
    try:
        dsp, framing, shape, classes = run.dsp, run.framing_record, run.feature_shape, run.labels
    except StudioError as e:
        raise ImpulseCError(str(e)) from None
    anomaly = run.anomaly
    return render_impulse(dsp, framing, shape, classes, out_dir, model_prefix=model_prefix,
                          anomaly=AnomalyModel.from_dict(anomaly) if anomaly else None)
