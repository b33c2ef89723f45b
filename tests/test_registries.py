"""Every registry entry carries everything about its item, and what is derived from the registries (the CLI's
choices, the C support) follows them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import ROOT

from studio.cli import build_parser
from studio.deploy.export.errors import ExportError
from studio.deploy.export.targets import TARGETS, get_target
from studio.dsp.registry import all_blocks
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
