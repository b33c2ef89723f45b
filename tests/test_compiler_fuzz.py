"""A malformed model is one CompileError, never another exception: byte mutations of the MLPerf Tiny
reference models through the reader, the simplifier, the lowering and the memory planner."""

from __future__ import annotations

import os

import pytest
from conftest import SHARED
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.compiler.compile import build
from studio.compiler.errors import CompileError
from studio.compiler.planner import plan

NAMES = ["ad01_int8.tflite", "kws_ref_model.tflite", "str_ww_ref_model.tflite", "pretrainedResnet_quant.tflite"]
FOUND = [SHARED / "reference_models" / n for n in NAMES]
MODELS = {p.name: p.read_bytes() for p in FOUND if p.exists()}


def compile_or_refuse(data: bytes) -> None:
    try:
        graph, steps = build(data, "fuzz.tflite")
        plan(graph, steps)
    except CompileError as e:
        assert str(e).startswith("fuzz.tflite: cannot compile: ") and "\n" not in str(e)


@st.composite
def mutations(draw):
    """What to do to which model (drawn small: hypothesis prints it on a failure)."""
    name = draw(st.sampled_from(sorted(MODELS)))
    size = len(MODELS[name])
    how = draw(st.sampled_from(["bytes", "tables", "int32", "truncate"]))
    if how == "truncate":
        return name, how, [(draw(st.integers(0, size - 1)), 0)]
    # the flatbuffer's tables (tensors, operators, offsets) sit in its last few kilobytes
    low = 0 if how == "bytes" else max(0, size - 12_000)
    values = st.sampled_from([0, 1, 3, 1000, 2**16, 2**31 - 1, 2**32 - 1]) if how == "int32" else st.integers(0, 255)
    return name, how, draw(st.lists(st.tuples(st.integers(low, size - 4), values), min_size=1, max_size=6))


def apply(name: str, how: str, changes: list[tuple[int, int]]) -> bytes:
    raw = bytearray(MODELS[name])
    if how == "truncate":
        return bytes(raw[: changes[0][0]])
    for at, value in changes:
        if how == "int32":
            raw[at : at + 4] = value.to_bytes(4, "little")
        else:
            raw[at] = value
    return bytes(raw)


@pytest.mark.skipif(not MODELS, reason="the MLPerf Tiny reference models are not in ../shared")
@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "600")))
@given(change=mutations())
def test_mutated_reference_models_compile_or_are_refused_in_one_line(change):
    compile_or_refuse(apply(*change))
