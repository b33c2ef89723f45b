"""C literals from Python values: strings, floats, arrays, identifiers, comments.

Nothing that comes from a user (a label, a name) reaches C source except through these helpers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

from studio.errors import StudioError


class CSourceError(StudioError):
    """Something cannot be written as C source (a bad name or value, an unknown block or version,
    an inconsistent run); the renderers of generated C raise it with a one-line reason."""


_SIMPLE = {"\n": "\\n", "\t": "\\t", "\r": "\\r", '"': '\\"', "\\": "\\\\",
           # "?" is escaped so that no trigraph (??= ??/ ...) can form: gcc -std=c99 honours them
           "?": "\\?"}
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_C_KEYWORDS = frozenset((
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum", "extern", "float",
    "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return", "short", "signed", "sizeof",
    "static", "struct", "switch", "typedef", "union", "unsigned", "void", "volatile", "while", "_Bool", "_Complex",
    "_Imaginary"))


def c_string(text: str) -> str:
    """``text`` as a C99 string literal holding its UTF-8 bytes.

    Printable ASCII is kept (quote, backslash and question mark escaped); every other byte is a
    three-digit octal escape, which never absorbs the character after it (unlike ``\\x``)."""
    if "\0" in text:
        raise CSourceError(f"{text!r} holds a NUL character, which a C string cannot carry")
    out = []
    for byte in text.encode("utf-8"):
        ch = chr(byte)
        if ch in _SIMPLE:
            out.append(_SIMPLE[ch])
        elif 0x20 <= byte < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\{byte:03o}")
    return '"' + "".join(out) + '"'


def c_comment(text: str) -> str:
    """Text safe inside a ``/* */`` comment on one line: printable ASCII, no comment delimiters."""
    flat = "".join(ch if 0x20 <= ord(ch) < 0x7F else "?" for ch in str(text))
    return flat.replace("*/", "* /").replace("/*", "/ *")


def c_identifier(name: str, what: str) -> str:
    if not _IDENT.match(name) or name in _C_KEYWORDS:
        raise CSourceError(f"{what} {name!r} is not a C identifier (letters, digits and _, not starting "
                            "with a digit, not a keyword)")
    return name


def c_float(value: float) -> str:
    """The float32 nearest ``value`` as a C float literal that reads back to exactly that float."""
    v = np.float32(value)
    if not np.isfinite(v):
        raise CSourceError(f"{value!r} does not fit a C float")
    text = str(v)  # shortest text that round-trips as float32
    if "." not in text and "e" not in text:
        text += ".0"
    return text + "f"


def c_int(value: int) -> str:
    v = int(value)
    if v == -(2**31):
        return "(-2147483647 - 1)"  # 2147483648 alone is not an int, so "-2147483648" would not be either
    return f"({v})" if v < 0 else str(v)


def c_array(values: Iterable, kind: str = "float", per_line: int = 8, indent: str = "    ") -> str:
    """The inside of a C initialiser (``{`` ... ``}`` excluded), ``per_line`` values a line."""
    fmt = c_float if kind == "float" else c_int
    items = [fmt(v) for v in np.asarray(list(values) if not isinstance(values, np.ndarray) else values).ravel()]
    if not items:
        raise CSourceError("an empty C array was requested")
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return indent + (",\n" + indent).join(lines)
