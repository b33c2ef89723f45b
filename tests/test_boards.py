"""The board catalogue: every file valid, the required boards present, bad files refused."""

from __future__ import annotations

import json
import shutil

import pytest

from studio.boards import CORES, BoardError, get_board, load_boards
from studio.boards.registry import load_board_file
from studio.paths import boards_dir

REQUIRED = {
    "nano33ble", "nanorp2040connect", "pico", "esp32dev", "esp32-s3-devkitc-1", "seeed_xiao_esp32s3",
    "xiaoblesense", "nucleo_l476rg", "disco_l475vg_iot01a", "nucleo_h743zi", "nrf52840_dk", "portenta_h7_m7",
    "nicla_sense_me", "host-native", "virtual-cortex-m4",
}


def test_catalogue_has_the_required_boards_and_valid_facts():
    boards = load_boards()
    ids = {b.id for b in boards}
    assert ids >= REQUIRED
    real = [b for b in boards if not b.virtual]
    assert len(real) >= 12
    for b in real:
        assert b.core in CORES and b.clock_mhz > 0 and b.flash_kb > 0 and b.ram_kb > 0
        assert b.active_current_ma > 0 and b.sleep_current_ua > 0 and b.supply_voltage_v > 0
        assert b.platformio["platform"] and b.platformio["board"] and b.url.startswith("http")


def test_virtual_cortex_m4_matches_the_emulated_board():
    b = get_board("virtual-cortex-m4")
    assert (b.core, b.clock_mhz, b.flash_kb, b.ram_kb) == ("cortex-m4f", 25, 4096, 4096)
    assert b.extra["qemu_machine"] == "mps2-an386" and b.virtual


def test_sense_boards_list_their_sensors():
    nano = get_board("nano33ble")
    assert nano.has_imu and nano.has_microphone and nano.dsp_simd and nano.fpu == "single"
    assert not get_board("pico").has_imu


def test_unknown_board_is_a_clear_error():
    with pytest.raises(BoardError, match="unknown board 'nope'"):
        get_board("nope")


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d.pop("clock_mhz"), "missing clock_mhz"),
        (lambda d: d.update(core="z80"), "core 'z80'"),
        (lambda d: d.update(ram_kb=-5), "ram_kb must be a positive number"),
        (lambda d: d.update(flash_kb=1.5), "whole number"),
        (lambda d: d.update(active_current_ma=None), "only virtual boards"),
        (lambda d: d.update(colour="red"), "unknown key"),
        (lambda d: d.update(sensors={"imu": []}), "sensors must map"),
    ],
)
def test_invalid_board_files_are_refused_naming_the_file(tmp_path, change, message):
    folder = tmp_path / "boards"
    shutil.copytree(boards_dir(), folder)
    f = folder / "nano33ble.json"
    data = json.loads(f.read_text())
    change(data)
    f.write_text(json.dumps(data))
    with pytest.raises(BoardError, match=message) as err:
        load_board_file(f)
    assert str(f) in str(err.value)


def test_file_name_must_match_the_id(tmp_path):
    f = tmp_path / "other.json"
    f.write_text((boards_dir() / "pico.json").read_text())
    with pytest.raises(BoardError, match="file name must be the board id"):
        load_board_file(f)
