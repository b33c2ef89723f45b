"""Bare-metal builds for the emulated Cortex-M boards and real QEMU runs (skipped when the tools are missing)."""

from __future__ import annotations

import subprocess

import pytest

from studio.cortexm import (
    CORES,
    FAULT_EXIT,
    BuildError,
    QemuError,
    QemuTimeout,
    ToolMissingError,
    available,
    build_elf,
    build_host,
    build_plugin,
    get_core,
    run,
    size_of,
    symbol_address,
)

REASON = available()
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")

# A checksum of a loop, a file read through semihosting, a line from stdin; the exit code is known.
CHECKSUM_C = r"""
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uint32_t fnv1a(const unsigned char *p, size_t n, uint32_t h)
{
    for (size_t i = 0; i < n; i++) {
        h = (h ^ p[i]) * 16777619u;
    }
    return h;
}

int main(void)
{
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < 1000; i++) {
        unsigned char b[4] = {(unsigned char)i, (unsigned char)(i >> 8), (unsigned char)(i * 7), 0x5a};
        h = fnv1a(b, sizeof b, h);
    }
    printf("loop %08lx\n", (unsigned long)h);

    FILE *f = fopen("input.txt", "rb");
    if (!f) {
        printf("no file\n");
        return 3;
    }
    unsigned char buf[256];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    printf("file %u bytes %08lx\n", (unsigned)n, (unsigned long)fnv1a(buf, n, 2166136261u));

    char line[64];
    if (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = '\0';
        printf("stdin '%s'\n", line);
    }
    volatile double x = 2.5;
    printf("float %d\n", (int)(x * x * 1000.0));
    return (int)(h & 0x3f) + 10;
}
"""

FILE_BYTES = bytes(range(200))


def fnv1a(data: bytes, h: int = 2166136261) -> int:
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


def expected_checksum() -> int:
    h = 2166136261
    for i in range(1000):
        h = fnv1a(bytes([i & 0xFF, (i >> 8) & 0xFF, (i * 7) & 0xFF, 0x5A]), h)
    return h


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def plugin_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("plugin")


@pytest.mark.parametrize("core", sorted(CORES))
def test_program_runs_on_every_core(tmp_path, core):
    src = write(tmp_path, "checksum.c", CHECKSUM_C)
    (tmp_path / "input.txt").write_bytes(FILE_BYTES)
    elf = build_elf([src], tmp_path / "checksum.elf", core)
    result = run(elf, core, cwd=tmp_path, stdin_bytes=b"hello board\n", timeout=20)
    h = expected_checksum()
    assert result.stdout.splitlines() == [f"loop {h:08x}", f"file 200 bytes {fnv1a(FILE_BYTES):08x}",
                                          "stdin 'hello board'", "float 6250"], result.stderr
    assert result.exit_code == (h & 0x3F) + 10
    assert result.fault is None and result.total_instructions is None and result.marks == []


def test_host_build_prints_the_same(tmp_path):
    src = write(tmp_path, "checksum.c", CHECKSUM_C)
    (tmp_path / "input.txt").write_bytes(FILE_BYTES)
    exe = build_host([src], tmp_path / "checksum")
    host = subprocess.run([str(exe)], input=b"hello board\n", capture_output=True, cwd=tmp_path, timeout=20)
    elf = build_elf([src], tmp_path / "checksum.elf", "cortex-m4")
    board = run(elf, "cortex-m4", cwd=tmp_path, stdin_bytes=b"hello board\n", timeout=20)
    assert host.stdout.decode() == board.stdout
    assert host.returncode == board.exit_code


COUNT_C = r"""
#include <stdint.h>
#include "baremetal.h"

volatile uint32_t sink;
volatile uint32_t lengths[3] = {N, 2 * N, 3 * N};

__attribute__((noinline)) static uint32_t work(uint32_t n)
{
    uint32_t acc = 1;
    for (uint32_t i = 0; i < n; i++) {
        acc = acc * 31u + (i ^ (acc >> 3));
    }
    return acc;
}

int main(void)
{
    /* the same code around each call, so only the loop's length differs between the marks */
    for (int k = 0; k < 3; k++) {
        baremetal_mark();
        sink = work(lengths[k]);
    }
    baremetal_mark();
    return 0;
}
"""


@pytest.mark.parametrize("core", ["cortex-m0plus", "cortex-m4", "cortex-m33"])
def test_instruction_count_is_linear_and_repeatable(tmp_path, plugin_dir, core):
    elf = build_elf([write(tmp_path, "count.c", COUNT_C)], tmp_path / "count.elf", core, defines=["N=1000"])
    first = run(elf, core, count_marks=True, plugin_cache_dir=plugin_dir, timeout=20)
    second = run(elf, core, count_marks=True, plugin_cache_dir=plugin_dir, timeout=20)
    assert first.exit_code == 0, first.stderr
    assert len(first.marks) == 4
    assert (first.marks, first.total_instructions) == (second.marks, second.total_instructions)
    d1, d2, d3 = first.mark_deltas
    per_n = d2 - d1
    assert d3 - d2 == per_n  # exactly linear: a fixed overhead plus a fixed count per iteration
    assert per_n % 1000 == 0 and 3 <= per_n // 1000 <= 12
    assert first.total_instructions > first.marks[-1]


def test_plugin_is_cached(plugin_dir):
    a = build_plugin(plugin_dir)
    mtime = a.stat().st_mtime_ns
    assert build_plugin(plugin_dir) == a and a.stat().st_mtime_ns == mtime


FAULT_C = r"""
#include <stdint.h>
#include <stdio.h>

volatile float f = 1.5f;

int main(void)
{
    printf("before\n");
    fflush(stdout);
#if defined(BAD_READ)
    printf("%lu\n", (unsigned long)*(volatile uint32_t *)0xF0000000u);
#elif defined(BAD_INSTRUCTION)
    __asm__ volatile("udf #0");
#else
    printf("%d\n", (int)(f * f * 100.0f));
#endif
    printf("after\n");
    return 0;
}
"""


@pytest.mark.parametrize(("core", "run_on", "define", "cause"), [
    ("cortex-m3", "cortex-m3", "BAD_READ", "bus error"),
    ("cortex-m33", "cortex-m33", "BAD_READ", "bus error"),
    ("cortex-m0plus", "cortex-m0plus", "BAD_INSTRUCTION", ""),  # ARMv6-M has no fault status registers
    ("cortex-m4", "cortex-m3", "HARD_FLOAT", "undefined instruction"),  # an FPU instruction on a core without one
])
def test_fault_exits_with_a_message(tmp_path, core, run_on, define, cause):
    elf = build_elf([write(tmp_path, "fault.c", FAULT_C)], tmp_path / "fault.elf", core, defines=[define])
    result = run(elf, run_on, timeout=10)
    assert result.exit_code == FAULT_EXIT
    assert "after" not in result.stdout
    assert result.fault is not None and result.fault.startswith("baremetal: HardFault")
    assert cause in result.fault and " at pc=0x" in result.fault
    if define != "HARD_FLOAT":  # that one faults before main can print
        assert result.stdout.startswith("before")


RECURSE_C = r"""
#include <stdio.h>

__attribute__((noinline)) static int recurse(volatile int *p, int depth)
{
    volatile int frame[64];
    frame[0] = depth;
    frame[63] = *p;
    return recurse(frame, depth + 1) + frame[1];
}

int main(void)
{
    int seed = 0;
    printf("start\n");
    return recurse(&seed, 0);
}
"""


@pytest.mark.parametrize("core", ["cortex-m0plus", "cortex-m4", "cortex-m33"])  # MPU guard; MSPLIM on the M33
def test_stack_overflow_is_reported(tmp_path, core):
    elf = build_elf([write(tmp_path, "recurse.c", RECURSE_C)], tmp_path / "recurse.elf", core,
                    extra_flags=["-Wl,--defsym,__stack_size=0x2000"])
    result = run(elf, core, timeout=10)
    assert result.exit_code == FAULT_EXIT and result.stdout == "start\n"
    assert result.fault is not None and "stack overflow (8192 bytes of stack" in result.fault


def test_hang_is_killed_after_the_timeout(tmp_path):
    src = write(tmp_path, "hang.c", "int main(void) { for (;;) { __asm__ volatile(\"\"); } }\n")
    elf = build_elf([src], tmp_path / "hang.elf", "cortex-m3")
    with pytest.raises(QemuTimeout, match="did not exit within 0.5 s"):
        run(elf, "cortex-m3", timeout=0.5)


def test_qemu_failure_is_an_error_not_an_exit_code(tmp_path):
    elf = build_elf([write(tmp_path, "ok.c", "int main(void) { return 0; }\n")], tmp_path / "ok.elf", "cortex-m3")
    with pytest.raises(QemuError, match="^qemu-system-arm: Could not load plugin"):
        run(elf, "cortex-m3", extra_args=["-plugin", str(tmp_path / "missing.so")], timeout=10)


STACK_C = r"""
#include <stdio.h>
#include "baremetal.h"

__attribute__((noinline)) static int deep(volatile char *seed)
{
    volatile char buf[BYTES];
    for (unsigned i = 0; i < sizeof buf; i++) {
        buf[i] = (char)(seed[0] + i);
    }
    return buf[BYTES - 1];
}

int main(void)
{
    char seed = 1;
    unsigned before = (unsigned)baremetal_stack_used();
    int r = deep(&seed);
    unsigned after = (unsigned)baremetal_stack_used();
    printf("%u %u %u %d\n", before, after, (unsigned)baremetal_stack_size(), r);
    return 0;
}
"""


def test_stack_high_water_mark(tmp_path):
    src = write(tmp_path, "stack.c", STACK_C)
    elf = build_elf([src], tmp_path / "stack.elf", "cortex-m4", defines=["BYTES=6000"],
                    extra_flags=["-Wl,--defsym,__stack_size=0x8000"])
    result = run(elf, "cortex-m4", timeout=10)
    before, after, size, _ = map(int, result.stdout.split())
    assert result.exit_code == 0
    assert size == 0x8000
    assert 0 < before < 512  # start-up and semihosting set-up
    assert 6000 <= after < 6000 + 512  # main's frame, deep's buffer and its frame


def test_compile_error_is_one_line(tmp_path):
    src = write(tmp_path, "broken.c", "int main(void)\n{\n    return undeclared_thing;\n}\n")
    with pytest.raises(BuildError) as info:
        build_elf([src], tmp_path / "broken.elf", "cortex-m4")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("arm-none-eabi-gcc: ") and "broken.c:3" in message and "undeclared_thing" in message
    assert "error:" in info.value.log and info.value.command


def test_link_error_names_the_symbol(tmp_path):
    src = write(tmp_path, "unlinked.c", "void missing_function(void);\nint main(void) { missing_function(); "
                                        "return 0; }\n")
    with pytest.raises(BuildError, match=r"^arm-none-eabi-gcc: .*undefined reference to `missing_function'$"):
        build_elf([src], tmp_path / "unlinked.elf", "cortex-m0plus")


def test_sizes_and_symbols(tmp_path):
    src = write(tmp_path, "sizes.c", "#include <stdint.h>\n"
                "const uint8_t table[10000] = {1, 2, 3};\nuint8_t scratch[20000];\nint32_t counter = 5;\n"
                "int main(void) { scratch[counter] = table[counter]; return scratch[5]; }\n")
    elf = build_elf([src], tmp_path / "sizes.elf", "cortex-m33")
    size = size_of(elf)
    assert size.text > 10000 and size.bss >= 20000 and size.data >= 4
    assert size.flash == size.text + size.data and size.ram == size.data + size.bss
    mark = symbol_address(elf, "baremetal_mark")  # kept by the linker script even when never called
    assert mark % 2 == 0 and 0x10000000 <= mark < 0x10400000
    assert 0x38000000 <= symbol_address(elf, "scratch") < 0x38400000
    assert run(elf, "cortex-m33", timeout=10).exit_code == 0


def test_missing_tools_are_reported(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert "arm-none-eabi-gcc" in (available() or "")
    with pytest.raises(ToolMissingError) as caught:
        build_elf([tmp_path / "x.c"], tmp_path / "x.elf", "cortex-m3")
    assert str(caught.value) == ("arm-none-eabi-gcc is not installed (Debian packages: gcc-arm-none-eabi "
                                 "libnewlib-arm-none-eabi)")
    (tmp_path / "x.elf").write_bytes(b"")
    with pytest.raises(ToolMissingError) as caught:
        run(tmp_path / "x.elf", "cortex-m3")
    assert str(caught.value) == "qemu-system-arm is not installed (Debian package: qemu-system-arm)"


def test_core_table():
    assert {c.name for c in CORES.values() if c.has_dsp} == {"cortex-m4", "cortex-m7", "cortex-m33"}
    assert get_core("cortex-m7").machine == "mps2-an500" and get_core("cortex-m0plus").fpu is None
    with pytest.raises(Exception, match="unknown core"):
        get_core("cortex-a53")
