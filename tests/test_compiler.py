"""The model compiler against LiteRT's reference kernels: the MLPerf Tiny reference models and
hundreds of random models, on the host (gcc) and on the emulated Cortex-M4 (with and without the
SMLAD path), plus the errors a user can cause."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import SHARED, run_cli
from support.tflite_factory import random_model

from studio.compiler import CompileError, compile_model
from studio.compiler.compile import build
from studio.compiler.verify import Compiled, reference_outputs, run_board, run_host
from studio.cortexm import available

REFERENCE = SHARED / "reference_models"
# name: (MACs, TFLM's minimum arena) from the corpus README
MODELS = {
    "kws_ref_model": (2_656_768, 24_274),
    "ad01_int8": (264_192, 4_647),
    "pretrainedResnet_quant": (12_501_632, 55_994),
    "vww_96_int8": (7_489_664, 103_678),
    "str_ww_ref_model": (826_368, 16_644),
}
RANDOM_MODELS = 240

needs_tools = pytest.mark.skipif(available() is not None, reason=str(available()))


def _inputs(size: int, n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(-128, 128, size=(n, size), dtype=np.int8)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    if not REFERENCE.is_dir():
        pytest.skip(f"{REFERENCE} is missing")
    work = tmp_path_factory.mktemp("reference")
    out = {}
    for name in MODELS:
        model = (REFERENCE / f"{name}.tflite").read_bytes()
        result = compile_model(model, work / name, prefix=name.split("_")[0].lower(), source=name)
        compiled = Compiled(work / name, result.prefix, result.input["size"], result.output["size"])
        x = _inputs(compiled.input_size, 3, seed=len(name))
        out[name] = (result, compiled, x, reference_outputs(model, x))
    return work, out


def test_reference_models_compile_with_their_macs_and_a_smaller_arena(reference):
    _, compiled = reference
    for name, (macs, tflm_arena) in MODELS.items():
        result = compiled[name][0]
        assert result.macs == macs, name
        assert result.arena_bytes <= 0.75 * tflm_arena, (name, result.arena_bytes, tflm_arena)
        text = re.sub(r"/\*.*?\*/", "", (result.files[0].parent / f"{result.prefix}.c").read_text(), flags=re.S)
        assert "malloc" not in text and "double" not in text
        assert ("float" in text) == ("SOFTMAX" in result.ops), name  # float only where softmax needs it


@needs_tools
def test_reference_models_match_litert_on_the_host(reference, tmp_path):
    _, compiled = reference
    models = [c[1] for c in compiled.values()]
    outputs = run_host(tmp_path, models, [c[2] for c in compiled.values()])
    for (name, c), got in zip(compiled.items(), outputs, strict=True):
        np.testing.assert_array_equal(got, c[3], err_msg=name)


@needs_tools
@pytest.mark.parametrize("simd", [True, False], ids=["smlad", "plain"])
def test_reference_models_run_on_the_emulated_cortex_m4(reference, tmp_path, simd):
    _, compiled = reference
    models = [c[1] for c in compiled.values()]
    run = run_board(tmp_path, models, [c[2] for c in compiled.values()], core="cortex-m4", simd=simd, count=True)
    for (name, c), got in zip(compiled.items(), run.outputs, strict=True):
        np.testing.assert_array_equal(got, c[3], err_msg=name)
    per_inference = run.instructions
    assert len(per_inference) == 3 * len(models)
    # the same model on three inputs: data-independent kernels take the same path every time (within a
    # handful of instructions for clamps and rounding branches)
    for i, (name, c) in enumerate(compiled.items()):
        counts = per_inference[3 * i : 3 * i + 3]
        assert max(counts) - min(counts) < 0.01 * min(counts), name
        assert 1.0 < min(counts) / c[0].macs < 12, name
    assert run.stack_bytes < 2048


@pytest.fixture(scope="module")
def random_models(tmp_path_factory):
    work = tmp_path_factory.mktemp("random")
    models, compiled, inputs, expected, kinds = [], [], [], [], set()
    for seed in range(RANDOM_MODELS):
        model, ops = random_model(seed)
        kinds.update(ops)
        for step in build(model)[1]:  # the kernels' variants: rescaling mode, patches read in place
            fields = dict(step.fields)
            kinds.update(f"{step.kernel} {k}={fields[k]}" for k in ("mode", "direct") if k in fields)
        result = compile_model(model, work / f"m{seed}", prefix=f"m{seed}")
        c = Compiled(work / f"m{seed}", f"m{seed}", result.input["size"], result.output["size"])
        x = _inputs(c.input_size, 2, seed)
        models.append(model)
        compiled.append(c)
        inputs.append(x)
        expected.append(reference_outputs(model, x))
    return compiled, inputs, expected, kinds


def test_random_models_cover_every_operator_and_option(random_models):
    kinds = random_models[3]
    for op in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D", "MAX_POOL_2D", "ADD", "SOFTMAX",
               "MEAN", "QUANTIZE", "RESHAPE", "SHAPE", "STRIDED_SLICE", "PACK"):
        assert op in kinds, op
    for variant in ("tms_conv mode=0", "tms_conv mode=1", "tms_dwconv mode=0", "tms_dwconv mode=1", "tms_fc mode=2",
                    "tms_fc mode=3", "tms_conv direct=1"):
        assert variant in kinds, variant


@needs_tools
def test_random_models_match_litert_on_the_host(random_models, tmp_path):
    compiled, inputs, expected, _ = random_models
    outputs = run_host(tmp_path, compiled, inputs, opt="-O1")
    bad = [c.prefix for c, got, want in zip(compiled, outputs, expected, strict=True) if not np.array_equal(got, want)]
    assert not bad, f"{len(bad)} of {len(compiled)} random models differ: {bad[:10]}"


@needs_tools
def test_random_models_on_the_cortex_m4_equal_the_host(random_models, tmp_path):
    compiled, inputs, expected, _ = random_models
    half = len(compiled) // 2  # the SMLAD path on one half, the plain kernels on an M3 for the other
    simd = run_board(tmp_path / "m4", compiled[:half], inputs[:half], core="cortex-m4", simd=True)
    plain = run_board(tmp_path / "m3", compiled[half:], inputs[half:], core="cortex-m3")
    got = simd.outputs + plain.outputs
    bad = [c.prefix for c, g, want in zip(compiled, got, expected, strict=True) if not np.array_equal(g, want)]
    assert not bad, f"{len(bad)} random models differ on the emulated boards: {bad[:10]}"


def test_unsupported_operators_are_all_listed(tmp_path):
    from support.tflite_factory import Builder

    b = Builder(np.random.default_rng(0))
    x = b.act((1, 4))
    y = b.act((1, 4))
    z = b.act((1, 4))
    b.op("TANH", [x.index], [y.index])
    b.op("LOGISTIC", [y.index], [z.index])
    model = b.finish([x.index], [z.index])
    with pytest.raises(CompileError) as err:
        compile_model(model, tmp_path, source="two.tflite")
    message = str(err.value)
    assert "\n" not in message and message.startswith("two.tflite: cannot compile")
    assert "operator 0 TANH" in message and "operator 1 LOGISTIC" in message
    assert not list(tmp_path.iterdir()), "nothing is written for a model that does not compile"


def test_float_models_corrupt_files_and_bad_prefixes_are_refused(tmp_path):
    from support.tflite_factory import Builder

    b = Builder(np.random.default_rng(0))
    x = b.tensor([1, 4], b.s.TensorType.FLOAT32)
    y = b.tensor([1, 4], b.s.TensorType.FLOAT32)
    b.op("RELU", [x], [y])
    with pytest.raises(CompileError, match="float32; a full-integer int8 model is needed"):
        compile_model(b.finish([x], [y]), tmp_path, source="float.tflite")
    model, _ = random_model(3)
    with pytest.raises(CompileError, match="cut.tflite: cannot compile: unreadable flatbuffer"):
        compile_model(model[: len(model) // 3], tmp_path, source="cut.tflite")
    with pytest.raises(CompileError, match="not a C identifier"):
        compile_model(model, tmp_path, prefix="my-model")


@needs_tools
def test_labels_with_quotes_backslashes_and_non_ascii_print_back(tmp_path):
    from studio.cortexm import build_host

    model, _ = random_model(5)
    result = compile_model(model, tmp_path, prefix="net")
    n = result.output["size"]
    base = ['say "hi"', "back\\slash", "new\nline", "caf\u00e9 \u2713", "??=trigraph", "tab\t", "\\x41\\101"]
    labels = [f"{base[i % len(base)]}{i}" for i in range(n)]
    result = compile_model(model, tmp_path, prefix="net", labels=labels)
    main = tmp_path / "main.c"
    main.write_text('#include <stdio.h>\n#include "net.h"\nint main(void) {\n'
                    '  for (int i = 0; i < NET_LABEL_COUNT; ++i) { fputs(net_labels[i], stdout); putchar(0); }\n'
                    "  return 0;\n}\n")
    exe = build_host([main, tmp_path / "net.c"], tmp_path / "labels", include_dirs=[tmp_path])
    import subprocess

    out = subprocess.run([str(exe)], capture_output=True, check=True).stdout
    assert out.split(b"\0")[:-1] == [label.encode() for label in labels]


def test_keras_conv1d_and_global_pooling_models_compile_and_match(tmp_path):
    """A Keras model as a user brings it: Conv1D (EXPAND_DIMS/SQUEEZE around CONV_2D), global average
    pooling (MEAN), dense, softmax; float input and output (QUANTIZE/DEQUANTIZE at the edges)."""
    from studio.learn.tf_env import tensorflow

    tf, keras = tensorflow()
    rng = np.random.default_rng(0)
    model = keras.Sequential([keras.layers.InputLayer(input_shape=(20, 3)),
                              keras.layers.Conv1D(8, 3, padding="same", activation="relu"),
                              keras.layers.Conv1D(6, 5, strides=2, activation="relu"),
                              keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(4), keras.layers.Softmax()])
    data = rng.normal(size=(64, 20, 3)).astype(np.float32)
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([d[None]] for d in data)
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    tflite = conv.convert()  # float32 in and out, so QUANTIZE and DEQUANTIZE sit at the edges
    result = compile_model(tflite, tmp_path / "c", prefix="k")
    assert {"EXPAND_DIMS", "SQUEEZE", "MEAN"} <= set(result.ops) or {"RESHAPE", "MEAN"} <= set(result.ops)
    if available() is not None:
        pytest.skip(str(available()))
    scale, zero = result.input["scale"], result.input["zero_point"]
    xq = np.clip(np.round(data[:8] / scale) + zero, -128, 127).astype(np.int8).reshape(8, -1)
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interp = Interpreter(model_content=tflite, experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
                         experimental_preserve_all_tensors=True)
    interp.allocate_tensors()
    ops = interp._get_ops_details()
    first, last = ops[0], ops[-1]
    assert first["op_name"] == "QUANTIZE" and last["op_name"] == "DEQUANTIZE"
    want = []
    for x in xq:
        interp.set_tensor(interp.get_input_details()[0]["index"],
                          ((x.astype(np.float32) - zero) * scale).reshape(1, 20, 3))
        interp.invoke()
        assert np.array_equal(interp.get_tensor(first["outputs"][0]).reshape(-1), x)
        want.append(interp.get_tensor(last["inputs"][0]).reshape(-1).copy())
    got = run_host(tmp_path / "run", [Compiled(tmp_path / "c", "k", result.input["size"], result.output["size"])],
                   [xq])[0]
    np.testing.assert_array_equal(got, np.asarray(want))


def test_cli_compile_reports_json(tmp_path):
    model, _ = random_model(11)
    path = tmp_path / "m.tflite"
    path.write_bytes(model)
    done = run_cli("compile", str(path), "--out", str(tmp_path / "out"), "--prefix", "tiny", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["prefix"] == "tiny" and report["arena_bytes"] > 0 and report["macs"] >= 0
    assert {Path(f).name for f in report["files"]} == {"tiny.h", "tiny.c"}
    bad = run_cli("compile", str(tmp_path / "missing.tflite"), "--out", str(tmp_path / "o2"))
    assert bad.returncode == 1 and "missing.tflite: cannot read" in bad.stderr
