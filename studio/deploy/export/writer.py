"""The staging writer every deploy target renders through: templates of ``project_templates/firmware/`` into
the staging folder, keeping the list of written files (the export's manifest and the library zip's entries)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import jinja2

from studio.code_templates import code_environment
from studio.deploy.export.context import ini_text, md_text
from studio.deploy.export.errors import ExportError


def _environment() -> jinja2.Environment:
    env = code_environment("firmware", ExportError, ints_per_line=16)
    env.filters.update(ini=ini_text, md=md_text)
    return env


class Writer:
    """Renders templates into the staging folder and keeps the list of written files."""

    def __init__(self, root: Path, context: dict[str, Any]) -> None:
        self.root, self.context, self.env, self.files = root, context, _environment(), []

    def render(self, template: str, dest: str, **extra: Any) -> None:
        text = self.env.get_template(template).render({**self.context, **extra})
        self.text(dest, text)

    def text(self, dest: str, text: str) -> None:
        path = self.root / dest
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.files.append(dest)

    def copy(self, source: Path, dest: str) -> None:
        (self.root / dest).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, self.root / dest)
        self.files.append(dest)

    def generated(self, folder: str, before: set[Path]) -> None:
        self.files += sorted(p.relative_to(self.root).as_posix() for p in (self.root / folder).iterdir()
                             if p not in before)
