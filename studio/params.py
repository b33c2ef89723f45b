"""Registry entries and their parameter schemas (DSP, learning blocks): types, ranges, defaults, one-line errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from studio.errors import StudioError


class ParamError(StudioError):
    """A bad block parameter, or a window or dataset the block cannot process; one line."""


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # "int", "float", "bool", "choice", "text", "floats" (comma-separated list)
    default: Any
    help: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = field(default_factory=tuple)

    def parse(self, value: Any) -> Any:
        """Turn text (CLI, GUI) or a JSON value into this parameter's type, checking its range."""
        try:
            if self.kind == "bool":
                if isinstance(value, str):
                    lowered = value.strip().lower()
                    if lowered not in ("true", "false", "1", "0", "yes", "no"):
                        raise ValueError(value)
                    value = lowered in ("true", "1", "yes")
                return bool(value)
            if self.kind == "text":
                return str(value).strip()
            if self.kind == "choice":
                if value not in self.choices:
                    raise ParamError(f"{self.name} must be one of {', '.join(self.choices)} (got {value!r})")
                return value
            if self.kind == "floats":
                items = value.split(",") if isinstance(value, str) else list(value)
                out = [float(v) for v in items if str(v).strip()]
                for v in out:
                    self._check_range(v)
                return out
            number = int(value) if self.kind == "int" else float(value)
            if self.kind == "int" and isinstance(value, float) and value != int(value):
                raise ValueError(value)
        except (TypeError, ValueError):
            raise ParamError(f"{self.name} must be {'a whole number' if self.kind == 'int' else self.kind}, "
                           f"got {value!r}") from None
        self._check_range(number)
        return number

    def _check_range(self, v: float) -> None:
        if self.minimum is not None and v < self.minimum:
            raise ParamError(f"{self.name} must be at least {self.minimum:g} (got {v:g})")
        if self.maximum is not None and v > self.maximum:
            raise ParamError(f"{self.name} must be at most {self.maximum:g} (got {v:g})")


@dataclass(frozen=True)
class Entry:
    """What every registry item (a DSP block, a learning block) has: a name, a title, a version, a parameter
    schema and a one-line summary. Subclasses add what their kind of item needs."""

    name: str
    title: str
    version: int
    schema: tuple[Param, ...]
    summary: str

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.schema}

    def resolve(self, given: dict[str, Any]) -> dict[str, Any]:
        return resolve(self.schema, given)


def resolve(schema: tuple[Param, ...], given: dict[str, Any]) -> dict[str, Any]:
    """Defaults overlaid with the given values, each parsed; unknown names are an error."""
    names = {p.name: p for p in schema}
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise ParamError(f"unknown parameter(s) {', '.join(unknown)} (known: {', '.join(names)})")
    return {p.name: p.parse(given[p.name]) if p.name in given else p.default for p in schema}


def next_pow2(n: int) -> int:
    return 1 << max(0, int(n) - 1).bit_length()
