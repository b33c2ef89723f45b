"""The sensors of the boards people own: the rate each IMU runs at for the impulse, the register writes that set
it (checked on a host stand-in of the libraries), libraries and pins the boards need, and what a board's serial
port carries when the frames come from the computer."""

from __future__ import annotations

import dataclasses
import subprocess

import numpy as np
import pytest
from conftest import have
from support.stand_in import host_firmware, register_writes

from studio.boards import get_board
from studio.boards.drivers import DRIVERS, RateError, sensor_rate
from studio.boards.serial_link import serial_link
from studio.deploy.export.project import ExportError, export_project
from studio.deploy.running.result_line import ResultLine, parse_line

needs_gxx = pytest.mark.skipif(not have("g++"), reason="g++ is not installed")
BY_ID = {d.id: d for d in DRIVERS}


@pytest.mark.parametrize("driver, fs, rate, code", [
    ("lsm9ds1", 100, 119, 3), ("lsm9ds1", 200, 238, 4), ("lsm9ds1", 50, 59.5, 2), ("lsm9ds1", 952, 952, 6),
    ("lsm9ds1", 14.9, 14.9, 1), ("bmi270", 100, 100, 8), ("bmi270", 62.5, 100, 8), ("bmi270", 1600, 1600, 12),
    ("lsm6dsox", 100, 104, 4), ("lsm6dsox", 104.2, 104, 4), ("lsm6dsox", 50, 52, 3), ("lsm6dsl", 200, 208, None),
    ("bhy2", 100, 100, None),
])
def test_an_imu_runs_at_its_lowest_rate_at_or_above_the_impulses(driver, fs, rate, code):
    r = sensor_rate(BY_ID[driver], fs)
    assert (r.hz, r.code) == (rate, code)
    assert (r.note is None) == (abs(rate - fs) <= 0.005 * fs)


@pytest.mark.parametrize("driver, fs, top", [("lsm9ds1", 1000, 952), ("bmi270", 3200, 1600), ("bhy2", 800, 400),
                                             ("lsm6dsox", 10000, 6660)])
def test_an_impulse_faster_than_the_sensor_is_refused_with_both_rates(driver, fs, top):
    with pytest.raises(RateError, match=f"samples at {fs:g} Hz; the .* gives at most {top:g} Hz"):
        sensor_rate(BY_ID[driver], fs)


def at_rate(run, fs):
    """The run as if it had been designed at ``fs`` Hz (the compiled model does not depend on it)."""
    framing = {**run.config["framing"], "frequency_hz": fs}
    return dataclasses.replace(run, config={**run.config, "framing": framing})


def test_the_export_refuses_an_impulse_the_sensor_cannot_feed(gesture_run, tmp_path):
    with pytest.raises(ExportError, match="board nano33ble: the impulse samples at 2000 Hz; the LSM9DS1 .* at "
                                          "most 952 Hz"):
        export_project(at_rate(gesture_run.run, 2000.0), "nano33ble", tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_the_export_says_when_the_sensor_runs_at_another_rate(gesture_run, tmp_path):
    result = export_project(gesture_run.run, "nano33ble", tmp_path / "fw")
    assert any("LSM9DS1 runs at 119 Hz" in n and "100 Hz" in n for n in result.notes)
    header = (result.path / "src" / "sensor.h").read_text()
    assert "#define SENSOR_RATE_HZ 119.0f" in header and "accelerationAvailable()" in header


def _stand_in_run(run, board, fs, folder):
    result = export_project(at_rate(run, fs), board, folder / "fw")
    program = host_firmware(result.path, folder / "build")
    window = run.config["framing"]["window_frames"]
    frames = np.random.default_rng(1).normal(0, 0.5, (window * 3, 3))
    text = "".join(",".join(f"{v:.6f}" for v in f) + "\n" for f in frames)
    ran = subprocess.run([str(program)], input=text, capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, ran.stderr[-2000:]
    lines = [p for p in map(parse_line, ran.stdout.splitlines()) if isinstance(p, ResultLine)]
    stride = run.config["framing"]["stride_frames"]
    return register_writes(ran.stderr), len(lines), 1 + (len(frames) - window) // stride


@needs_gxx
@pytest.mark.parametrize("board, fs, writes", [
    ("nano33ble", 200.0, {("Wire1", 0x6B, 0x10): 0x98, ("Wire1", 0x6B, 0x20): 0x90}),  # 238 Hz, FS kept
    ("nano33ble_rev2", 200.0, {("Wire1", 0x68, 0x40): 0x99, ("Wire1", 0x68, 0x42): 0xA9}),  # 200 Hz
    ("nanorp2040connect", 50.0, {("Wire", 0x6A, 0x10): 0x3A, ("Wire", 0x6A, 0x11): 0x3C}),  # 52 Hz
])
def test_the_firmware_sets_the_rate_and_takes_every_fresh_reading_once(gesture_run, tmp_path, board, fs, writes):
    """The stand-in libraries start their registers as the real ones do and have a new reading ready on every
    other call only: the firmware changes only the rate bits and still classifies every window."""
    got, results, expected = _stand_in_run(gesture_run.run, board, fs, tmp_path)
    assert got == writes
    assert results == expected


def test_the_nicla_sense_me_gets_arduinoble_for_arduino_bhy2(gesture_run, tmp_path):
    for target, run in (("firmware", gesture_run.run), ("capture", None)):
        result = export_project(run, "nicla_sense_me", tmp_path / target, target)
        ini = (result.path / "platformio.ini").read_text()
        assert "arduino-libraries/Arduino_BHY2" in ini and "arduino-libraries/ArduinoBLE" in ini


def test_the_disco_iot_board_reads_its_imu_on_i2c2_pb11_pb10(gesture_run, tmp_path):
    result = export_project(gesture_run.run, "disco_l475vg_iot01a", tmp_path / "fw")
    header = (result.path / "src" / "sensor.h").read_text()
    assert "static TwoWire sensor_i2c(PB11, PB10);" in header
    assert "D33" not in header.replace("D33 and D34 are PA8 and PB5", "")
    assert "Set_X_ODR(SENSOR_RATE_HZ)" in header and "#define SENSOR_RATE_HZ 104.0f" in header


@pytest.mark.parametrize("board, baud, keeps_up", [("disco_l475vg_iot01a", 921600, False),
                                                     ("nrf52840_dk", 1000000, False),
                                                     ("esp32-s3-devkitc-1", 2000000, True), ("pico", 115200, True)])
def test_audio_over_the_serial_port_raises_the_baud_and_says_what_arrives(keyword_run, tmp_path, board, baud,
                                                                        keeps_up):
    run = keyword_run.run
    fs = run.config["framing"]["frequency_hz"]
    link = serial_link(get_board(board), fs, 1, True)
    assert (link.baud, link.keeps_up) == (baud, keeps_up)
    result = export_project(run, board, tmp_path / "fw")
    note = next(n for n in result.notes if "frames/s" in n)
    assert note == link.note()
    assert ("cannot keep up" in note) == (not keeps_up)
    assert f"monitor_speed = {baud}" in (result.path / "platformio.ini").read_text()
    assert f"#define BAUD {baud}" in (result.path / "src" / "main.cpp").read_text()


def test_a_native_usb_board_ignores_the_baud_and_a_slow_bridge_keeps_115200():
    assert serial_link(get_board("nano33ble"), 16000, 1, True).carried_per_s is None
    nicla = serial_link(get_board("nicla_sense_me"), 16000, 1, True)
    assert nicla.baud == 115200 and not nicla.keeps_up and "1,440 frames/s of the 16,000" in nicla.note()


I2S_H = """\
#pragma once
#include <Arduino.h>
/* arduino-esp32 2.0.17's libraries/I2S/src/I2S.h: the calls the sensor code makes, with their signatures */
typedef enum { I2S_PHILIPS_MODE, I2S_RIGHT_JUSTIFIED_MODE, I2S_LEFT_JUSTIFIED_MODE, ADC_DAC_MODE, PDM_STEREO_MODE,
               PDM_MONO_MODE } i2s_mode_t;
class I2SClass {
public:
    int pins[5] = {0, 0, 0, 0, 0};
    int mode = -1, rate = 0, bits = 0;
    int setAllPins(int sckPin, int fsPin, int sdPin, int outSdPin, int inSdPin) {
        pins[0] = sckPin; pins[1] = fsPin; pins[2] = sdPin; pins[3] = outSdPin; pins[4] = inSdPin; return 1;
    }
    int begin(int m, int sampleRate, int bitsPerSample) { mode = m; rate = sampleRate; bits = bitsPerSample; return 1; }
    int available() { return 512; }  /* bytes */
    int read(void *buffer, size_t size) {  /* bytes */
        size_t got = fread(buffer, 1, size, stdin);
        if (got == 0) stub_done = 1;
        return (int)got;
    }
};
I2SClass I2S;
void stub_poll(void) {
    static int said;
    if (!said++) fprintf(stderr, "#i2s pins %d %d %d %d %d mode %d rate %d bits %d\\n", I2S.pins[0], I2S.pins[1],
                         I2S.pins[2], I2S.pins[3], I2S.pins[4], I2S.mode, I2S.rate, I2S.bits);
}
"""


@needs_gxx
def test_the_xiao_esp32s3_microphone_code_matches_arduino_esp32_2_0_17s_i2s(keyword_run, tmp_path):
    run = keyword_run.run
    result = export_project(run, "seeed_xiao_esp32s3", tmp_path / "fw")
    (tmp_path / "extra").mkdir()
    (tmp_path / "extra" / "I2S.h").write_text(I2S_H)
    program = host_firmware(result.path, tmp_path / "build", extra_stubs=tmp_path / "extra")
    window = run.config["framing"]["window_frames"]
    samples = (np.random.default_rng(2).normal(0, 3000, window * 2)).astype("<i2")
    ran = subprocess.run([str(program)], input=samples.tobytes(), capture_output=True, timeout=60)
    assert ran.returncode == 0
    fs = int(run.config["framing"]["frequency_hz"])
    assert f"#i2s pins -1 42 41 -1 -1 mode 5 rate {fs} bits 16" in ran.stderr.decode()
    assert any(isinstance(parse_line(line), ResultLine) for line in ran.stdout.decode().splitlines())
