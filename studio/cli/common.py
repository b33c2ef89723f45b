"""Helpers shared by the CLI commands: output, errors, id parsing."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from studio.errors import StudioError
from studio.formats.errors import FormatError
from studio.jobs import Progress
from studio.project import Project, ProjectError
from studio.text import oneline


class CommandError(Exception):
    """A failure to report as one line on stderr with exit status 1."""


def fail(message: str) -> int:
    print(f"tinyml-studio: error: {oneline(message, limit=1000)}", file=sys.stderr)
    return 1


def warn(message: str) -> None:
    print(f"tinyml-studio: warning: {oneline(message, limit=1000)}", file=sys.stderr)


def emit_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


@contextmanager
def open_project(path: str) -> Iterator[Project]:
    try:
        project = Project.open(Path(path))
    except ProjectError as e:
        raise CommandError(str(e)) from None
    try:
        yield project
    except (ProjectError, FormatError) as e:
        raise CommandError(str(e)) from None
    except OSError as e:
        raise CommandError(f"{e.filename or path}: {e.strerror or e}") from None
    finally:
        project.close()


def ids_arg(values: list[str]) -> list[int]:
    """Sample ids from ``1 2 3``, ``1,2,3`` or ranges like ``4-9``."""
    out: list[int] = []
    for v in values:
        for part in v.split(","):
            part = part.strip()
            if not part:
                continue
            try:
                if "-" in part:
                    a, b = (int(x) for x in part.split("-", 1))
                    out.extend(range(a, b + 1))
                else:
                    out.append(int(part))
            except ValueError:
                raise CommandError(f"not a sample id or range: {part!r}") from None
    if not out:
        raise CommandError("no sample ids given")
    return out


def status_printer(enabled: bool) -> Callable[[Any], None] | None:
    """A progress listener that prints status changes to stderr when stderr is a terminal."""
    if not enabled or not sys.stderr.isatty():
        return None
    last = [""]

    def show(event: Any) -> None:
        if event.status != last[0]:
            last[0] = event.status
            sys.stderr.write(f"\r\x1b[K{int(event.fraction * 100):3d}% {oneline(event.status, 100)}")
            sys.stderr.flush()

    return show


def name_values(items: list[str]) -> dict[str, str]:
    """``NAME=VALUE`` options (``--param``) as a dict."""
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise CommandError(f"--param needs NAME=VALUE, got {item!r}")
        out[name.strip()] = value.strip()
    return out


def run_job(job: Callable[[Any, Progress], Any], params: Any, show: bool,
            errors: tuple[type[Exception], ...] = (StudioError,)) -> Any:
    """Run a job with a status line on stderr (when ``show`` and stderr is a terminal); the
    ``errors`` it raises become one-line command errors."""
    listener = status_printer(show)
    try:
        return job(params, Progress(listener))
    except errors as e:
        raise CommandError(str(e)) from None
    finally:
        if listener:
            sys.stderr.write("\r\x1b[K")
