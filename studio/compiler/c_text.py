"""Turning Python values into C source text safely (nothing a user typed is pasted raw)."""

from __future__ import annotations

import re

import numpy as np

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def is_identifier(name: str) -> bool:
    return bool(_IDENT.match(name))


def string_literal(text: str) -> str:
    """A C string literal for ``text`` (UTF-8). Printable ASCII stays readable; everything else
    becomes an octal escape of its bytes, which never swallows a following digit (always three)."""
    out = ['"']
    for byte in text.encode("utf-8"):
        ch = chr(byte)
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "?":
            out.append("\\?")  # no trigraphs
        elif 0x20 <= byte < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\{byte:03o}")
    out.append('"')
    return "".join(out)


def float_literal(value: float) -> str:
    """A float32 constant that reads back to exactly the same float."""
    v = np.float32(value)
    if not np.isfinite(v):
        raise ValueError(f"not a finite float: {value}")
    return f"{float(v)!r}f" if float(v) != int(v) or abs(v) >= 1e16 else f"{float(v):.1f}f"


def array_body(values: np.ndarray, ctype: str, per_line: int = 24) -> str:
    flat = np.asarray(values).reshape(-1)
    if ctype == "float":
        items = [float_literal(v) for v in flat]
    else:
        items = [str(int(v)) for v in flat.tolist()]
        if ctype == "int32_t":
            items = ["(-2147483647 - 1)" if v == "-2147483648" else v for v in items]
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return ",\n    ".join(lines) if lines else "0"
