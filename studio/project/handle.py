"""What the store's helpers (the writer, recovery) need of an open project: a protocol, so that they depend on
the shape of a project and not on the store module, which depends on them."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any, Protocol

from studio.project.config import ProjectConfig
from studio.project.sample import Sample


class ProjectHandle(Protocol):
    path: Path
    config: ProjectConfig

    def transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]: ...

    def query(self, sql: str, args: tuple | list = ()) -> list[sqlite3.Row]: ...

    def raw_rows(self) -> list[dict[str, Any]]: ...

    def sample_path(self, sample: Sample) -> Path: ...

    def checked_label(self, label: str) -> str: ...
