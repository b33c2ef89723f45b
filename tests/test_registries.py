"""Every registry entry carries everything about its item, and what is derived from the registries (the CLI's
choices, the C support) follows them."""

from __future__ import annotations

import importlib.util
import math
import re
import shutil
import subprocess

import numpy as np
import pytest
from conftest import ROOT, have

from studio.cli import build_parser
from studio.deploy.export.errors import ExportError
from studio.deploy.export.targets import TARGETS, get_target
from studio.devices.gestures import GESTURES, GestureSynth
from studio.dsp.registry import BLOCKS, all_blocks, get_block
from studio.impulse_c import render_impulse
from studio.learn.blocks import ANOMALY, CLASSIFIER
from studio.params import Entry

# a configuration each kind of block accepts: (rate, window frames, axes)
SETTINGS = {True: (16000.0, 16000, 1), False: (100.0, 200, 3)}


@pytest.mark.parametrize("block", all_blocks(), ids=lambda b: b.name)
def test_a_dsp_block_entry_has_every_piece(block):
    assert isinstance(block, Entry) and block.missing() == []
    assert (ROOT / "project_templates" / "impulse" / block.c_template).is_file()
    assert block.c_version == block.version, "the C template implements another version of the formulas"
    fs, frames, axes = SETTINGS[block.single_axis]
    configured = block.configure({}, fs, frames, axes)
    names = configured.feature_names(["ax", "ay", "az"][:axes] if axes > 1 else ["audio"])
    assert len(names) == math.prod(configured.shape) == len(set(names))
    features = configured.run(np.random.default_rng(0).normal(0, 0.1, (frames, axes)))
    assert features.shape == configured.shape
    context = configured.c_context()
    assert context["template"] == block.c_template and context["feature_count"] == len(names)
    assert set(block.defaults()) == {p.name for p in block.schema} and all(p.help for p in block.schema)


def test_the_cli_offers_exactly_the_registered_blocks():
    parser = build_parser()
    impulse = next(a for a in parser._subparsers._group_actions[0].choices["impulse"]._actions if a.dest == "dsp")
    assert list(impulse.choices) == [b.name for b in all_blocks()]


def test_learning_blocks_are_entries_of_the_same_kind():
    for block in (CLASSIFIER, ANOMALY):
        assert isinstance(block, Entry) and block.defaults() == block.resolve({})


@pytest.mark.parametrize("target", list(TARGETS.values()), ids=lambda t: t.name)
def test_a_deploy_target_entry_has_every_piece(target):
    assert isinstance(target, Entry) and target.title and target.summary
    module = target.implementation()
    assert callable(module.context) and callable(module.stage)
    assert target.default_name("nano33ble").startswith("nano33ble")
    assert target.default_name("x").endswith(".zip") == target.archive


def test_the_cli_and_the_deploy_page_offer_exactly_the_registered_targets():
    parser = build_parser()
    deploy = next(a for a in parser._subparsers._group_actions[0].choices["deploy"]._actions if a.dest == "target")
    assert list(deploy.choices) == list(TARGETS)
    with pytest.raises(ExportError, match="unknown export target 'zip'"):
        get_target("zip")


# ------------------------------------------------------------------------------ docs/architecture.md's example


def doc_files() -> dict[str, str]:
    """The fenced blocks of docs/architecture.md that name a file (```python file=PATH), by path."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    found = re.findall(r"^```\w+ file=(\S+)\n(.*?)^```$", text, flags=re.M | re.S)
    return dict(found)


@pytest.fixture
def example_block(tmp_path, monkeypatch):
    """The worked example, as a user would add it: its module run (it registers itself) and its template in a
    copy of project_templates/, which the renderer reads through TINYML_STUDIO_TEMPLATES."""
    files = doc_files()
    module_path, template_path = "studio/dsp/block_crossings.py", "project_templates/impulse/block_crossings.c.j2"
    assert set(files) == {module_path, template_path}
    templates = tmp_path / "project_templates"
    shutil.copytree(ROOT / "project_templates", templates)
    (templates / "impulse" / "block_crossings.c.j2").write_text(files[template_path])
    monkeypatch.setenv("TINYML_STUDIO_TEMPLATES", str(templates))
    source = tmp_path / "block_crossings.py"
    source.write_text(files[module_path])
    spec = importlib.util.spec_from_file_location("block_crossings_from_the_docs", source)
    try:
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
        yield get_block("crossings")
    finally:
        BLOCKS.pop("crossings", None)


@pytest.mark.skipif(not have("gcc"), reason="gcc (the host C compiler) is not installed")
def test_the_documented_example_block_is_one_entry_and_a_template(example_block, tmp_path):
    block = example_block
    assert block.missing() == [] and block.title == "Crossings"
    assert "crossings" in build_parser().parse_args(["impulse", "p", "--window-ms", "2000", "--stride-ms", "500",
                                                     "--dsp", "crossings"]).dsp
    c = block.configure({"scale": 0.5}, 100.0, 200, 3)
    assert c.feature_names(["ax", "ay", "az"])[:2] == ["ax crossings/s", "ax peak-to-peak"] and c.shape == (6,)
    windows = np.stack([GestureSynth(g, 100.0, seed=i).next(200) for i, g in enumerate(GESTURES)]).astype(np.float32)
    expected = np.stack([c.run(w) for w in windows])

    out = tmp_path / "c"
    render_impulse({"block": "crossings", "version": 1, "params": c.params},
                   {"frequency_hz": 100.0, "window_frames": 200, "stride_frames": 50, "axes": 3, "kind": "sensor"},
                   c.shape, ["idle", "wave"], out)
    (out / "main.c").write_text(HARNESS)
    program = out / "features"
    subprocess.run(["gcc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-Wdouble-promotion",
                    "-Wfloat-conversion", "-I", str(out), str(out / "impulse.c"), str(out / "main.c"), "-lm",
                    "-o", str(program)], check=True, capture_output=True, text=True)
    ran = subprocess.run([str(program)], input=windows.tobytes(), capture_output=True, check=True)
    got = np.frombuffer(ran.stdout, np.float32).reshape(expected.shape)
    assert np.allclose(got, expected, rtol=1e-5, atol=1e-5), np.abs(got - expected).max()
    assert expected[:, 0].max() > 0  # the gestures do cross their means


HARNESS = """\
#include <stdio.h>
#include "impulse.h"

int main(void)
{
    static float raw[IMPULSE_RAW_COUNT], features[IMPULSE_FEATURE_COUNT];
    while (fread(raw, sizeof(float), IMPULSE_RAW_COUNT, stdin) == IMPULSE_RAW_COUNT) {
        if (impulse_features(raw, IMPULSE_RAW_COUNT, features) != 0) {
            return 1;
        }
        fwrite(features, sizeof(float), IMPULSE_FEATURE_COUNT, stdout);
    }
    return 0;
}
"""
