"""Small text helpers shared by the store, the formats and the CLI."""

from __future__ import annotations

import re
import unicodedata

MAX_LABEL_LENGTH = 128
_UNSAFE = re.compile(r"[^\w\- ]+", re.UNICODE)
_SPACES = re.compile(r"[\s_]+")


def oneline(text: str, limit: int = 200) -> str:
    """``text`` made safe for a one-line message: control characters escaped, length bounded."""
    out = []
    for ch in str(text):
        if ch in "\n\r\t" or unicodedata.category(ch).startswith("C"):
            out.append(ch.encode("unicode_escape").decode("ascii"))
        else:
            out.append(ch)
    s = "".join(out)
    return s if len(s) <= limit else s[: limit - 1] + "\u2026"


def normalize_label(label: str) -> str:
    """The label as stored: NFC, surrounding white space removed. Raises ValueError if unusable.

    Labels may hold any character, quotes, backslashes, newlines and non-ASCII included:
    code generators must escape them, never paste them.
    """
    if not isinstance(label, str):
        raise ValueError("label must be text")
    label = unicodedata.normalize("NFC", label).strip()
    if not label:
        raise ValueError("empty label")
    if len(label) > MAX_LABEL_LENGTH:
        raise ValueError(f"label longer than {MAX_LABEL_LENGTH} characters")
    if "\x00" in label:
        raise ValueError("label contains a NUL character")
    return label


def file_slug(label: str, limit: int = 48) -> str:
    """A file-name-safe stand-in for a label: letters, digits, '-', '_' only; never empty.

    Dots are removed so that Edge Impulse's uploader, which takes the label from the file name
    before the first dot, reads a recognisable label back.
    """
    slug = _UNSAFE.sub("_", unicodedata.normalize("NFC", label))
    slug = _SPACES.sub("_", slug).strip("_-")
    return (slug[:limit].rstrip("_-") or "unlabeled")


def label_from_filename(name: str) -> str:
    """Edge Impulse's uploader convention: the label is the file name before the first dot."""
    return name.split(".", 1)[0]
