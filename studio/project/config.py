"""``project.json``: the human-readable project config, versioned and migrated on open.

Later issues add their settings under ``settings`` (impulse, training, deploy, ...). Unknown
top-level keys are kept as they are, so an older app does not drop what a newer one wrote
unless the schema version says it cannot read it.
"""

from __future__ import annotations

import json
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.fsutil import atomic_write_text
from studio.project.errors import NeedsRepair, ProjectError

CONFIG_FILE = "project.json"
SCHEMA_VERSION = 1

# MIGRATIONS[n] turns a config of schema n into schema n + 1. Every schema change adds one.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}

_KNOWN = {"schema_version", "name", "created", "hmac_key", "sensors", "frequency_hz", "settings"}


@dataclass
class ProjectConfig:
    name: str
    hmac_key: str = field(default_factory=lambda: secrets.token_hex(32))
    created: float = field(default_factory=time.time)
    sensors: list[dict[str, str]] = field(default_factory=list)
    frequency_hz: float | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key_bytes(self) -> bytes:
        return self.hmac_key.encode("utf-8")

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.extra)
        d.update(
            schema_version=SCHEMA_VERSION,
            name=self.name,
            created=self.created,
            hmac_key=self.hmac_key,
            sensors=self.sensors,
            frequency_hz=self.frequency_hz,
            settings=self.settings,
        )
        return d


def migrate(data: dict[str, Any], source: str) -> dict[str, Any]:
    version = data.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise NeedsRepair(f"{source}: missing or invalid schema_version", Path(source).parent)
    if version > SCHEMA_VERSION:
        raise ProjectError(
            f"{source}: made by a newer TinyML Studio (schema {version}, this one reads up to {SCHEMA_VERSION})"
        )
    while version < SCHEMA_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise ProjectError(f"{source}: no migration from schema {version}")
        data = step(dict(data))
        version += 1
        data["schema_version"] = version
    return data


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def field_problems(data: dict[str, Any]) -> list[str]:
    """What is wrong with a parsed config's known fields (one phrase each)."""
    problems = []
    if not isinstance(data.get("name"), str):
        problems.append("'name' must be text")
    key = data.get("hmac_key")
    if not isinstance(key, str) or not key:
        problems.append("'hmac_key' must be non-empty text")
    if "created" in data and not _finite(data["created"]):
        problems.append("'created' must be a number (seconds since 1970)")
    sensors = data.get("sensors", [])
    if sensors is not None and not (isinstance(sensors, list) and all(
            isinstance(s, dict) and isinstance(s.get("name"), str) and isinstance(s.get("units", ""), str)
            for s in sensors)):
        problems.append("'sensors' must be a list of {\"name\", \"units\"} objects")
    freq = data.get("frequency_hz")
    if freq is not None and not (_finite(freq) and freq > 0):
        problems.append("'frequency_hz' must be a positive number or null")
    if data.get("settings") is not None and not isinstance(data.get("settings"), dict):
        problems.append("'settings' must be an object")
    return problems


def config_from_dict(data: dict[str, Any]) -> ProjectConfig:
    freq = data.get("frequency_hz")
    return ProjectConfig(
        name=data["name"],
        hmac_key=data["hmac_key"],
        created=float(data.get("created") or 0.0),
        sensors=[{"name": s["name"], "units": s.get("units", "")} for s in data.get("sensors") or []],
        frequency_hz=float(freq) if freq is not None else None,
        settings=data.get("settings") or {},
        extra={k: v for k, v in data.items() if k not in _KNOWN},
    )


def read_raw(path: Path) -> dict[str, Any]:
    """The parsed config before its fields are checked (migrated to this schema)."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProjectError(f"{path.parent}: not a TinyML Studio project (no {CONFIG_FILE})") from None
    except IsADirectoryError:
        raise NeedsRepair(f"{path}: is a folder, not the project's config", path.parent) from None
    except UnicodeDecodeError:
        raise NeedsRepair(f"{path}: not UTF-8 text", path.parent) from None
    except OSError as e:
        raise ProjectError(f"{path}: cannot read ({e.strerror or e})") from None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as e:
        raise NeedsRepair(f"{path}: not valid JSON ({str(e).splitlines()[0]})", path.parent) from None
    if not isinstance(data, dict):
        raise NeedsRepair(f"{path}: not a project config (not a JSON object)", path.parent)
    return data


def load_config(path: Path) -> tuple[ProjectConfig, bool]:
    """Read, migrate and check; returns the config and whether a migration changed it."""
    data = read_raw(path)
    before = data.get("schema_version")
    data = migrate(data, str(path))
    problems = field_problems(data)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise NeedsRepair(f"{path}: {problems[0]}{more}", path.parent)
    return config_from_dict(data), before != SCHEMA_VERSION


def save_config(path: Path, cfg: ProjectConfig) -> None:
    atomic_write_text(path, json.dumps(cfg.to_dict(), indent=2, ensure_ascii=False) + "\n")
