"""End to end on speech: keywords synthesised with espeak-ng, voices held out for testing, MFCC,
the 1-D CNN template with background-noise mixing; float32 and int8 on the reference kernels.

The project and its run are tests/conftest.py's ``keyword_project`` and ``keyword_run`` (built from
tests/support/projects.py, trained once per session and shared with tests/test_impulse_c.py)."""

from __future__ import annotations

import pytest
from conftest import have
from support.projects import KEYWORD_TOOLS_MISSING

pytestmark = pytest.mark.skipif(not (have("espeak-ng") and have("sox")), reason=KEYWORD_TOOLS_MISSING)


def test_held_out_voices_reach_85_percent_and_int8_stays_within_a_point(keyword_run):
    m = keyword_run.metrics
    print({k: m[k] for k in ("seconds", "notes", "epochs_trained", "best_epoch")}, m["float"]["accuracy"],
          m["int8"]["accuracy"])
    assert m["classes"] == ["left", "no", "noise", "right", "yes"]
    assert m["float"]["windows"] == 6 * 4 * 6 + 20
    assert m["float"]["accuracy"] >= 0.85 and m["int8"]["accuracy"] >= 0.85
    assert abs(m["float"]["accuracy"] - m["int8"]["accuracy"]) <= 0.01
    assert any("mixed with background noise" in n for n in m["notes"])
    assert keyword_run.run.config["template"] == "1-D CNN"
