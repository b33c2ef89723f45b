"""Counting executed guest instructions with Studio's QEMU TCG plugin (``resources/qemu_plugin/``).

Debian's QEMU ships neither plugins nor the plugin header, so the plugin is built here from source
with the host gcc and cached by a hash of its source and build command.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from studio.cortexm.errors import BuildError, CortexMError
from studio.cortexm.toolchain import BUILD_TIMEOUT, HOST_GCC, find_tool, first_error
from studio.paths import resources_dir

PLUGIN_FLAGS = ("-shared", "-fPIC", "-O2", "-Wall", "-Wextra")


def plugin_source() -> Path:
    return resources_dir() / "qemu_plugin" / "insn_count.c"


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "tinyml-studio" / "qemu-plugin"


def build_plugin(cache_dir: str | Path | None = None) -> Path:
    """The plugin's shared library, compiled once per source version into ``cache_dir``."""
    src = plugin_source()
    try:
        text = src.read_bytes()
    except OSError as e:
        raise CortexMError(f"{src}: cannot read the QEMU plugin source ({e.strerror})") from None
    key = hashlib.sha256(text + " ".join(PLUGIN_FLAGS).encode()).hexdigest()[:16]
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = cache / f"insn_count-{key}.so"
    if target.exists():
        return target
    gcc = find_tool(HOST_GCC)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = cache / f".tmp-{os.getpid()}-{target.name}"  # renamed into place: concurrent builds never see half a file
    command = [gcc, *PLUGIN_FLAGS, "-o", str(tmp), str(src)]
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=BUILD_TIMEOUT)
        if proc.returncode != 0:
            log = proc.stdout + proc.stderr
            raise BuildError(f"{HOST_GCC}: QEMU plugin: {first_error(log)}", log, command)
        os.replace(tmp, target)
    except subprocess.TimeoutExpired:
        raise BuildError(f"{HOST_GCC}: QEMU plugin: no result within {BUILD_TIMEOUT:.0f} s", "", command) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return target


@dataclass
class PluginLog:
    """What the plugin wrote: the instruction count at each mark (in execution order) and at exit."""

    marks: list[int] = field(default_factory=list)
    mark_addresses: list[int] = field(default_factory=list)
    total: int | None = None


def parse_plugin_log(text: str) -> PluginLog:
    """Lines ``mark <0xaddr> <count>`` and ``total <count>``; anything else QEMU logged is ignored."""
    log = PluginLog()
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "mark":
            log.mark_addresses.append(int(parts[1], 16))
            log.marks.append(int(parts[2]))
        elif len(parts) == 2 and parts[0] == "total":
            log.total = int(parts[1])
    return log
