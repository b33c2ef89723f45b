"""The offline kit: everything ``pio run`` needs without PlatformIO's registry, installed into one core dir.

- ``packages/tool-scons``: a package.json, a ``.piopm`` naming owner ``platformio`` (else pio does not take it
  for its own core package) and a ``scons.py`` that runs the SCons pip installed beside PlatformIO.
- ``packages/toolchain-gccarmnoneeabi``: a package.json and ``bin/`` with links to the system's
  ``arm-none-eabi-*`` tools (skipped when arm-none-eabi-gcc is not installed).
- the platforms of ``resources/platformio/platforms/``: ``native`` (folder ``native-host``: the host gcc,
  ``-t exec`` runs the program) and ``tinyml-cortexm`` (folder ``generic-cortexm``: generic Cortex-M boards,
  the start-up code and linker scripts of ``resources/baremetal`` copied in, ``-t exec`` runs QEMU).

How the platforms are installed: each is staged under ``<core>/tinyml-kit/platforms/`` and installed with
``pio pkg install -g --platform file://<staged>`` (offline, about 0.3 s), so ``platformio.ini`` names it
(``platform = native``, ``platform = tinyml-cortexm``) and exported projects carry no path of this machine.
``platform = symlink:///abs/dir`` works offline too, but puts absolute paths into every project, and pio keys
such links by name in the core (a bad link replaces a good one). The toolchain package is required by the
platform only as *optional*, so a core without it never sends pio to the registry: the build script then
stops with ``toolchain not found: ...``.

``install_kit`` is idempotent: a fingerprint of the sources, the SCons and the compiler found is kept in
``<core>/tinyml-kit/kit.json``; an unchanged kit whose pieces are all in place costs a few file reads.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

try:
    import fcntl
except ImportError:  # not POSIX
    fcntl = None

from studio.boards import CORTEXM_PLATFORM, HOST_PLATFORM
from studio.deploy.pio.runner import LineCallback, PioError, find_pio, pio_command, run_pio
from studio.fsutil import atomic_write_text
from studio.paths import resources_dir

KIT_VERSION = 1
KIT_DIR = "tinyml-kit"
PLATFORM_FOLDERS = {HOST_PLATFORM: "native-host", CORTEXM_PLATFORM: "generic-cortexm"}
TOOLCHAIN = "toolchain-gccarmnoneeabi"
ARM_GCC = "arm-none-eabi-gcc"
# Studio's core names (studio.cortexm.cores) -> boards of the tinyml-cortexm platform
CORE_BOARDS = {
    "cortex-m0plus": "generic_cortex_m0plus",
    "cortex-m3": "generic_cortex_m3",
    "cortex-m4": "generic_cortex_m4",
    "cortex-m7": "generic_cortex_m7",
    "cortex-m33": "generic_cortex_m33",
}
_CORE_ALIASES = {"cortex-m4f": "cortex-m4"}  # the board catalogue's name for an M4 with its FPU
PROBE_TIMEOUT = 60.0

_PROBE = """
import json, os, SCons, platformio, semantic_version
from platformio.dependencies import get_core_dependencies
need = get_core_dependencies()["tool-scons"]
x, y, z = (int("0" + "".join(c for c in p if c.isdigit())) for p in (SCons.__version__.split(".") + ["0", "0"])[:3])
version = "%d.%d%02d%02d.0" % (x, x, y, z)
print(json.dumps({"scons": SCons.__version__, "path": os.path.dirname(os.path.dirname(SCons.__file__)),
                  "version": version, "need": need, "pio": platformio.__version__,
                  "watch": [SCons.__file__, platformio.__file__],
                  "ok": semantic_version.Version(version) in semantic_version.SimpleSpec(need)}))
"""

_LAUNCHER = '''"""tool-scons of TinyML Studio's offline kit: the SCons pip installed beside PlatformIO ({scons})."""
import sys

sys.path.insert(0, {path!r})
from SCons.Script import main  # noqa: E402

main()
'''


class KitError(PioError):
    """The offline kit cannot be installed (no SCons beside pio, an incompatible SCons, ...)."""


@dataclass
class KitReport:
    core_dir: Path
    cortexm: bool = True  # whether Cortex-M firmware can be built (arm-none-eabi-gcc found)
    changed: list[str] = field(default_factory=list)  # the pieces (re)installed by this call
    notes: list[str] = field(default_factory=list)  # what is missing but not fatal


def platforms_source_dir() -> Path:
    return resources_dir() / "platformio" / "platforms"


def board_for_core(core: str) -> str:
    """The tinyml-cortexm board for one of Studio's core names (``cortex-m4`` -> ``generic_cortex_m4``)."""
    try:
        return CORE_BOARDS[_CORE_ALIASES.get(core, core)]
    except KeyError:
        raise KitError(f"no generic board for core {core!r} (known: {', '.join(CORE_BOARDS)})") from None


# --------------------------------------------------------------------------------------------- helpers


def _write_if_changed(path: Path, text: str) -> bool:
    if path.is_file() and path.read_text(encoding="utf-8", errors="replace") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, text)
    return True


def _tree_digest(root: Path) -> str:
    """A digest of the files under ``root`` (names and contents), pio's ``.piopm`` and caches left out."""
    h = hashlib.sha256()
    if root.is_dir():
        for p in sorted(root.rglob("*")):
            if p.is_file() and p.name != ".piopm" and "__pycache__" not in p.parts:
                h.update(p.relative_to(root).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def _pio_python(pio: str) -> str:
    """The interpreter that runs ``pio`` (its shebang), where SCons must be installed too; in the frozen app its
    own executable, which is that interpreter (``pio_command``)."""
    if pio_command(pio) != [pio]:
        return pio
    try:
        with open(pio, "rb") as f:
            first = f.readline(512).decode("utf-8", "replace").strip()
    except OSError as e:
        raise KitError(f"{pio}: {e.strerror or e}") from None
    words = first[2:].split() if first.startswith("#!") else []
    if len(words) > 1 and Path(words[0]).name == "env":  # #!/usr/bin/env python3
        words = [shutil.which(words[1]) or words[1]]
    if not words or "python" not in Path(words[0]).name:
        raise KitError(f"{pio}: not a Python launcher; cannot find the Python environment of PlatformIO")
    return words[0]


def probe_scons(pio: str) -> dict:
    """SCons in PlatformIO's environment: its version, folder, the tool-scons version it stands for, and
    whether that satisfies this PlatformIO Core's requirement."""
    python = _pio_python(pio)
    try:
        out = subprocess.run([python, "-c", _PROBE], capture_output=True, text=True, timeout=PROBE_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise KitError(f"{python}: {e}") from None
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["failed"])[-1]
        if "No module named 'SCons'" in out.stderr:
            last = "SCons is not installed beside PlatformIO (pip install scons)"
        raise KitError(f"{python}: {last}", out.stderr)
    info = json.loads(out.stdout.strip().splitlines()[-1])
    info["python"] = python
    if not info["ok"]:
        raise KitError(f"PlatformIO {info['pio']} needs tool-scons {info['need']}, but SCons {info['scons']} is "
                       f"installed (tool-scons {info['version']}); pip install a matching scons")
    return info


def _gcc_version(gcc: str) -> str:
    """``1.XXYYZZ.0`` for GCC X.Y.Z, as PlatformIO numbers its toolchain packages."""
    out = subprocess.run([gcc, "-dumpversion"], capture_output=True, text=True, timeout=PROBE_TIMEOUT)
    m = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", out.stdout.strip())
    if out.returncode != 0 or not m:
        raise KitError(f"{gcc} -dumpversion: {out.stderr.strip() or out.stdout.strip() or 'no version'}")
    major, minor, patch = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    return f"1.{major:02d}{minor:02d}{patch:02d}.0"


def _piopm(kind: str, name: str, version: str, owner: str | None) -> str:
    spec = {"owner": owner, "id": None, "name": name, "requirements": None, "uri": None}
    return json.dumps({"type": kind, "name": name, "version": version, "spec": spec})


# ------------------------------------------------------------------------------------------------- pieces


def install_scons(core_dir: Path, info: dict) -> bool:
    """``packages/tool-scons`` for the SCons described by ``probe_scons``; True when something was written."""
    pkg = core_dir / "packages" / "tool-scons"
    manifest = json.dumps({"name": "tool-scons", "version": info["version"], "system": "*"})
    changed = _write_if_changed(pkg / "package.json", manifest + "\n")
    changed |= _write_if_changed(pkg / ".piopm", _piopm("tool", "tool-scons", info["version"], "platformio"))
    changed |= _write_if_changed(pkg / "scons.py", _LAUNCHER.format(scons=info["scons"], path=info["path"]))
    return changed


def install_toolchain(core_dir: Path, gcc: str) -> bool:
    """``packages/toolchain-gccarmnoneeabi``: links to every ``arm-none-eabi-*`` beside ``gcc``."""
    pkg = core_dir / "packages" / TOOLCHAIN
    version = _gcc_version(gcc)
    manifest = json.dumps({"name": TOOLCHAIN, "version": version, "system": "*",
                           "description": f"links to the system's GNU Arm toolchain in {Path(gcc).parent}"})
    changed = _write_if_changed(pkg / "package.json", manifest + "\n")
    changed |= _write_if_changed(pkg / ".piopm", _piopm("tool", TOOLCHAIN, version, None))
    bin_dir = pkg / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    tools = {p.name: p for p in Path(gcc).parent.glob("arm-none-eabi-*")}
    for link in bin_dir.iterdir():
        if link.name not in tools and link.is_symlink():
            link.unlink()
            changed = True
    for name, target in tools.items():
        link = bin_dir / name
        if link.is_symlink() and Path(link.readlink()) == target:
            continue
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(target)
        changed = True
    return changed


def _stage_platform(core_dir: Path, name: str) -> Path:
    """A copy of the platform's source folder (plus the start-up code for Cortex-M) for ``pio pkg install``."""
    src = platforms_source_dir() / PLATFORM_FOLDERS[name]
    staged = core_dir / KIT_DIR / "platforms" / PLATFORM_FOLDERS[name]
    if staged.exists():
        shutil.rmtree(staged)
    shutil.copytree(src, staged, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    if name == CORTEXM_PLATFORM:
        shutil.copytree(resources_dir() / "baremetal", staged / "baremetal")
    return staged


def install_platform(core_dir: Path, name: str, pio: str, on_line: LineCallback | None = None) -> bool:
    """Stage the platform and ``pio pkg install`` it when the installed copy differs; True when installed."""
    staged = _stage_platform(core_dir, name)
    installed = core_dir / "platforms" / name
    if installed.is_dir() and _tree_digest(installed) == _tree_digest(staged):
        return False
    # --skip-dependencies: with --force pio would otherwise reinstall the toolchain package from the registry
    args = ["pkg", "install", "-g", "--skip-dependencies", "--force", "--platform", staged.as_uri()]
    result = run_pio(args, core_dir, on_line=on_line, timeout=PROBE_TIMEOUT, pio=pio)
    if not result.ok:
        raise KitError(f"installing platform {name}: {result.lines[-1] if result.lines else 'pio failed'}",
                       result.log, result.command)
    if _tree_digest(installed) != _tree_digest(staged):
        raise KitError(f"installing platform {name}: pio did not put it in {installed}", result.log, result.command)
    return True


# ---------------------------------------------------------------------------------------------- the kit


def _fingerprint(pio: str, gcc: str | None, watch: Iterable[str]) -> str:
    """What the installed kit depends on: the sources, pio, the compiler, and the files of SCons and PlatformIO
    that carry their versions (a pip upgrade of either needs a new tool-scons)."""
    h = hashlib.sha256(f"{KIT_VERSION}\0{Path(pio).resolve()}\0{gcc}\0".encode())
    for part in (platforms_source_dir(), resources_dir() / "baremetal"):
        h.update(_tree_digest(part).encode())
    for path in watch:
        p = Path(path)
        h.update(path.encode() + b"\0" + (hashlib.sha256(p.read_bytes()).digest() if p.is_file() else b"-"))
    return h.hexdigest()


def _stamp_matches(stamp: Path, pio: str, gcc: str | None) -> bool:
    try:
        data = json.loads(stamp.read_text())
        return data.get("fingerprint") == _fingerprint(pio, gcc, data.get("watch", []))
    except (OSError, ValueError, TypeError):
        return False


def kit_problem(core_dir: str | Path, *, cortexm: bool = True) -> str | None:
    """None when the kit's pieces are in ``core_dir`` (and the toolchain's links resolve), else what is wrong."""
    core = Path(core_dir)
    scons = core / "packages" / "tool-scons"
    for path in (scons / "scons.py", scons / ".piopm", core / "platforms" / HOST_PLATFORM / "platform.json"):
        if not path.is_file():
            return f"offline kit not installed: {path} is missing"
    if cortexm:
        if not (core / "platforms" / CORTEXM_PLATFORM / "platform.json").is_file():
            return f"offline kit not installed: platform {CORTEXM_PLATFORM} is missing"
        bin_dir = core / "packages" / TOOLCHAIN / "bin"
        if not (bin_dir / ARM_GCC).is_file():
            return f"toolchain not found: {bin_dir / ARM_GCC}"
        dangling = next((p for p in sorted(bin_dir.iterdir()) if not p.exists()), None)
        if dangling is not None:
            return f"toolchain not found: {dangling}"
    return None


@contextlib.contextmanager
def _locked(core: Path) -> Iterator[None]:
    """One installer at a time per core dir (another process waits)."""
    (core / KIT_DIR).mkdir(parents=True, exist_ok=True)
    with open(core / KIT_DIR / ".lock", "w") as f:
        if fcntl is None:  # not POSIX: no lock
            yield
            return
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def install_kit(core_dir: str | Path, *, pio: str | None = None, on_line: LineCallback | None = None,
                force: bool = False) -> KitReport:
    """Install (or repair, or leave alone) the offline kit in ``core_dir``. Raises ``KitError``."""
    core = Path(core_dir).resolve()
    pio = pio or find_pio()
    with _locked(core):
        return _install(core, pio, on_line, force)


def _install(core: Path, pio: str, on_line: LineCallback | None, force: bool) -> KitReport:
    gcc = shutil.which(ARM_GCC)
    report = KitReport(core, cortexm=gcc is not None)
    if gcc is None:
        report.notes.append(f"{ARM_GCC} is not installed (Debian packages: gcc-arm-none-eabi "
                            "libnewlib-arm-none-eabi): Cortex-M builds are not available")
    stamp = core / KIT_DIR / "kit.json"
    if not force and kit_problem(core, cortexm=gcc is not None) is None and _stamp_matches(stamp, pio, gcc):
        return report
    info = probe_scons(pio)
    if install_scons(core, info):
        report.changed.append("tool-scons")
    if gcc is not None and install_toolchain(core, gcc):
        report.changed.append(TOOLCHAIN)
    for name in _platform_names(gcc is not None):
        if install_platform(core, name, pio, on_line):
            report.changed.append(name)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    fingerprint = _fingerprint(pio, gcc, info["watch"])
    atomic_write_text(stamp, json.dumps({"fingerprint": fingerprint, "watch": info["watch"]}) + "\n")
    return report


def _platform_names(cortexm: bool) -> Iterable[str]:
    yield HOST_PLATFORM
    if cortexm:
        yield CORTEXM_PLATFORM
