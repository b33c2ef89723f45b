"""The impulse in plain C99: every DSP block rendered with the impulse's configuration, the labels,
the anomaly score, and ``run_impulse`` (features -> int8 model -> class scores).

Tables (windows, filter sections, mel filterbank, DCT, FFT twiddles) are computed at render time by
each block's registry entry (``Block.c_tables``) and emitted as ``const float`` arrays, so the C uses
the very constants the Python blocks use. Qt-free and TensorFlow-free; the templates are in
``project_templates/impulse/``.
"""

from __future__ import annotations

from studio.c_literals import CSourceError as ImpulseCError
from studio.c_literals import c_string
from studio.impulse_c.render import render_for_run, render_impulse

__all__ = ["ImpulseCError", "c_string", "render_for_run", "render_impulse"]
