"""Real PlatformIO builds with the offline kit: no registry, a core dir of the test session's own."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from studio.deploy.pio import kit as pio_kit
from studio.deploy.pio.config import PioConfigError, validate_project
from studio.deploy.pio.runner import (
    PioBuildError,
    PioNotFound,
    failure_line,
    find_pio,
    offline_notice,
    parse_usage,
    pio_run,
    registry_reachable,
)
from studio.jobs import Cancelled, Progress

try:
    PIO = find_pio()
except PioNotFound as e:
    pytest.skip(f"PlatformIO is not installed: {e}", allow_module_level=True)

NO_ARM = None if shutil.which("arm-none-eabi-gcc") else "arm-none-eabi-gcc is not installed (gcc-arm-none-eabi)"
NO_QEMU = None if shutil.which("qemu-system-arm") else "qemu-system-arm is not installed"
needs_arm = pytest.mark.skipif(NO_ARM is not None, reason=NO_ARM or "")

OFFLINE_BUILD_LIMIT = 30.0  # seconds; a registry access alone takes about 60 s
EXPECTED = "sum=338350 root2=1414"
M4_EXIT = 7

MAIN_C = """#include <math.h>
#include <stdio.h>

#ifndef EXIT_CODE
#define EXIT_CODE 0
#endif

static volatile int n = 100;

int main(void)
{
    long sum = 0;
    for (int i = 1; i <= n; i++) {
        sum += (long)i * i;
    }
    volatile float two = 2.0f;
    printf("sum=%ld root2=%d\\n", sum, (int)(sqrtf(two) * 1000.0f));
    return EXIT_CODE;
}
"""


def _ini() -> str:
    sections = ["[platformio]\ndefault_envs = native\n", "[env:native]\nplatform = native\n"]
    for core, board in pio_kit.CORE_BOARDS.items():
        flags = f"build_flags = -DEXIT_CODE={M4_EXIT}\n" if core == "cortex-m4" else ""
        sections.append(f"[env:{core}]\nplatform = tinyml-cortexm\nboard = {board}\n{flags}")
    return "\n".join(sections)


def make_project(root: Path, main_c: str = MAIN_C) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "platformio.ini").write_text(_ini())
    (root / "src" / "main.c").write_text(main_c)
    return root


@pytest.fixture(scope="session")
def kit(tmp_path_factory):
    core = tmp_path_factory.mktemp("pio-core")
    return pio_kit.install_kit(core, pio=PIO)


@pytest.fixture(scope="session")
def project(tmp_path_factory):
    return make_project(tmp_path_factory.mktemp("pio-project") / "demo")


_builds: dict[str, tuple[object, float]] = {}


def build_once(kit, project, env):
    """One build per environment and session: (PioResult, wall seconds)."""
    if env not in _builds:
        start = time.monotonic()
        result = pio_run(project, env, kit.core_dir, pio=PIO)
        _builds[env] = (result, time.monotonic() - start)
    return _builds[env]


# ------------------------------------------------------------------------------------------------------ kit


def test_kit_installs_every_piece_and_is_idempotent(kit):
    core = kit.core_dir
    expected = ["tool-scons", "native"] + ([] if NO_ARM else [pio_kit.TOOLCHAIN, "tinyml-cortexm"])
    assert set(expected) <= set(kit.changed) and kit.cortexm == (NO_ARM is None)
    assert pio_kit.kit_problem(core, cortexm=NO_ARM is None) is None
    piopm = (core / "packages" / "tool-scons" / ".piopm").read_text()
    assert '"owner": "platformio"' in piopm and '"version": "4.' in piopm
    start = time.monotonic()
    again = pio_kit.install_kit(core, pio=PIO)
    assert again.changed == [] and time.monotonic() - start < 1.0
    assert (core / "platforms" / "tinyml-cortexm" / "baremetal" / "startup.c").is_file() or NO_ARM


def test_board_for_core_and_unknown_core():
    assert pio_kit.board_for_core("cortex-m4") == pio_kit.board_for_core("cortex-m4f") == "generic_cortex_m4"
    with pytest.raises(pio_kit.KitError, match="cortex-m99"):
        pio_kit.board_for_core("cortex-m99")


# --------------------------------------------------------------------------------------------------- native


def test_native_builds_offline_and_runs(kit, project):
    result, seconds = build_once(kit, project, "native")
    assert result.ok and seconds < OFFLINE_BUILD_LIMIT, result.log
    assert "Installing" not in result.log  # nothing fetched
    program = project / ".pio" / "build" / "native" / "program"
    out = subprocess.run([str(program)], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and out.stdout.strip() == EXPECTED


def test_native_exec_target_streams_the_program_output(kit, project):
    build_once(kit, project, "native")
    lines: list[str] = []
    statuses: list[str] = []
    progress = Progress(lambda e: statuses.append(e.status))
    result = pio_run(project, "native", kit.core_dir, targets=["exec"], on_line=lines.append, progress=progress,
                     pio=PIO)
    assert EXPECTED in lines and lines == result.lines
    assert any(s.startswith("Executing ") for s in statuses)


# ------------------------------------------------------------------------------------------------ Cortex-M


@needs_arm
@pytest.mark.parametrize("core", list(pio_kit.CORE_BOARDS))
def test_cortex_m_builds_offline_with_usage_and_runs_on_qemu(kit, project, core):
    from studio.cortexm.qemu import run

    result, seconds = build_once(kit, project, core)
    assert result.ok and seconds < OFFLINE_BUILD_LIMIT, result.log
    assert result.ram is not None and result.flash is not None, result.log
    assert result.flash.total == result.ram.total == 4 * 1024 * 1024
    assert 1000 < result.flash.used < 64 * 1024 and 0 < result.ram.used < result.flash.used
    elf = project / ".pio" / "build" / core / "firmware.elf"
    assert elf.is_file() and elf.with_suffix(".bin").is_file()
    if NO_QEMU:
        pytest.skip(NO_QEMU)
    ran = run(elf, core, timeout=30)
    assert ran.fault is None, ran.stderr
    assert ran.stdout.strip() == EXPECTED
    assert ran.exit_code == (M4_EXIT if core == "cortex-m4" else 0)


@needs_arm
def test_cortex_m_flags_follow_the_board(kit, tmp_path):
    project = make_project(tmp_path / "proj")
    result = pio_run(project, "cortex-m4", kit.core_dir, targets=["size"], verbose=True, pio=PIO)
    compile_line = next(ln for ln in result.lines if " -c " in ln and "main.c" in ln)
    for flag in ("-mcpu=cortex-m4", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16", "-mthumb"):
        assert flag in compile_line
    assert any(ln.split()[-1].endswith("firmware.elf") for ln in result.lines)  # the size table


@needs_arm
@pytest.mark.skipif(NO_QEMU is not None, reason=NO_QEMU or "")
def test_cortex_m_exec_target_runs_qemu(kit, project):
    build_once(kit, project, "cortex-m0plus")
    result = pio_run(project, "cortex-m0plus", kit.core_dir, targets=["exec"], pio=PIO)
    assert EXPECTED in result.lines


@needs_arm
def test_broken_toolchain_is_one_readable_line(tmp_path):
    core = tmp_path / "core"
    pio_kit.install_kit(core, pio=PIO)
    bin_dir = core / "packages" / pio_kit.TOOLCHAIN / "bin"
    for link in bin_dir.iterdir():
        link.unlink()
        link.symlink_to(tmp_path / "nowhere" / link.name)
    project = make_project(tmp_path / "proj")
    start = time.monotonic()
    with pytest.raises(PioBuildError) as caught:
        pio_run(project, "cortex-m4", core, pio=PIO)
    assert time.monotonic() - start < OFFLINE_BUILD_LIMIT
    message = str(caught.value)
    assert message.startswith(f"toolchain not found: {bin_dir / 'arm-none-eabi-'}") and "\n" not in message
    assert "[FAILED]" in caught.value.log
    assert pio_kit.kit_problem(core).startswith("toolchain not found: ")
    assert pio_kit.TOOLCHAIN in pio_kit.install_kit(core, pio=PIO).changed  # repaired
    assert pio_run(project, "cortex-m4", core, pio=PIO).ok


def test_compiler_error_is_the_first_error_line(kit, tmp_path):
    project = make_project(tmp_path / "proj", "int main(void)\n{\n    return undeclared_thing;\n}\n")
    with pytest.raises(PioBuildError) as caught:
        pio_run(project, "native", kit.core_dir, pio=PIO)
    assert re.match(r"src/main\.c:3:12: error: .undeclared_thing. undeclared", str(caught.value))
    assert "*** [" in caught.value.log


def test_cancel_stops_the_build(kit, tmp_path):
    project = make_project(tmp_path / "proj")
    progress = Progress()
    start = time.monotonic()
    with pytest.raises(Cancelled):
        pio_run(project, "native", kit.core_dir, on_line=lambda line: progress.cancel(), progress=progress, pio=PIO)
    assert time.monotonic() - start < 10
    assert not (project / ".pio" / "build" / "native" / "program").exists()


# ---------------------------------------------------------------------------------------------- config


def test_project_config_validates_the_ini(kit, project, tmp_path):
    config = validate_project(project, kit.core_dir, pio=PIO)
    assert config.envs == ["native", *pio_kit.CORE_BOARDS]
    assert config.option("cortex-m4", "board") == "generic_cortex_m4" and config.warnings == []

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "platformio.ini").write_text("[env:a]\nplatform = native\nthis is not an option\n")
    with pytest.raises(PioConfigError, match="platformio.ini"):
        validate_project(bad, kit.core_dir, pio=PIO)
    (bad / "platformio.ini").write_text("[env:a]\nplatform = native\nbogus_option = 1\n")
    assert any("bogus_option" in w for w in validate_project(bad, kit.core_dir, pio=PIO).warnings)
    (bad / "platformio.ini").write_text("[env:a]\nbuild_flags = -O2\n")
    with pytest.raises(PioConfigError, match=r"\[env:a\].*has no platform"):
        validate_project(bad, kit.core_dir, pio=PIO)
    (bad / "platformio.ini").write_text("[env:a]\nplatform = native\nbuild_flags = ${env:nope.flags}\n")
    with pytest.raises(PioConfigError, match="No section"):
        validate_project(bad, kit.core_dir, pio=PIO)
    (bad / "platformio.ini").write_text("[env:a]\nplatform = platformio/ststm32@^17\nboard = nucleo_l476rg\n")
    assert validate_project(bad, kit.core_dir, pio=PIO).warnings == [
        "[env:a]: platform ststm32 is not installed; pio would fetch it from the registry"]


@needs_arm
def test_catalogue_boards_of_the_kit_exist(kit):
    from studio.boards.registry import load_boards

    kit_boards = {b.id: b.platformio for b in load_boards() if b.platformio.get("platform") in
                  (pio_kit.HOST_PLATFORM, pio_kit.CORTEXM_PLATFORM)}
    assert {"host-native", "virtual-cortex-m4"} <= set(kit_boards)
    for pio in kit_boards.values():
        board = pio.get("board")
        assert board is None or (kit.core_dir / "platforms" / pio["platform"] / "boards" / f"{board}.json").is_file()


# ------------------------------------------------------------------------------------------------ parsing


def test_usage_lines_are_parsed():
    log = ("Checking size .pio/build/m4/firmware.elf\n"
           "RAM:   [=         ]  12.3% (used 4032 bytes from 32768 bytes)\n"
           "Flash: [==        ]  20.1% (used 52712 bytes from 262144 bytes)\n")
    usage = parse_usage(log)
    assert usage["RAM"].used == 4032 and usage["RAM"].total == 32768
    assert usage["Flash"].used == 52712 and abs(usage["Flash"].fraction - 52712 / 262144) < 1e-12


def test_failure_lines():
    registry = ["Processing native (platform: native)", "Tool Manager: Installing platformio/tool-scons @ ~4.41101.0",
                "HTTPClientError: "]
    assert failure_line(registry) == ("PlatformIO needed platformio/tool-scons @ ~4.41101.0 from its registry, "
                                      "which is unreachable (HTTPClientError)")
    assert failure_line(["Error: Unknown board ID 'nope'", "====== [FAILED] Took 0.3 seconds ======"]) == (
        "Error: Unknown board ID 'nope'")
    linker = ["/usr/lib/gcc/arm-none-eabi/12.2.1/../../../arm-none-eabi/bin/ld: .pio/build/m4/src/main.o: in function "
              "`main':", "main.c:(.text.main+0x4): undefined reference to `missing'",
              "collect2: error: ld returned 1 exit status", "*** [.pio/build/m4/firmware.elf] Error 1"]
    assert failure_line(linker) == "main.c:(.text.main+0x4): undefined reference to `missing'"
    assert failure_line([]) == "pio failed without output"


def test_registry_check_is_quick():
    start = time.monotonic()
    reachable = registry_reachable(timeout=2.0, refresh=True)
    assert time.monotonic() - start < 5.0
    assert (offline_notice() is None) == reachable
