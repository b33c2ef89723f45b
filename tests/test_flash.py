"""Flashing: a port must be chosen, exist and be free; PlatformIO's upload target runs the flasher
and a board that does not answer gets the bootloader hint; the emulated board runs the firmware
under QEMU with its UART on a pseudo-terminal that opens like a board."""

from __future__ import annotations

import os
import shutil
import sys
import time

import pytest

from studio.cortexm import available, build_elf, uart_driver
from studio.deploy.pio import kit as pio_kit
from studio.deploy.running.flash import FlashError, bootloader_hint, check_port, flash_emulated, upload
from studio.devices.serial_source import open_port, read_chunk

PIO = shutil.which("pio") or str(__import__("pathlib").Path(sys.executable).with_name("pio"))


@pytest.fixture
def pty_port():
    master, slave = os.openpty()
    yield os.ttyname(slave)
    os.close(master)
    os.close(slave)


def test_no_port_a_missing_port_and_a_busy_port_are_refused(pty_port, tmp_path):
    with pytest.raises(FlashError, match="no port chosen"):
        check_port(None)
    with pytest.raises(FlashError, match="no such port"):
        check_port(str(tmp_path / "ttyACM9"))
    assert check_port(pty_port) == pty_port
    import serial

    holder = serial.Serial(pty_port, 115200, exclusive=True)
    try:
        with pytest.raises(FlashError, match="busy: another program has it open"):
            check_port(pty_port)
    finally:
        holder.close()
    assert check_port(pty_port) == pty_port


NATIVE_MAIN = "#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n"


def _project(root, upload_command: str):
    (root / "src").mkdir(parents=True)
    (root / "src" / "main.c").write_text(NATIVE_MAIN)
    (root / "platformio.ini").write_text(
        "[env:native]\nplatform = native\nupload_protocol = custom\n"
        f"upload_command = {upload_command}\n")
    return root


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    return pio_kit.install_kit(tmp_path_factory.mktemp("pio-core"), pio=PIO)


def test_upload_runs_the_flasher_on_the_chosen_port_after_releasing_it(kit, pty_port, tmp_path):
    flashed = tmp_path / "flashed"
    project = _project(tmp_path / "ok", f"cp $SOURCE {flashed} && echo port=$UPLOAD_PORT")
    released = []
    lines = []
    result = upload(project, "native", pty_port, kit.core_dir, release=released.append, on_line=lines.append,
                    pio=PIO)
    assert result.ok and released == [pty_port]
    assert flashed.is_file() and any(f"port={pty_port}" in line for line in lines)


def test_a_board_that_does_not_answer_gets_the_bootloader_hint(kit, pty_port, tmp_path):
    project = _project(tmp_path / "silent", "echo No device found on $UPLOAD_PORT && false")
    with pytest.raises(FlashError) as e:
        upload(project, "native", pty_port, kit.core_dir, pio=PIO)
    assert str(e.value) == (f"{pty_port}: the board did not answer: put it in its bootloader (on most boards a "
                            "double press of reset) and flash again")
    assert "No device found" in e.value.log


def test_the_bootloader_hint_follows_the_board_family(tmp_path):
    """ESP32 boards enter their bootloader with the BOOT button, not a double press of reset."""
    from studio.deploy.export.project import export_project

    for board, hint in (("seeed_xiao_esp32s3", "on ESP32 boards hold BOOT, press and release EN or RST, then "
                                               "release BOOT"),
                        ("nano33ble", "on most boards a double press of reset")):
        result = export_project(None, board, tmp_path / board, "capture")
        assert bootloader_hint(result.path, board) == hint, board
    assert bootloader_hint(tmp_path / "nowhere", "esp32dev") == "on most boards a double press of reset"


FIRMWARE = r"""
#include "cmsdk_uart.h"
static const cmsdk_uart_t uart = CMSDK_UART0;
int main(void)
{
    char line[64];
    cmsdk_uart_init(&uart, CMSDK_UART_PCLK_HZ, 115200);
    for (;;) {
        size_t n = cmsdk_uart_read_line(&uart, line, sizeof line);
        cmsdk_uart_puts(&uart, "echo ");
        cmsdk_uart_write(&uart, line, n < sizeof line ? n : sizeof line - 1);
        cmsdk_uart_puts(&uart, "\n");
    }
}
"""


@pytest.mark.skipif(available() is not None, reason=str(available()))
def test_flashing_the_emulated_board_gives_a_port_that_answers(tmp_path):
    with pytest.raises(FlashError, match="no firmware there"):
        flash_emulated(tmp_path / "missing.elf")
    (tmp_path / "fw.c").write_text(FIRMWARE)
    elf = build_elf([tmp_path / "fw.c", uart_driver()], tmp_path / "fw.elf", "cortex-m4",
                    include_dirs=[uart_driver().parent])
    board = flash_emulated(elf)
    try:
        ser = open_port(board.port, 115200)
        try:
            ser.write(b"hello board\n")
            got = b""
            end = time.monotonic() + 10
            while b"\n" not in got and time.monotonic() < end:
                got += read_chunk(ser, board.port)
            assert got.startswith(b"echo hello board\n")
        finally:
            ser.close()
    finally:
        board.stop()
    assert not board.running
