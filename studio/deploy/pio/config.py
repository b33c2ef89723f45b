"""Checking a project's ``platformio.ini`` with ``pio project config`` before building it.

Besides what pio rejects, an environment without a platform is an error, and a platform that is not installed
in the core dir is a warning: ``pio run`` would go to the registry for it (about 60 s to fail offline).
"""

from __future__ import annotations

import ast
import configparser
import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from studio.cortexm.toolchain import install_hint
from studio.deploy.pio import kit as pio_kit
from studio.deploy.pio.runner import QUICK_TIMEOUT, PioError, failure_line, registry_reachable, run_pio


class PioConfigError(PioError):
    """A project's ``platformio.ini`` is invalid."""


@dataclass(frozen=True)
class ProjectConfig:
    """A project's computed configuration: sections and their options (inherited ones included)."""

    sections: dict[str, dict[str, object]]
    warnings: list[str]

    @property
    def envs(self) -> list[str]:
        return [s[4:] for s in self.sections if s.startswith("env:")]

    def option(self, env: str, name: str, default: object = None) -> object:
        return self.sections.get(f"env:{env}", {}).get(name, default)


def _json_line(lines: Sequence[str]) -> str | None:
    return next((ln for ln in reversed(lines) if ln.startswith(("[", "{"))), None)


def installed_platforms(core_dir: str | Path) -> set[str]:
    """Names of the platforms installed in a core dir (folders, not ``symlink://`` links)."""
    names = set()
    for manifest in (Path(core_dir) / "platforms").glob("*/platform.json"):
        try:
            names.add(json.loads(manifest.read_text())["name"])
        except (OSError, ValueError, KeyError):
            continue
    return names


def _platform_warning(env: str, spec: str, installed: set[str]) -> str | None:
    if spec.startswith(("file://", "symlink://")):
        path = Path(spec.split("://", 1)[1])
        return None if (path / "platform.json").is_file() else f"[env:{env}]: no platform.json in {path}"
    name = _platform_name(spec)
    if name in installed:
        return None
    return f"[env:{env}]: platform {name} is not installed; pio would fetch it from the registry"


def validate_project(project_dir: str | Path, core_dir: str | Path, *, pio: str | None = None) -> ProjectConfig:
    """``pio project config`` (computed values, then ``--lint``); raises ``PioConfigError`` (one line) when pio
    rejects the ini or an environment names no platform."""
    base = ["project", "config", "-d", str(project_dir)]
    result = run_pio([*base, "--json-output"], core_dir, timeout=QUICK_TIMEOUT, pio=pio)
    data = _json_line(result.lines)
    if not result.ok or data is None:
        raise PioConfigError(failure_line(result.lines), result.log, result.command)
    sections = {name: dict(options) for name, options in json.loads(data)}
    lint = run_pio([*base, "--lint", "--json-output"], core_dir, timeout=QUICK_TIMEOUT, pio=pio)
    report = _json_line(lint.lines)
    if not lint.ok or report is None:
        raise PioConfigError(failure_line(lint.lines), lint.log, lint.command)
    found = ast.literal_eval(report)  # PlatformIO 6.2 prints a Python literal here, not JSON
    if found.get("errors"):
        first = found["errors"][0]
        raise PioConfigError(str(first.get("message", first)), lint.log, lint.command)
    config = ProjectConfig(sections, [str(w) for w in found.get("warnings", [])])
    ini = Path(project_dir) / "platformio.ini"
    if not config.envs:
        raise PioConfigError(f"{ini}: no [env:NAME] section", result.log, result.command)
    installed = installed_platforms(core_dir)
    for env in config.envs:
        platform = config.option(env, "platform")
        if not platform:
            raise PioConfigError(f"{ini}: [env:{env}] has no platform", result.log, result.command)
        warning = _platform_warning(env, str(platform), installed)
        if warning:
            config.warnings.append(warning)
    return config


def _ini(project_dir: str | Path) -> configparser.ConfigParser | None:
    ini = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        ini.read(Path(project_dir) / "platformio.ini", encoding="utf-8")
    except (OSError, configparser.Error):
        return None
    return ini


def env_platform(project_dir: str | Path, env: str) -> str | None:
    """The ``platform`` of ``[env:ENV]`` in the project's platformio.ini (read directly, no pio)."""
    ini = _ini(project_dir)
    return None if ini is None else ini.get(f"env:{env}", "platform", fallback=None)


def _platform_name(spec: str) -> str:
    return spec.split("@", 1)[0].strip().rsplit("/", 1)[-1]


def _offline_envs(project_dir: str | Path, installed: set[str], but: str) -> str:
    """``; build [env:a] or [env:b] instead``: the project's other environments whose platform is in the core."""
    ini = _ini(project_dir)
    ready = [f"[{s}]" for s in (ini.sections() if ini is not None else []) if s.startswith("env:") and s != f"env:{but}"
             and (spec := ini.get(s, "platform", fallback="")) and _platform_warning(s[4:], spec, installed) is None]
    return f"; build {' or '.join(ready)} instead" if ready else ""


def _own_platform_problem(env: str, name: str, core_dir: str | Path, others: str) -> str | None:
    """Why one of the app's own platforms (not in any registry) is missing from the core, or None for another one."""
    if name not in pio_kit.PLATFORM_FOLDERS:
        return None
    if name == pio_kit.CORTEXM_PLATFORM and shutil.which(pio_kit.ARM_GCC) is None:
        gcc = pio_kit.ARM_GCC
        return f"[env:{env}] cannot be built: {gcc} is not installed ({install_hint(gcc)}){others}"
    return (f"[env:{env}] cannot be built: the app's offline platform {name} is not installed in {core_dir} (it comes "
            f"with the offline kit: build from the app or with tinyml-studio deploy --build){others}")


def check_buildable(project_dir: str | Path, env: str, core_dir: str | Path) -> None:
    """Before ``pio run``: an environment whose platform is not in the core. The app's own platforms are in no
    registry: say what is missing (the GNU Arm compiler, or the offline kit). Another platform would be fetched
    from the registry; when that is unreachable, say so at once instead of after pio's 60 s of retries."""
    spec = env_platform(project_dir, env)
    installed = installed_platforms(core_dir)
    if not spec or _platform_warning(env, spec, installed) is None:
        return
    name = _platform_name(spec)
    others = _offline_envs(project_dir, installed, env)
    own = _own_platform_problem(env, name, core_dir, others)
    if own is not None:
        raise PioConfigError(own)
    if not registry_reachable():
        raise PioConfigError(f"[env:{env}] needs the {name} platform from the PlatformIO registry, which is "
                             f"unreachable (offline): install {name} on a connected machine first{others}")
