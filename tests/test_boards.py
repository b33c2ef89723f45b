"""The board catalogue: every file valid, the required boards present, bad files refused."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import ROOT, SHARED

from studio.boards import CORES, BoardError, get_board, load_boards
from studio.boards.registry import load_board_file
from studio.paths import boards_dir

REQUIRED = {
    "nano33ble", "nanorp2040connect", "pico", "esp32dev", "esp32-s3-devkitc-1", "seeed_xiao_esp32s3",
    "nano33ble_rev2", "nucleo_l476rg", "disco_l475vg_iot01a", "nucleo_h743zi", "nrf52840_dk", "portenta_h7_m7",
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
        (lambda d: d.update(program=None), "program .* is required for real boards"),
        (lambda d: d["program"].update(flash_bytes=0), "must be positive whole numbers"),
        (lambda d: d["program"].update(note=" "), "program.note must say where the limits come from"),
        (lambda d: d.update(serial={"usb": "wifi", "bridge": None, "max_baud": None, "note": ""}), "serial.usb"),
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


# ---------------------------------------------------------------- the catalogue against PlatformIO's manifests

MANIFESTS = SHARED / "platformio-manifests"


def manifest(board):
    path = MANIFESTS / board.platformio["platform"] / "boards" / f"{board.platformio['board']}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _mcu(text):
    return text.lower().replace("-", "").replace(" ", "")


needs_manifests = pytest.mark.skipif(not MANIFESTS.is_dir(), reason="../shared/platformio-manifests is missing")
REAL = [b for b in load_boards() if not b.virtual]


@needs_manifests
@pytest.mark.parametrize("board", REAL, ids=lambda b: b.id)
def test_every_board_agrees_with_its_platforms_manifest(board):
    m = manifest(board)
    assert m is not None, f"{board.id}: no board {board.platformio['board']!r} in {board.platformio['platform']}"
    upload, build = m["upload"], m["build"]
    assert board.platformio["framework"] in m["frameworks"]
    # the MCU: PlatformIO's part number and the catalogue's name agree on the chip (stm32l475vgt6 ~ STM32L475VG)
    ours, theirs = _mcu(board.mcu), _mcu(build["mcu"])
    assert ours.startswith(theirs) or theirs.startswith(ours.split("(")[0]), (board.mcu, build["mcu"])
    assert board.clock_mhz == int(build["f_cpu"].rstrip("L")) / 1e6
    # what a program may take equals PlatformIO's upload limits, or the board file says why not, with the number
    for ours_bytes, key in ((board.program["flash_bytes"], "maximum_size"), (board.program["ram_bytes"],
                                                                            "maximum_ram_size")):
        if ours_bytes != upload[key]:
            assert f"{upload[key]:,}" in board.program["note"], (board.id, key, ours_bytes, upload[key])
    # the chip's memories are at least what a program may take, unless the note says why
    assert board.program["flash_bytes"] <= board.flash_kb * 1024 or "flash" in board.program["note"]
    assert board.program["ram_bytes"] <= board.ram_kb * 1024 or "RAM" in board.program["note"]


@needs_manifests
def test_every_manifest_toolchain_the_platforms_allow_is_known():
    """The lowest GCC each platform installs for Arm boards is what docs/boards.md and the old-toolchain test
    assume (GCC 6.3 for nordicnrf52 and ststm32, 9.2.1 for raspberrypi)."""
    lowest = {}
    for platform in ("nordicnrf52", "ststm32", "raspberrypi"):
        spec = json.loads((MANIFESTS / platform / "platform.json").read_text())["packages"][
            "toolchain-gccarmnoneeabi"]["version"]
        lowest[platform] = spec
    assert lowest == {"nordicnrf52": ">=1.60301.0,<1.80000.0", "ststm32": ">=1.60301.0,<1.80000.0",
                      "raspberrypi": "~1.90201.0"}


def test_the_xiao_nrf52840_sense_is_not_offered():
    """No official PlatformIO platform knows the board id; the export would stop with 'Unknown board ID'."""
    with pytest.raises(BoardError, match="unknown board 'xiaoblesense'"):
        get_board("xiaoblesense")
    if MANIFESTS.is_dir():
        assert not (MANIFESTS / "nordicnrf52" / "boards" / "xiaoblesense.json").exists()


def test_nano33ble_revisions_share_the_platformio_board_with_their_own_imu():
    rev1, rev2 = get_board("nano33ble"), get_board("nano33ble_rev2")
    assert rev1.platformio == rev2.platformio
    assert rev1.sensors["imu"] == ["LSM9DS1"] and rev2.sensors["imu"][0].startswith("BMI270")
    assert rev2.sensors["microphone"] == ["MP34DT06JTR"]


def test_docs_say_for_every_real_board_what_the_export_uses_and_what_was_checked():
    text = (ROOT / "docs" / "boards.md").read_text()
    section = text[text.index("## Per board"):text.index("### Boards not offered")]
    for board in REAL:
        assert f"| `{board.id}` |" in section, board.id
