"""The layer list: refused layers, shape checking, templates, and what they convert to."""

from __future__ import annotations

import numpy as np
import pytest

from studio.learn import layers
from studio.learn.layers import LayerError


@pytest.mark.parametrize("kind, reason", [
    ("lstm", "WHILE"), ("gru", "WHILE"), ("global_average_pooling", "MEAN"), ("conv2d_transpose", "TRANSPOSE_CONV"),
    ("separable_conv2d", "depthwise_conv2d then a 1x1"), ("layer_norm", "RSQRT"),
])
def test_layers_outside_the_firmware_are_refused_with_the_reason(kind, reason):
    with pytest.raises(LayerError, match=reason):
        layers.check_layer({"type": kind})


def test_unsupported_activations_and_unknown_layers_are_refused():
    with pytest.raises(LayerError, match="TANH"):
        layers.check_layer({"type": "dense", "units": 4, "activation": "tanh"})
    with pytest.raises(LayerError, match="LOGISTIC"):
        layers.check_layer({"type": "conv1d", "activation": "sigmoid"})
    with pytest.raises(LayerError, match="unknown layer 'wavelet'"):
        layers.check_layer({"type": "wavelet"})
    with pytest.raises(LayerError, match="units must be at least 1"):
        layers.check_layer({"type": "dense", "units": 0})
    with pytest.raises(LayerError, match="unknown parameter"):
        layers.check_layer({"type": "dense", "kernel": 3})


def test_shapes_params_and_macs_are_worked_out_without_tensorflow():
    arch = layers.plan(layers.template((49, 13), "mfcc")[1], (49, 13), 4)
    shapes = [p.output for p in arch.layers]
    assert shapes == [(49, 8), (24, 8), (24, 8), (24, 16), (12, 16), (12, 16), (192,), (4,)]
    assert [p.params for p in arch.layers] == [3 * 13 * 8 + 8, 0, 0, 3 * 8 * 16 + 16, 0, 0, 0, 192 * 4 + 4]
    assert arch.macs == 49 * 3 * 13 * 8 + 24 * 3 * 8 * 16 + 192 * 4
    dense = layers.plan(layers.template((33,), "spectral")[1], (33,), 3)
    assert [p.output for p in dense.layers] == [(20,), (10,), (3,)] and dense.params == 33 * 20 + 20 + 210 + 33
    image = layers.plan(layers.template((99, 65), "spectrogram")[1], (99, 65), 3)
    assert image.layers[0].output == (50, 33, 8) and "one-channel image" in image.notes[0]


def test_layers_that_do_not_fit_name_the_layer_and_the_fix():
    with pytest.raises(LayerError, match="layer 1 \\(dense\\).*add flatten"):
        layers.plan([{"type": "dense"}], (10, 3), 2)
    with pytest.raises(LayerError, match="layer 2 \\(conv1d\\).*kernel of 9 does not fit"):
        layers.plan([{"type": "max_pool1d", "pool_size": 4}, {"type": "conv1d", "kernel_size": 9, "padding": "valid"}],
                    (20, 3), 2)
    with pytest.raises(LayerError, match="folded into a layer without activation"):
        layers.plan([{"type": "conv1d"}, {"type": "batch_norm"}], (20, 3), 2)
    with pytest.raises(LayerError, match="must follow a dense or convolution"):
        layers.plan([{"type": "flatten"}, {"type": "batch_norm"}], (20, 3), 2)
    with pytest.raises(LayerError, match="cannot reshape"):
        layers.plan([{"type": "reshape", "shape": [7, -1]}], (20, 3), 2)
    with pytest.raises(LayerError, match="at least two labels"):
        layers.plan([], (20,), 1)
    reshaped = layers.plan([{"type": "reshape", "shape": [-1, 3]}, {"type": "conv1d"}], (60,), 2)
    assert reshaped.layers[0].output == (20, 3)


EDITED = [  # every supported layer kind at least once
    {"type": "reshape", "shape": [20, 6, 1]},
    {"type": "conv2d", "filters": 4, "kernel_size": 3, "activation": "none"},
    {"type": "batch_norm", "activation": "relu6"},
    {"type": "depthwise_conv2d", "kernel_size": 3, "depth_multiplier": 2, "activation": "relu"},
    {"type": "avg_pool2d", "pool_size": 2},
    {"type": "max_pool2d", "pool_size": 2, "padding": "same"},
    {"type": "reshape", "shape": [-1, 8]},
    {"type": "conv1d", "filters": 6, "kernel_size": 2, "strides": 2, "activation": "relu6"},
    {"type": "avg_pool1d", "pool_size": 1},
    {"type": "max_pool1d", "pool_size": 1},
    {"type": "flatten"},
    {"type": "dropout", "rate": 0.1},
    {"type": "dense", "units": 8, "activation": "none"},
    {"type": "batch_norm", "activation": "relu"},
]


@pytest.mark.parametrize("shape, block, edited", [
    ((33,), "spectral", None), ((49, 13), "mfcc", None), ((49, 65), "spectrogram", None), ((120,), "raw", EDITED),
])
def test_models_convert_to_firmware_operators_only(shape, block, edited):
    from studio.learn import convert, keras_model
    from studio.learn.reference import Reference
    from studio.learn.tf_env import seed_everything, tfmot

    arch = layers.plan(edited or layers.template(shape, block)[1], shape, 3)
    seed_everything(3)
    model = keras_model.build(arch)
    assert model.count_params() == arch.params
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, *shape)).astype(np.float32)
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, rng.integers(0, 3, 64), epochs=1, verbose=0)
    ops_float = convert.operators(convert.to_float(model))
    int8 = convert.to_int8(model, x[:32])
    qat = tfmot().quantization.keras.quantize_model(model)
    ops_qat = convert.operators(convert.to_int8(qat, x[:32]))
    for ops in (ops_float, convert.operators(int8), ops_qat):
        assert set(ops) <= layers.FIRMWARE_OPS and ops[-2:] == ["FULLY_CONNECTED", "SOFTMAX"]
    if any(s["type"] == "batch_norm" for s in arch.specs()):  # folded: no MUL/ADD left behind
        assert "ADD" not in ops_qat and "ADD" not in ops_float
    ref = Reference(int8)
    assert ref.quantized and ref.input_shape == shape
    probs = ref.probabilities(x[:8])
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=0.02)
    keras_probs = model.predict(x[:8], verbose=0)
    assert (probs.argmax(1) == keras_probs.argmax(1)).mean() >= 0.75
