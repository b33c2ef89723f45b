"""Estimates against measurements: the latency model against instruction counts under QEMU for the
reference models and the default motion and keyword models; flash and RAM against the linked
images; verdicts on crafted boards and models; energy and battery life; the CLI."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from conftest import SHARED, run_cli
from support.tflite_factory import Builder, _bias, _weights

from studio.boards import get_board, load_boards
from studio.cortexm import available, size_of
from studio.estimate.cost_model import CPI, costs_for
from studio.estimate.estimate import EstimateError, EstimateParams, can_estimate, run, verdict
from studio.jobs import Progress

pytestmark = pytest.mark.skipif(available() is not None, reason=f"{available()} (installer/setup.sh installs it)")

MODELS = sorted((SHARED / "reference_models").glob("*.tflite"))
M4 = get_board("virtual-cortex-m4")


def _estimate(board=M4, **kw):
    return run(EstimateParams(board, **kw), Progress())


@pytest.fixture(scope="module", params=[p.stem for p in MODELS])
def reference(request, tmp_path_factory):
    model = (SHARED / "reference_models" / f"{request.param}.tflite").read_bytes()
    work = tmp_path_factory.mktemp(request.param)
    return request.param, model, _estimate(model=model, source=request.param, work=work), work


def test_latency_model_is_within_15_percent_of_qemu_on_the_reference_models(reference):
    name, _, e, _ = reference
    modelled, counted = e.instructions["network"], e.measured["network"]
    print(f"{name}: modelled {modelled:,} counted {counted:,} ({(modelled - counted) / counted:+.1%})")
    assert abs(modelled - counted) <= 0.15 * counted
    # times follow from the same instructions, the core's factor and the board's clock
    assert e.latency["network"] == pytest.approx(modelled * CPI["cortex-m4"]["cpi"] / (M4.clock_mhz * 1e3))
    assert sum(row.instructions for row in e.layers) == modelled


def test_ram_is_the_arena_plus_buffers_and_flash_the_linked_image(reference):
    _, _, e, work = reference
    from studio.compiler import compile_model

    compiled = compile_model(reference[1], work / "again")
    assert e.ram["arena"] == compiled.arena_bytes
    assert e.flash["weights"] == compiled.weight_bytes
    linked = size_of(work / "probe" / "probe.elf")
    base = size_of(work / "probe" / "base.elf")
    assert e.flash["total"] == (linked.text + linked.data) - (base.text + base.data)
    assert e.ram["total"] == (linked.data + linked.bss) - (base.data + base.bss) + e.ram["stack"]
    assert sum(v for k, v in e.flash.items() if k != "total") == e.flash["total"]
    assert sum(v for k, v in e.ram.items() if k != "total") == e.ram["total"]
    assert 0 < e.flash["library"] <= 0.02 * e.flash["total"]  # memcpy, memset and alignment
    assert e.flash["caller"] < 100  # the probe's calls
    assert e.ram["model other"] == 0 and e.ram["library"] == 0
    assert 100 < e.ram["stack"] < 2048


def test_default_motion_and_keyword_impulses(gesture_run, keyword_run, tmp_path):
    for run_ in (gesture_run.run, keyword_run.run):
        e = _estimate(run=run_, work=tmp_path / f"run{id(run_)}")
        counted = e.measured["network"]
        print(e.source, e.instructions, e.measured, e.flash, e.ram)
        assert abs(e.instructions["network"] - counted) <= 0.15 * counted
        assert e.instructions["dsp"] > 0 and e.latency["dsp"] > 0
        # the DSP's buffers and the window (raw floats) are in RAM, its tables in flash
        f = run_.config["framing"]
        # the window of raw floats, the features and the scores
        classes = len(run_.config["classes"])
        features = int(np.prod(run_.config["feature_shape"]))
        assert e.ram["window and io buffers"] == 4 * (f["window_frames"] * f["axes"] + features + classes)
        assert e.ram["dsp buffers"] > 0 and e.flash["dsp"] > 0
        assert e.instructions["io"] > 0  # quantising the features, dequantising the scores
        assert e.latency["total"] == pytest.approx(e.latency["dsp"] + e.latency["network"] + e.latency["io"]
                                                   + e.latency["anomaly"])


def _big_activation_model() -> bytes:
    """A 3x3 convolution over 64x64x16: 64 KB in, 64 KB out (the planner overlaps them by all but a few rows)."""
    rng = np.random.default_rng(7)
    b = Builder(rng)
    s = b.s
    x = b.act((1, 64, 64, 16))
    wt, ws, wz, axis = _weights(rng, (16, 3, 3, 16), True, 16, 0)
    o = s.Conv2DOptionsT()
    o.padding, o.strideH, o.strideW, o.dilationHFactor, o.dilationWFactor = 0, 1, 1, 1, 1
    y = b.act((1, 64, 64, 16))
    b.op("CONV_2D", [x.index, b.tensor(wt.shape, s.TensorType.INT8, ws, wz, wt, axis), _bias(b, x.scale, ws, 16)],
         [y.index], s.BuiltinOptions.Conv2DOptions, o)
    return b.finish([x.index], [y.index])


def test_verdicts_on_crafted_boards(tmp_path):
    model = _big_activation_model()
    base = get_board("nano33ble")
    results = {}
    for ram_kb in (256, 80, 64):
        board = dataclasses.replace(base, ram_kb=ram_kb, id=f"ram{ram_kb}",
                                    program={**base.program, "ram_bytes": ram_kb * 1024})
        results[ram_kb] = _estimate(board, model=model, work=tmp_path / str(ram_kb))
    ram = results[256].ram["total"]
    assert 0.8 * 80 * 1024 < ram < 80 * 1024
    assert [results[k].verdicts["ram"] for k in (256, 80, 64)] == ["fits", "tight", "does not fit"]
    assert verdict(100, 100) == "tight" and verdict(80, 100) == "fits" and verdict(101, 100) == "does not fit"
    assert verdict(5, None) == "no limit"


def test_flash_verdict_and_energy_and_battery(tmp_path):
    model = (SHARED / "reference_models" / "ad01_int8.tflite").read_bytes()  # 279 KB of weights
    base = get_board("nano33ble")
    small = dataclasses.replace(base, flash_kb=256, id="flash256", program={**base.program, "flash_bytes": 256 * 1024})
    e = _estimate(small, model=model, work=tmp_path / "a")
    assert e.verdicts["flash"] == "does not fit"
    b = get_board("nano33ble")
    e = _estimate(b, model=model, work=tmp_path / "b")
    assert e.verdicts["flash"] == "fits"
    assert e.energy_uj == pytest.approx(e.latency["total"] * b.supply_voltage_v * b.active_current_ma)
    hours = e.battery_hours(1000.0, 1.0)
    duty = e.latency["total"] / 1000.0
    expected = 1000.0 / (duty * b.active_current_ma + (1 - duty) * b.sleep_current_ua / 1000.0)
    assert hours == pytest.approx(expected)
    assert e.battery_hours(1000.0, 1e6) is None  # cannot keep up


def test_modelled_cores_say_so(tmp_path):
    model = (SHARED / "reference_models" / "kws_ref_model.tflite").read_bytes()
    e = _estimate(get_board("esp32dev"), model=model, work=tmp_path)
    assert e.modelled and "Xtensa" in e.modelled and e.core == "cortex-m3"
    assert any("Xtensa" in n for n in e.notes)
    assert costs_for("cortex-m4f").modelled is None


def test_cli_estimate_model_and_project(gesture_project, tmp_path):
    kws = SHARED / "reference_models" / "kws_ref_model.tflite"
    done = run_cli("estimate", "--model", str(kws), "--board", "nano33ble", "--json")
    assert done.returncode == 0, done.stderr
    d = json.loads(done.stdout)
    for key in ("macs", "flash_bytes", "ram_bytes", "latency_ms", "energy_uj", "limits", "verdicts", "layers"):
        assert key in d
    assert d["macs"] == 2_656_768 and d["verdicts"] == {"flash": "fits", "ram": "fits"}
    assert len(d["layers"]) == 12 and d["layers"][0]["op"] == "CONV_2D"
    done = run_cli("estimate", str(gesture_project), "--board", "nano33ble", "--board", "esp32dev",
                   "--battery-mah", "500", "--rate", "2")
    assert done.returncode == 0, done.stderr
    assert "Arduino Nano 33 BLE" in done.stdout and "battery 500 mAh" in done.stdout
    assert "Xtensa" in done.stderr
    bad = run_cli("estimate", "--model", str(tmp_path / "none.tflite"), "--board", "nano33ble")
    assert bad.returncode == 1 and "cannot read" in bad.stderr
    bad = run_cli("estimate", "--model", str(kws), "--board", "no-such-board")
    assert bad.returncode == 1 and "no-such-board" in bad.stderr


def test_boards_without_a_latency_model_are_refused_naming_those_with_one(tmp_path):
    """The host computer has no latency model: the CLI refuses it before estimating any board, in one line
    that lists the boards it can estimate; the job refuses it the same way."""
    kws = SHARED / "reference_models" / "kws_ref_model.tflite"
    bad = run_cli("estimate", "--model", str(kws), "--board", "nano33ble", "--board", "host-native")
    assert bad.returncode == 1 and bad.stdout == ""
    line = bad.stderr.strip()
    assert "\n" not in line and line.startswith("tinyml-studio: error: host-native: no latency model for core 'host'; "
                                               "boards that can be estimated: nano33ble, "), line
    listed = line.split("estimated: ")[1].split(", ")
    estimable = [b.id for b in load_boards() if b.core != "host"]
    assert listed == estimable and "host-native" not in listed and "virtual-cortex-m4" in listed
    assert [b.id for b in load_boards() if can_estimate(b)] == estimable
    with pytest.raises(EstimateError) as caught:
        _estimate(get_board("host-native"), model=kws.read_bytes(), work=tmp_path)
    assert str(caught.value) == line.removeprefix("tinyml-studio: error: ")


def test_verdicts_use_what_a_program_may_take_not_the_chips_memory(tmp_path):
    """The Nano 33 BLE's bootloader keeps 64 KB: 983,040 bytes of the 1 MiB flash are a program's."""
    model = (SHARED / "reference_models" / "ad01_int8.tflite").read_bytes()
    base = get_board("nano33ble")
    assert base.program_flash_bytes == 983_040
    e = _estimate(base, model=model, work=tmp_path / "a")
    assert e.limits["flash_bytes"] == 983_040
    flash = e.flash["total"]
    between = dataclasses.replace(base, id="between", flash_kb=base.flash_kb,
                                  program={**base.program, "flash_bytes": int(flash / 0.9)})
    assert _estimate(between, model=model, work=tmp_path / "b").verdicts["flash"] == "tight"


def test_the_estimate_says_where_the_frames_come_from(gesture_run, keyword_run, tmp_path):
    e = _estimate(get_board("nano33ble"), run=gesture_run.run, work=tmp_path / "imu")
    assert e.input == {"source": "lsm9ds1", "frames_per_s": 100.0, "sensor_hz": 119.0, "keeps_up": True}
    assert any("LSM9DS1 runs at 119 Hz" in n for n in e.notes)
    e = _estimate(get_board("disco_l475vg_iot01a"), run=keyword_run.run, work=tmp_path / "audio")
    assert e.input["source"] == "serial" and e.input["baud"] == 921600 and not e.input["keeps_up"]
    assert any("has no microphone driver" in n or "no driver for MP34DT01" in n for n in e.notes)
    assert any("cannot keep up" in n for n in e.notes)
