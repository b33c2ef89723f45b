"""Running PlatformIO Core (``pio``) as a subprocess, offline.

Every call gets the chosen core dir (``PLATFORMIO_CORE_DIR``), telemetry off and the upgrade check off (else a
build spends 60 s every 7 days trying to reach the registry and still exits 0). ``pio_run`` streams the log
line by line to a callback, stops when the job's progress is cancelled, reads PlatformIO's ``RAM:`` and
``Flash:`` lines, and turns a failure into a one-line ``PioBuildError`` carrying the whole log.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from studio.errors import StudioError
from studio.jobs import Cancelled, ProgressLike
from studio.paths import is_frozen

BUILD_TIMEOUT = 1800.0  # seconds for one pio run
QUICK_TIMEOUT = 120.0  # pio commands that read files only
KILL_GRACE = 3.0

LineCallback = Callable[[str], None]


class PioError(StudioError):
    """``pio`` failed. ``str()`` is one line; ``log`` holds everything pio printed."""

    def __init__(self, message: str, log: str = "", command: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.log = log
        self.command = list(command)


class PioNotFound(PioError):
    """PlatformIO Core is not installed where Studio looks for it."""


class PioBuildError(PioError):
    """``pio run`` failed: the compiler's first error, a missing toolchain, a bad board, ..."""


# ---------------------------------------------------------------------------------------------- the command


def find_pio() -> str:
    """``pio`` of the running Python environment (the venv Studio runs in), else the one on ``PATH``. In the
    frozen app: the app's own executable, which runs the PlatformIO bundled in it (see ``pio_command``)."""
    if is_frozen():
        return sys.executable
    beside = Path(sys.executable).parent / "pio"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    for name in ("pio", "platformio"):
        found = shutil.which(name)
        if found:
            return found
    raise PioNotFound("PlatformIO Core is not installed (pip install platformio)")


def pio_command(pio: str) -> list[str]:
    """The command line that runs ``pio``: the path itself, or for the frozen app's executable (what
    ``find_pio`` returns there) that executable as a Python interpreter with ``-m platformio``."""
    if is_frozen() and os.path.abspath(pio) == os.path.abspath(sys.executable):
        return [pio, "-m", "platformio"]
    return [pio]


def pio_environment(core_dir: str | Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of every ``pio`` call: ``base`` (default: this process's) with the offline settings. In
    the frozen app ``PYTHONEXEPATH`` names its executable, the interpreter pio runs SCons with."""
    env = dict(os.environ if base is None else base)
    if is_frozen():
        env["PYTHONEXEPATH"] = sys.executable
    env.update({
        "PLATFORMIO_CORE_DIR": str(Path(core_dir).resolve()),
        "PLATFORMIO_SETTING_ENABLE_TELEMETRY": "No",
        "PLATFORMIO_DISABLE_UPGRADE_CHECK": "true",
        "PLATFORMIO_DISABLE_PROGRESSBAR": "true",
        "PLATFORMIO_NO_ANSI": "true",
        "PYTHONUNBUFFERED": "1",
        "PYTHONIOENCODING": "utf-8",
    })
    return env


# ------------------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class MemoryUsage:
    """One of PlatformIO's usage lines: ``used`` bytes out of the board's ``total``."""

    used: int
    total: int

    @property
    def fraction(self) -> float:
        return self.used / self.total if self.total else 0.0


@dataclass
class PioResult:
    command: list[str]
    returncode: int
    lines: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    @property
    def ram(self) -> MemoryUsage | None:
        return parse_usage(self.lines).get("RAM")

    @property
    def flash(self) -> MemoryUsage | None:
        return parse_usage(self.lines).get("Flash")


_USAGE = re.compile(r"^(RAM|Flash):.*?\(used (\d+) bytes from (\d+) bytes\)")


def parse_usage(lines: Sequence[str] | str) -> dict[str, MemoryUsage]:
    """``{"RAM": ..., "Flash": ...}`` from lines like ``RAM:   [=   ]  12.3% (used 4032 bytes from 32768 bytes)``."""
    found: dict[str, MemoryUsage] = {}
    for line in lines.splitlines() if isinstance(lines, str) else lines:
        m = _USAGE.match(line.strip())
        if m:
            found[m.group(1)] = MemoryUsage(int(m.group(2)), int(m.group(3)))
    return found


# ------------------------------------------------------------------------------------------------- running


def _kill(proc: subprocess.Popen) -> None:
    """Stop pio and everything it started (its own process group), politely first."""
    for sig, wait in ((signal.SIGTERM, KILL_GRACE), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


_STATUS = re.compile(r"^(Processing|Compiling|Linking|Building|Archiving|Checking size|Running|Executing) ")


def run_pio(args: Sequence[str], core_dir: str | Path, *, cwd: str | Path | None = None,
            on_line: LineCallback | None = None, progress: ProgressLike | None = None,
            timeout: float = BUILD_TIMEOUT, pio: str | None = None) -> PioResult:
    """Run ``pio ARGS`` with the offline environment, passing each output line (stdout and stderr merged) to
    ``on_line`` as it comes. A non-zero exit is returned, not raised. Raises ``Cancelled`` (pio killed) once
    ``progress`` is cancelled, ``PioError`` after ``timeout`` seconds."""
    command = [*pio_command(pio or find_pio()), *map(str, args)]
    start = time.monotonic()
    try:
        proc = subprocess.Popen(command, cwd=cwd, env=pio_environment(core_dir), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, encoding="utf-8",
                                errors="replace", start_new_session=True)
    except OSError as e:
        raise PioNotFound(f"{command[0]}: {e.strerror or e}", command=command) from None
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        try:
            for raw in proc.stdout:
                lines.put(raw.rstrip("\r\n"))
        except (OSError, ValueError):  # the pipe closed under us after a kill
            pass
        lines.put(None)

    reader = threading.Thread(target=pump, name="pio-log", daemon=True)
    reader.start()
    result = PioResult(command, -1)
    try:
        while True:
            if progress is not None and progress.cancelled:
                raise Cancelled()
            if time.monotonic() - start > timeout:
                raise PioError(f"pio {args[0]}: no result within {timeout:g} s; stopped", result.log, command)
            try:
                line = lines.get(timeout=0.1)
            except queue.Empty:
                continue
            if line is None:
                break
            result.lines.append(line)
            if on_line is not None:
                on_line(line)
            if progress is not None and _STATUS.match(line):
                progress.update(status=line)
        result.returncode = proc.wait()
    finally:
        if proc.poll() is None:
            _kill(proc)
        reader.join(KILL_GRACE)  # EOF once the whole process group is gone
        proc.stdout.close()
    result.seconds = time.monotonic() - start
    return result


def pio_run(project_dir: str | Path, env: str, core_dir: str | Path, *, targets: Sequence[str] = (),
            on_line: LineCallback | None = None, progress: ProgressLike | None = None,
            timeout: float = BUILD_TIMEOUT, verbose: bool = False, pio: str | None = None) -> PioResult:
    """``pio run -d PROJECT -e ENV [-t TARGET]...``; raises ``PioBuildError`` (one line, full log) on failure."""
    args = ["run", "-d", str(project_dir), "-e", env, *(a for t in targets for a in ("-t", t))]
    if verbose:
        args.append("-v")
    result = run_pio(args, core_dir, on_line=on_line, progress=progress, timeout=timeout, pio=pio)
    if not result.ok:
        raise PioBuildError(failure_line(result.lines), result.log, result.command)
    return result


# ---------------------------------------------------------------------------------------------- failures

_TOOLCHAIN = re.compile(r"toolchain not found: .*")
_COMPILER = re.compile(r"^(?!collect2)\S.*?:\d+(:\d+)?: (fatal )?error: ")
_LINKER = re.compile(r"undefined reference to|multiple definition of|region `[^']+' overflowed|will not fit in region"
                     r"|cannot find -l|cannot open linker script|No such file or directory")
_PIO = re.compile(r"^(Error|[A-Z]\w*(Error|Exception)):(\s|$)")
_INSTALLING = re.compile(r"^(Tool|Platform|Library) Manager: Installing (?!(file|symlink)://)(\S+.*)$")
_ANY_ERROR = re.compile(r"\berror\b", re.IGNORECASE)
_LD_PREFIX = re.compile(r"^\S*/ld(\.bfd)?: ")
_SUMMARY = re.compile(r"\[FAILED\]|\bFAILED\s+\d\d:|^Environment\s+Status|\d+ failed, \d+ succeeded")


def failure_line(lines: Sequence[str] | str) -> str:
    """The one line of a failed ``pio run`` that says what went wrong."""
    lines = [ln.strip() for ln in (lines.splitlines() if isinstance(lines, str) else lines) if ln.strip()]
    for ln in lines:
        m = _TOOLCHAIN.search(ln)
        if m:
            return m.group(0)
    for pattern in (_COMPILER, _LINKER):
        line = next((ln for ln in lines if pattern.search(ln)), None)
        if line is not None:
            return _LD_PREFIX.sub("ld: ", line)
    pio_error = next((ln for ln in lines if _PIO.match(ln)), None)
    download = next((m.group(3) for ln in lines if (m := _INSTALLING.match(ln))), None)
    if download is not None and (pio_error is None or "HTTP" in pio_error or "Internet" in pio_error):
        why = f" ({pio_error.rstrip(': ')})" if pio_error else ""
        return f"PlatformIO needed {download} from its registry, which is unreachable{why}"
    if pio_error is not None:
        return pio_error
    scons = next((ln for ln in lines if ln.startswith("*** ")), None)
    if scons is not None:
        return scons
    useful = [ln for ln in lines if not set(ln) <= set("=-* ") and not _SUMMARY.search(ln)]
    return next((ln for ln in useful if _ANY_ERROR.search(ln)), useful[-1] if useful else "pio failed without output")


# --------------------------------------------------------------------------------------------- the registry

REGISTRY_HOST = "api.registry.platformio.org"  # PlatformIO's first registry mirror (HTTPS)
REGISTRY_PORT = 443
_registry_lock = threading.Lock()
_registry_cache: dict[tuple[str, int], bool] = {}


def _proxy() -> tuple[str, int] | None:
    """The HTTPS proxy pio's requests would use, as (host, port)."""
    url = next((os.environ[k] for k in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy") if os.environ.get(k)),
               None)
    if not url:
        return None
    parts = urlsplit(url if "://" in url else f"http://{url}")
    return (parts.hostname, parts.port or 3128) if parts.hostname else None


def registry_reachable(timeout: float = 2.0, *, refresh: bool = False) -> bool:
    """Whether a TCP connection to the registry (or to the HTTPS proxy, when one is set) opens within
    ``timeout`` seconds; asked once per process unless ``refresh``. pio itself needs about 60 s to give up."""
    target = _proxy() or (REGISTRY_HOST, REGISTRY_PORT)
    with _registry_lock:
        if not refresh and target in _registry_cache:
            return _registry_cache[target]
    answer: list[bool] = []

    def probe() -> None:
        try:
            socket.create_connection(target, timeout=timeout).close()
            answer.append(True)
        except OSError:
            answer.append(False)

    worker = threading.Thread(target=probe, name="pio-registry-probe", daemon=True)
    worker.start()
    worker.join(timeout + 1.0)  # a name lookup may not honour the timeout
    reachable = bool(answer and answer[0])
    with _registry_lock:
        _registry_cache[target] = reachable
    return reachable


def offline_notice(timeout: float = 2.0) -> str | None:
    """None when the registry answers, else a line for the user saying that builds work offline only."""
    if registry_reachable(timeout):
        return None
    return (f"The PlatformIO registry ({REGISTRY_HOST}) is unreachable: builds use the offline kit only "
            "(native and generic Cortex-M); other boards need their packages installed beforehand.")
