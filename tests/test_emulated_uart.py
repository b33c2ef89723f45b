"""The emulated board's UART: firmware under QEMU talks to the app through a pseudo-terminal like a USB board.

The test firmware reads data-forwarder lines (comma-separated floats), keeps a sliding window and sends
one result line per hop; its float32 arithmetic must match numpy's exactly. Skipped without
arm-none-eabi-gcc or qemu-system-arm.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from studio.cortexm import CORES, FAULT_EXIT, QemuError, SerialBoard, build_elf, uart_driver
from studio.devices.forwarder import format_line
from studio.devices.serial_source import open_port, read_chunk
from studio.devices.sources import Disconnected

_MISSING = [tool for tool in ("arm-none-eabi-gcc", "qemu-system-arm") if shutil.which(tool) is None]
pytestmark = pytest.mark.skipif(bool(_MISSING), reason=f"{', '.join(_MISSING)} not installed")

WINDOW, HOP = 16, 8

FIRMWARE_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmsdk_uart.h"

#define WINDOW 16 /* readings per window */
#define HOP 8     /* readings between results */
#define AXES_MAX 8

static float ring[WINDOW][AXES_MAX];
static volatile unsigned long ticks;

void SysTick_Handler(void) /* overrides start-up code's weak alias: the UART's sleeping reads must let it run */
{
    ticks++;
}

/* The values of one reading (separated by ',', tab or ';'); -1 when the line is not one. */
static int parse(const char *p, float *out)
{
    int n = 0;
    for (;;) {
        char *end;
        float v = strtof(p, &end);
        if (end == p || n == AXES_MAX) {
            return -1;
        }
        out[n++] = v;
        for (p = end; *p == ' '; p++) {
        }
        if (*p == '\0') {
            return n;
        }
        if (*p != ',' && *p != '\t' && *p != ';') {
            return -1;
        }
        p++;
    }
}

static void window_result(const cmsdk_uart_t *uart, unsigned long readings, int axes)
{
    char out[96];
    float sum = 0.0f, max = ring[readings % WINDOW][0];
    unsigned long r;
    int a;
    for (r = readings - WINDOW; r < readings; r++) { /* oldest first, like the host */
        for (a = 0; a < axes; a++) {
            float v = ring[r % WINDOW][a];
            sum += v;
            max = v > max ? v : max;
        }
    }
    snprintf(out, sizeof out, "n=%lu,sum=%.9g,max=%.9g\r\n", readings, (double)sum, (double)max);
    cmsdk_uart_puts(uart, out);
}

int main(void)
{
    cmsdk_uart_t uart = CMSDK_UART0;
    char line[128], out[96];
    float values[AXES_MAX];
    unsigned long readings = 0, bad = 0, windows = 0;
    int axes = 0;

    cmsdk_uart_init(&uart, CMSDK_UART_PCLK_HZ, 115200);
    *(volatile uint32_t *)0xE000E014u = CMSDK_UART_PCLK_HZ / 1000u - 1u; /* SysTick: about 1 kHz */
    *(volatile uint32_t *)0xE000E010u = 7u;                              /* processor clock, interrupt, on */
    printf("window firmware up\n");
    for (;;) {
        size_t len = cmsdk_uart_read_line(&uart, line, sizeof line);
        int n;
        if (len >= sizeof line) {
            bad++;
        } else if (len == 0 || line[0] == '#') {
            /* a header */
        } else if (strncmp(line, "exit ", 5) == 0) {
            printf("exit requested\n");
            return atoi(line + 5);
        } else if (strcmp(line, "fault") == 0) {
            __builtin_trap();
        } else if (strcmp(line, "stats") == 0) {
            snprintf(out, sizeof out, "readings=%lu,bad=%lu,windows=%lu\r\n", readings, bad, windows);
            cmsdk_uart_puts(&uart, out);
        } else if (strcmp(line, "ticks") == 0) {
            snprintf(out, sizeof out, "ticks=%lu\r\n", ticks);
            cmsdk_uart_puts(&uart, out);
        } else if (strcmp(line, "poll") == 0) { /* the non-blocking read, until the next byte */
            int c, empty = 0;
            while ((c = cmsdk_uart_getc_nowait(&uart)) < 0) {
                empty = 1;
            }
            snprintf(out, sizeof out, "poll=%c,empty=%d\r\n", c, empty);
            cmsdk_uart_puts(&uart, out);
        } else if ((n = parse(line, values)) < 0 || (axes && n != axes)) {
            bad++;
        } else {
            axes = n;
            memcpy(ring[readings % WINDOW], values, sizeof values);
            readings++;
            if (readings >= WINDOW && (readings - WINDOW) % HOP == 0) {
                window_result(&uart, readings, axes);
                windows++;
            }
        }
    }
}
"""


@pytest.fixture(scope="module")
def firmware(tmp_path_factory):
    """Builds the test firmware for a core (once per core)."""
    folder = tmp_path_factory.mktemp("uart-firmware")
    source = folder / "window.c"
    source.write_text(FIRMWARE_C)
    built: dict[str, Path] = {}

    def build(core: str = "cortex-m4") -> Path:
        if core not in built:
            built[core] = build_elf([source, uart_driver()], folder / f"window-{core}.elf", core,
                                    extra_flags=["-Wl,-u,_printf_float"])
        return built[core]

    return build


@pytest.fixture
def board(firmware):
    b = SerialBoard(firmware("cortex-m4"), "cortex-m4")
    b.start()
    yield b
    b.stop()


def readings(n: int, seed: int = 0) -> list[bytes]:
    """3-axis accelerometer-like data-forwarder lines (4 decimals, CRLF)."""
    rng = np.random.default_rng(seed)
    return [format_line(v) for v in rng.normal(0.0, 4.0, (n, 3)) + [0.0, 0.0, 9.81]]


def expected(lines: list[bytes]) -> list[str]:
    """The firmware's result lines, computed in float32 in the firmware's order."""
    values = np.array([[np.float32(float(v)) for v in ln.split(b",")] for ln in lines], dtype=np.float32)
    out = []
    for n in range(WINDOW, len(values) + 1, HOP):
        window = values[n - WINDOW:n].ravel()
        total = np.float32(0.0)
        for v in window:
            total = np.float32(total + v)
        out.append(f"n={n},sum={float(total):.9g},max={float(window.max()):.9g}")
    return out


def read_lines(ser, port: str, count: int, timeout: float = 10.0) -> list[str]:
    """``count`` lines read in chunks, as the app reads a serial board."""
    data = b""
    deadline = time.monotonic() + timeout
    while data.count(b"\n") < count and time.monotonic() < deadline:
        data += read_chunk(ser, port)
    lines = data.decode().splitlines()
    assert len(lines) >= count, f"{len(lines)} of {count} lines within {timeout} s: {data[-200:]!r}"
    return lines


def gone(pid: int) -> bool:
    """No process and no zombie with this pid."""
    return not Path(f"/proc/{pid}").exists()


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_a_realistic_stream_gives_numpy_results_in_time(board):
    lines = readings(1200)
    rate = 400.0  # lines/s: a 400 Hz 3-axis accelerometer
    ser = open_port(board.port, 115200)
    sent_at: list[float] = []

    def stream() -> None:  # paced from a monotonic clock, in 10 ms batches like a real forwarder
        ser.write(b"# accX,accY,accZ\r\n")
        start, i = time.monotonic(), 0
        while i < len(lines):
            due = min(len(lines), int((time.monotonic() - start) * rate) + 1)
            ser.write(b"".join(lines[i:due]))
            i = due
            if i < len(lines):
                time.sleep(0.01)
        sent_at.append(time.monotonic())

    writer = threading.Thread(target=stream, daemon=True)
    try:
        writer.start()
        want = expected(lines)
        got = read_lines(ser, board.port, len(want), timeout=30.0)
        received = time.monotonic()
        writer.join(5.0)
        lag = received - sent_at[0]
        assert got == want
        assert lag < 1.5, f"the last result came {lag:.2f} s after the last reading"
        ser.write(b"stats\n")
        assert read_lines(ser, board.port, 1) == [f"readings=1200,bad=0,windows={len(want)}"]
    finally:
        ser.close()
    assert board.running and board.error is None
    assert board.stdout == "window firmware up\n"  # semihosting still works next to the UART


def test_throughput_when_the_host_writes_as_fast_as_it_can(board):
    lines = readings(2000, seed=1)
    want = expected(lines)
    ser = open_port(board.port, 115200)
    try:
        ser.write(b"stats\n")  # QEMU notices the opened port within a second: not part of the measure
        read_lines(ser, board.port, 1)
        start = time.monotonic()
        # the writes block while the firmware lags: flow control, nothing is lost
        writer = threading.Thread(target=lambda: [ser.write(ln) for ln in lines], daemon=True)
        writer.start()
        got = read_lines(ser, board.port, len(want), timeout=60.0)
        seconds = time.monotonic() - start
        writer.join(5.0)
    finally:
        ser.close()
    assert got == want
    print(f"\nemulated UART: {len(lines) / seconds:.0f} lines/s ({sum(map(len, lines)) / seconds / 1000:.1f} KB/s)")
    assert len(lines) / seconds > 200


@pytest.mark.parametrize("core", sorted(CORES))
def test_uart0_of_every_board(firmware, core):
    lines = readings(40, seed=2)
    with SerialBoard(firmware(core), core) as b:
        ser = open_port(b.port, 115200)
        try:
            ser.write(b"".join(lines))
            assert read_lines(ser, b.port, 4) == expected(lines)
        finally:
            ser.close()


def test_bad_lines_long_lines_and_the_non_blocking_read(board):
    ser = open_port(board.port, 115200)
    try:
        ser.write(b"1.5," * 60 + b"1\r\n" + b"hello\n" + b"1,2,3\n" + b"1,2\n" + b"\r\n" + b"stats\n")
        assert read_lines(ser, board.port, 1) == ["readings=1,bad=3,windows=0"]
        ser.write(b"poll\n")
        time.sleep(0.3)
        ser.write(b"Z")
        assert read_lines(ser, board.port, 1) == ["poll=Z,empty=1"]
    finally:
        ser.close()


def test_waiting_for_input_sleeps_and_timer_interrupts_still_run(board):
    ser = open_port(board.port, 115200)
    try:
        ser.write(b"ticks\n")
        before = int(read_lines(ser, board.port, 1)[0].split("=")[1])
        cpu = cpu_seconds(board.pid)
        time.sleep(1.0)  # the firmware waits in cmsdk_uart_read_line
        idle_cpu = cpu_seconds(board.pid) - cpu
        ser.write(b"ticks\n")
        after = int(read_lines(ser, board.port, 1)[0].split("=")[1])
    finally:
        ser.close()
    assert 500 < after - before < 5000  # SysTick at about 1 kHz kept running
    assert idle_cpu < 0.3, f"an idle board used {idle_cpu:.2f} s of CPU in 1 s (a polling loop uses 1)"


def test_the_port_closes_and_reopens_while_the_firmware_runs(firmware, tmp_path):
    lines = readings(64, seed=3)
    link = tmp_path / "ttyBOARD"
    with SerialBoard(firmware("cortex-m4"), "cortex-m4", link=link) as b:
        assert b.port == str(link) and link.resolve() == Path(b.pty_path)
        ser = open_port(b.port, 115200)
        ser.write(b"".join(lines[:40]))
        assert read_lines(ser, b.port, 4) == expected(lines[:40])
        ser.close()
        time.sleep(0.3)
        assert b.running
        ser = open_port(b.port, 9600)  # another baud rate: a pseudo-terminal ignores it
        try:
            ser.write(b"stats\n")  # reaches the firmware within about a second of reopening
            assert read_lines(ser, b.port, 1) == ["readings=40,bad=0,windows=4"]
            ser.write(b"".join(lines[40:]))
            assert read_lines(ser, b.port, 3) == expected(lines)[4:]
        finally:
            ser.close()
    assert not link.exists() and not link.is_symlink()


def test_a_fault_is_one_readable_line_and_the_port_disconnects(board):
    ser = open_port(board.port, 115200)
    try:
        ser.write(b"fault\n")
        assert board.wait(10.0) == FAULT_EXIT
        assert not board.running
        assert "HardFault" in board.error and "undefined instruction at pc=0x" in board.error
        assert board.error.startswith("window-cortex-m4.elf on mps2-an386: ") and "\n" not in board.error
        with pytest.raises(QemuError, match="undefined instruction") as caught:
            board.check()
        assert "baremetal: HardFault" in caught.value.stderr and "window firmware up" in caught.value.stdout
        with pytest.raises(Disconnected):  # what the app sees when a USB board is pulled
            deadline = time.monotonic() + 5.0
            while time.monotonic() < deadline:
                read_chunk(ser, board.port)
    finally:
        ser.close()
    assert gone(board.pid)  # reaped without stop()


def test_an_early_exit_says_so_with_the_last_output(board):
    ser = open_port(board.port, 115200)
    try:
        ser.write(b"exit 3\n")
        assert board.wait(10.0) == 3
    finally:
        ser.close()
    assert board.error == ("window-cortex-m4.elf on mps2-an386: the program exited (exit code 3); "
                           "last output: exit requested")
    assert not Path(board.pty_path).exists()


def test_qemu_failing_to_start_is_an_error(firmware):
    b = SerialBoard(firmware("cortex-m4"), "cortex-m4", extra_args=["-no-such-option"])
    with pytest.raises(QemuError, match="qemu-system-arm: -no-such-option: invalid option"):
        b.start()
    assert not b.running and gone(b.pid)
    b.stop()


def test_stop_leaves_no_qemu_behind(firmware):
    b = SerialBoard(firmware("cortex-m4"), "cortex-m4")
    port = b.start()
    ser = open_port(port, 115200)  # the app still has the port open
    try:
        assert b.running
        pid = b.pid
        b.stop()
        assert gone(pid) and not b.running and b.error is None
        assert not Path(port).exists()
        with pytest.raises(Disconnected):
            deadline = time.monotonic() + 5.0
            while time.monotonic() < deadline:
                read_chunk(ser, port)
    finally:
        ser.close()
    b.stop()  # again: nothing to do
