"""The one Jinja2 set-up for generated code (``project_templates/<folder>``): an undefined name is an
error, nothing is HTML-escaped, and the filters write C literals through ``studio.c_literals``, so no
label or name is ever pasted raw into code."""

from __future__ import annotations

from collections.abc import Callable

import jinja2

from studio import c_literals
from studio.errors import StudioError
from studio.paths import project_templates_dir


def code_environment(folder: str, error: Callable[[str], StudioError] = StudioError,
                     ints_per_line: int = 12) -> jinja2.Environment:
    """Templates of ``project_templates/<folder>``; ``error`` builds the exception when they are missing."""
    path = project_templates_dir() / folder
    if not path.is_dir():
        raise error(f"{path}: the {folder} templates are missing")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(path)), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True, autoescape=False)
    env.filters.update(c_string=c_literals.c_string, c_float=c_literals.c_float, c_int=c_literals.c_int,
                       c_comment=c_literals.c_comment, c_floats=c_literals.c_array,
                       c_ints=lambda v: c_literals.c_array(v, "int", per_line=ints_per_line))
    return env
