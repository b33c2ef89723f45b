"""What the firmware should print: the int8 reference on the Python DSP block's features."""

from __future__ import annotations

import numpy as np


def python_scores(run, windows: np.ndarray) -> tuple[np.ndarray, float]:
    """The int8 reference's scores on the Python DSP block's features of ``windows``, and one output step."""
    from studio.dsp.registry import get_block
    from studio.learn.reference import Reference

    f, dsp = run.config["framing"], run.config["dsp"]
    block = get_block(dsp["block"]).configure(dsp.get("params") or {}, f["frequency_hz"], f["window_frames"],
                                              f["axes"])
    ref = Reference(run.model_bytes("int8"))
    return ref.probabilities(np.stack([block.run(w) for w in windows])), float(ref.output["quantization"][0])
