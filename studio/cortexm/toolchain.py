"""Cross-compiling C99 for the emulated Cortex-M boards, and for the host (for comparisons).

Programs are linked with Studio's own start-up code and linker scripts (``resources/baremetal/``) and
newlib nano with semihosting (librdimon), so ``printf``, ``fopen`` and ``main``'s return value go
through QEMU to the host. ``-nostartfiles`` leaves out librdimon's own crt0, whose ``_start`` would
compete with our reset handler.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from studio.cortexm.cores import Core, get_core
from studio.cortexm.errors import BuildError, CortexMError, ToolMissingError
from studio.paths import resources_dir

ARM_GCC = "arm-none-eabi-gcc"
ARM_SIZE = "arm-none-eabi-size"
ARM_NM = "arm-none-eabi-nm"
HOST_GCC = "gcc"
QEMU = "qemu-system-arm"

BUILD_TIMEOUT = 600.0  # seconds; a model with a few hundred KB of weights compiles in a few seconds
TOOL_TIMEOUT = 60.0

COMMON_CFLAGS = ("-std=c99", "-ffunction-sections", "-fdata-sections", "-Wall", "-Wextra")
LINK_FLAGS = ("-nostartfiles", "--specs=nano.specs", "--specs=rdimon.specs", "-Wl,--gc-sections")

_PACKAGES = {ARM_GCC: "gcc-arm-none-eabi libnewlib-arm-none-eabi", ARM_SIZE: "binutils-arm-none-eabi",
             ARM_NM: "binutils-arm-none-eabi", HOST_GCC: "gcc", QEMU: "qemu-system-arm"}

# what compilers and linkers print when they fail, best first ("collect2: error: ld returned 1" says nothing)
_ERROR_LINES = (re.compile(r"^(?!collect2).*\b(fatal )?error:"),
                re.compile(r"undefined reference|multiple definition|overflow|cannot find|cannot open"),
                re.compile(r"\berror\b", re.IGNORECASE))
_LD_PREFIX = re.compile(r"^\S*/ld(\.bfd)?: ")


def baremetal_dir() -> Path:
    """Start-up code, ``baremetal.h`` and the linker scripts."""
    return resources_dir() / "baremetal"


def install_hint(name: str) -> str:
    """``Debian package: P`` or ``Debian packages: P Q`` for a tool."""
    packages = _PACKAGES.get(name, name)
    return f"Debian package{'s' if ' ' in packages else ''}: {packages}"


def find_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ToolMissingError(f"{name} is not installed ({install_hint(name)})")
    return path


def available() -> str | None:
    """None when Cortex-M programs can be built and run here, else why not (one line)."""
    missing = [t for t in (ARM_GCC, ARM_SIZE, ARM_NM, QEMU, HOST_GCC) if shutil.which(t) is None]
    if missing:
        packages = sorted({p for t in missing for p in _PACKAGES[t].split()})
        return f"{', '.join(missing)} not installed (Debian packages: {' '.join(packages)})"
    # the compiler alone is not enough: newlib nano provides the C library and semihosting
    try:
        out = subprocess.run([ARM_GCC, "-print-file-name=nano.specs"], capture_output=True, text=True,
                             timeout=TOOL_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"{ARM_GCC} does not run: {e}"
    if out.returncode != 0 or "/" not in out.stdout:
        return f"newlib for {ARM_GCC} is not installed (Debian package: libnewlib-arm-none-eabi)"
    return None


def first_error(log: str) -> str:
    """The line of a compiler or linker log that says what went wrong (ld's long path shortened)."""
    lines = [ln.strip() for ln in log.splitlines() if ln.strip()]
    for pattern in _ERROR_LINES:
        line = next((ln for ln in lines if pattern.search(ln)), None)
        if line is not None:
            return _LD_PREFIX.sub("ld: ", line)
    return lines[0] if lines else "failed without output"


def _compile(tool: str, args: list[str], out: Path) -> Path:
    command = [find_tool(tool), *args]
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    except subprocess.TimeoutExpired as e:
        raise BuildError(f"{tool}: took longer than {BUILD_TIMEOUT:.0f} s building {out.name}", str(e.stderr or ""),
                         command) from None
    log = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise BuildError(f"{tool}: {first_error(log)}", log, command)
    return out


def _defines(defines: Iterable[str]) -> list[str]:
    """``NAME`` or ``NAME=VALUE`` (a leading ``-D`` is accepted too)."""
    return [d if d.startswith("-D") else f"-D{d}" for d in defines]


def build_elf(sources: Sequence[str | Path], out_elf: str | Path, core: str | Core,
              include_dirs: Iterable[str | Path] = (), defines: Iterable[str] = (), opt: str = "-O2",
              extra_flags: Iterable[str] = ()) -> Path:
    """Compile and link ``sources`` with the start-up code into an ELF for ``core``'s QEMU board.

    ``baremetal.h`` is on the include path. ``extra_flags`` go to both compiling and linking, e.g.
    ``-Wl,--defsym,__stack_size=0x4000`` or ``-g``.
    """
    c = get_core(core)
    bm = baremetal_dir()
    out = Path(out_elf)
    args = [*COMMON_CFLAGS, *c.flags, opt, f"-I{bm}", *(f"-I{d}" for d in include_dirs), *_defines(defines),
            *extra_flags, *map(str, sources), str(bm / "startup.c"),
            *LINK_FLAGS, f"-L{bm}", f"-T{c.linker_script}", "-o", str(out), "-lm"]
    return _compile(ARM_GCC, args, out)


def compile_object(source: str | Path, out_obj: str | Path, core: str | Core, include_dirs: Iterable[str | Path] = (),
                   defines: Iterable[str] = (), opt: str = "-O2") -> Path:
    """One source compiled for ``core`` (objects named after their sources show in linker maps)."""
    c = get_core(core)
    out = Path(out_obj)
    args = [*COMMON_CFLAGS, *c.flags, opt, f"-I{baremetal_dir()}", *(f"-I{d}" for d in include_dirs),
            *_defines(defines), "-c", str(source), "-o", str(out)]
    return _compile(ARM_GCC, args, out)


def build_host(sources: Sequence[str | Path], out_exe: str | Path, include_dirs: Iterable[str | Path] = (),
               defines: Iterable[str] = (), opt: str = "-O2") -> Path:
    """The same C built for this machine with the host gcc (no start-up code, no semihosting)."""
    out = Path(out_exe)
    args = [*COMMON_CFLAGS, opt, *(f"-I{d}" for d in include_dirs), *_defines(defines), *map(str, sources),
            "-o", str(out), "-lm"]
    return _compile(HOST_GCC, args, out)


@dataclass(frozen=True)
class ImageSize:
    """Bytes of an ELF image, as ``size`` counts them (text includes read-only data and the vectors)."""

    text: int
    data: int
    bss: int

    @property
    def flash(self) -> int:
        return self.text + self.data

    @property
    def ram(self) -> int:
        """Static RAM; the stack and the heap come on top."""
        return self.data + self.bss


def _run_tool(tool: str, args: list[str]) -> str:
    command = [find_tool(tool), *args]
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=TOOL_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise CortexMError(f"{tool}: no answer within {TOOL_TIMEOUT:.0f} s") from None
    if proc.returncode != 0:
        raise CortexMError(f"{tool}: {first_error(proc.stderr or proc.stdout)}")
    return proc.stdout


def size_of(elf: str | Path) -> ImageSize:
    out = _run_tool(ARM_SIZE, ["--format=berkeley", str(elf)])
    # header line, then "text data bss dec hex filename"
    fields = out.splitlines()[1].split()
    return ImageSize(int(fields[0]), int(fields[1]), int(fields[2]))


def symbol_address(elf: str | Path, name: str) -> int:
    """Where ``name`` is; for a Thumb function the address of its first instruction (bit 0 clear)."""
    for line in _run_tool(ARM_NM, [str(elf)]).splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == name:
            return int(parts[0], 16)
    raise CortexMError(f"{Path(elf).name}: no symbol {name}")
