"""What the firmware should print: the int8 reference on the Python DSP block's features."""

from __future__ import annotations

from studio.deploy.running.agreement import expected_scores as python_scores

__all__ = ["python_scores"]
