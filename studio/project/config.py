"""``project.json``: the human-readable project config, versioned and migrated on open.

Later issues add their settings under ``settings`` (impulse, training, deploy, ...). Unknown
top-level keys are kept as they are, so an older app does not drop what a newer one wrote
unless the schema version says it cannot read it.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.fsutil import atomic_write_text
from studio.project.errors import ProjectError

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
    if not isinstance(version, int) or version < 0:
        raise ProjectError(f"{source}: missing or invalid schema_version")
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


def load_config(path: Path) -> tuple[ProjectConfig, bool]:
    """Read and migrate; returns the config and whether a migration changed it."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProjectError(f"{path.parent}: not a TinyML Studio project (no {CONFIG_FILE})") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ProjectError(f"{path}: cannot read ({e})") from None
    try:
        data = json.loads(raw)
    except ValueError as e:
        raise ProjectError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise ProjectError(f"{path}: not a project config")
    before = data.get("schema_version")
    data = migrate(data, str(path))
    name, key = data.get("name"), data.get("hmac_key")
    if not isinstance(name, str) or not isinstance(key, str) or not key:
        raise ProjectError(f"{path}: 'name' and 'hmac_key' must be text")
    sensors = data.get("sensors") or []
    freq = data.get("frequency_hz")
    settings = data.get("settings") or {}
    if not isinstance(sensors, list) or not isinstance(settings, dict):
        raise ProjectError(f"{path}: 'sensors' must be a list and 'settings' an object")
    cfg = ProjectConfig(
        name=name,
        hmac_key=key,
        created=float(data.get("created") or 0.0),
        sensors=sensors,
        frequency_hz=float(freq) if isinstance(freq, int | float) else None,
        settings=settings,
        extra={k: v for k, v in data.items() if k not in _KNOWN},
    )
    return cfg, before != SCHEMA_VERSION


def save_config(path: Path, cfg: ProjectConfig) -> None:
    atomic_write_text(path, json.dumps(cfg.to_dict(), indent=2, ensure_ascii=False) + "\n")
