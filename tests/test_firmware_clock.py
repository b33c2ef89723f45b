"""The firmware's SysTick microsecond clock (project_templates/firmware/src/_systick.c.j2) under QEMU. It went back
by a period in two ways. Read just after clock_start, QEMU's counter can still hold the 0 written to clear it,
which reads as the end of a period: dsp_us=4294319541, once seen on the Cortex-M0+, is t0 = 671,088 us read so and
t1 = 23,333 us. And the counter reloads before its interrupt has counted the wrap. Here, started fifty times, the
clock never reads that 0 as a period's end; called in a tight loop across hundreds of wraps it never goes back
(the old clock: hundreds of times); and the generic Cortex-M0+ firmware, classifying its built-in window two
thousand times with a SysTick period longer than a stage (so that a clock going back shows as a time of about
2^32 us), reports sane times (the old read, given that period: a few impossible times every run)."""

from __future__ import annotations

import re

import pytest
from conftest import have

from studio.code_templates import code_environment
from studio.cortexm import available, build_elf
from studio.cortexm import run as qemu_run
from studio.deploy.export.project import export_project
from studio.deploy.pio import kit as pio_kit
from studio.deploy.pio.runner import PioNotFound, find_pio, pio_run
from studio.deploy.running.result_line import ResultLine, parse_line

NO_TOOLS = available() or (None if have("qemu-system-arm") else "qemu-system-arm is not installed")
pytestmark = pytest.mark.skipif(NO_TOOLS is not None, reason=str(NO_TOOLS))

F_CPU = 25_000_000  # the generic boards' and the harness's clock
# A wrap every 2^18 cycles, 10.5 ms at 25 MHz: hundreds of wraps in a few seconds, and a period longer than the
# M0+'s DSP (about 2.5 ms) and network stages. Much shorter, and a host busy elsewhere can hold QEMU's CPU thread
# for a whole period while the timer goes on: two wraps then pend one interrupt, which no clock can tell apart.
RELOAD = 0x3FFFF
WRAPS = 400
WINDOWS = 2000
SANE_US = 10_000_000  # no stage of a window takes 10 s; a clock going back shows as about 2^32

HARNESS = r"""
#include <stdint.h>
#include <stdio.h>

#include "systick.c"

int main(void)
{
    uint32_t prev, now, calls, back = 0, worst_back = 0, worst_step = 0, ends = 0;
    for (calls = 0; calls < STARTS; calls++) { /* just started, the clock reads about 0, not a period */
        SYST_CSR = 0u;
        SCB_ICSR = 1u << 25; /* PENDSTCLR */
        systick_wraps = 0u;
        clock_start();
        ends += clock_us() == (uint32_t)(SYSTICK_RELOAD / (F_CPU / 1000000L)); /* the cleared counter's 0 */
    }
    SYST_RVR = SYSTICK_RELOAD; /* as clock_start did; a clock that ignores the macro gets it from its next wrap */
    prev = clock_us();
    for (calls = 0; systick_wraps < WRAPS; calls++) {
        now = clock_us();
        if ((int32_t)(now - prev) < 0) {
            back++;
            worst_back = prev - now > worst_back ? prev - now : worst_back;
        } else if (now - prev > worst_step) {
            worst_step = now - prev;
        }
        prev = now;
    }
    printf("ends=%lu calls=%lu wraps=%lu back=%lu worst_back=%lu worst_step=%lu end=%lu\n", (unsigned long)ends,
           (unsigned long)calls, (unsigned long)systick_wraps, (unsigned long)back, (unsigned long)worst_back,
           (unsigned long)worst_step, (unsigned long)prev);
    return 0;
}
"""


@pytest.mark.parametrize("core", ["cortex-m0plus", "cortex-m4"])
def test_the_clock_never_goes_backwards_across_wraps(core, tmp_path):
    (tmp_path / "systick.c").write_text(code_environment("firmware").get_template("src/_systick.c.j2").render())
    (tmp_path / "harness.c").write_text(HARNESS)
    elf = build_elf([tmp_path / "harness.c"], tmp_path / "clock.elf", core, include_dirs=[tmp_path],
                    defines=[f"F_CPU={F_CPU}L", f"SYSTICK_RELOAD={RELOAD:#x}u", f"WRAPS={WRAPS}u", "STARTS=50u"])
    ran = qemu_run(elf, core, timeout=240)
    assert ran.exit_code == 0 and ran.fault is None, ran.stderr
    got = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", ran.stdout)}
    print(f"{core}: {ran.stdout.strip()}")
    assert got["ends"] == 0, f"{got['ends']} of 50 starts read the cleared counter as a period's end"
    assert got["wraps"] == WRAPS and got["calls"] > 10 * WRAPS  # every wrap seen by many calls
    assert got["back"] == 0, f"the clock went back {got['back']} times, by up to {got['worst_back']} us"
    period_us = (RELOAD + 1) / (F_CPU / 1e6)
    assert got["worst_step"] < 20 * period_us  # no wrap counted twice
    assert abs(got["end"] - WRAPS * period_us) <= 2 * period_us  # the wraps and the counter add up


@pytest.fixture(scope="module")
def pio():
    try:
        return find_pio()
    except PioNotFound as e:
        pytest.skip(f"PlatformIO is not installed: {e}")


def test_generic_m0plus_firmware_times_are_sane_on_every_window(gesture_run, pio, tmp_path, monkeypatch):
    """The Pico's export has the cortex-m0plus-generic environment. A clock that misses a pending wrap showed
    here on a few of the 4,000 stages every time."""
    result = export_project(gesture_run.run, "pico", tmp_path / "pico")
    assert "cortex-m0plus-generic" in result.envs
    core = tmp_path / "core"
    pio_kit.install_kit(core, pio=pio)
    flags = f"-DTEST_WINDOW_RUNS={WINDOWS} -DSYSTICK_RELOAD={RELOAD:#x}u"
    monkeypatch.setenv("PLATFORMIO_BUILD_FLAGS", flags)
    assert pio_run(result.path, "cortex-m0plus-generic", core, pio=pio).ok
    ran = qemu_run(result.path / ".pio/build/cortex-m0plus-generic/firmware.elf", "cortex-m0plus", timeout=300)
    assert ran.exit_code == 0 and ran.fault is None, ran.stderr
    lines = [p for p in map(parse_line, ran.stdout.splitlines()) if isinstance(p, ResultLine)]
    assert len(lines) == WINDOWS and len({r.top for r in lines}) == 1  # the same window every time
    times = [(r.dsp_us, r.nn_us) for r in lines]
    insane = [(i, t) for i, t in enumerate(times) if not (t[0] < SANE_US and t[1] < SANE_US)]
    assert not insane, f"windows with impossible times (index, (dsp_us, nn_us)): {insane[:10]}"
    total_us = sum(d + n for d, n in times)
    print(f"{WINDOWS} windows on the M0+: {total_us / WINDOWS:.0f} us each on average, a SysTick wrap every "
          f"{(RELOAD + 1) / (F_CPU / 1e6):.0f} us")
