"""The lines an exported firmware prints (docs/firmware-export.md), and their parser.

::

    #impulse v=1 project=<text> board=<text> hz=<hz> window=<frames> stride=<frames> axes=<n> classes=<n> anomaly=<0|1>
    #result t=<ms> dsp_us=<us> nn_us=<us> anomaly=<score|-> <label>=<score> <label>=<score> ...
    #error stage=<sensor|input|dsp|nn> code=<n>

Fields are separated by one space. Text (labels, the project and board names) is escaped so that a line
is printable ASCII without spaces inside a field: the text's UTF-8 bytes from ``!`` to ``~`` are kept
except ``%`` and ``=``, every other byte is ``%XX`` (two upper-case hex digits). The four fields after
``#result`` always come first, in this order, so a class may be named ``t`` or ``anomaly``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from studio.errors import StudioError

VERSION = 1
RESULT = "#result"
BANNER = "#impulse"
ERROR = "#error"
DECIMALS = 5
_HEX = re.compile(r"%([0-9A-F]{2})")
_NUMBER = re.compile(r"-?(\d+(\.\d+)?|inf)|nan")


class ResultLineError(StudioError):
    """A line that starts like one of the firmware's lines but is malformed."""


def escape_text(text: str) -> str:
    """``text`` as one field: printable ASCII bytes except ``%`` and ``=`` kept, every other byte ``%XX``."""
    return "".join(chr(b) if 0x21 <= b <= 0x7E and b not in (0x25, 0x3D) else f"%{b:02X}"
                   for b in str(text).encode("utf-8"))


def unescape_text(field: str) -> str:
    """The text of an escaped field; raises ``ResultLineError`` on a stray ``%``, a space or bad UTF-8."""
    if any(not 0x21 <= ord(c) <= 0x7E or c == "=" for c in field):
        raise ResultLineError(f"{field!r}: not an escaped field (printable ASCII without '=' expected)")
    parts = _HEX.split(field)  # text, hex, text, hex, ...
    if any("%" in p for p in parts[::2]):
        raise ResultLineError(f"{field!r}: '%' must be followed by two upper-case hex digits")
    data = b"".join(p.encode("ascii") if i % 2 == 0 else bytes.fromhex(p) for i, p in enumerate(parts))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ResultLineError(f"{field!r}: the escaped bytes are not UTF-8") from None


def format_number(value: float, decimals: int = DECIMALS) -> str:
    """A score as the firmware prints it: fixed point, ``nan``, ``inf`` or ``-inf`` (beyond +-4e9)."""
    if math.isnan(value):
        return "nan"
    if abs(value) >= 4e9:
        return "-inf" if value < 0 else "inf"
    text = f"{value:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


@dataclass(frozen=True)
class ResultLine:
    """One classified window: its time, the DSP and model times, the anomaly score and every class's score."""

    t_ms: int
    dsp_us: int
    nn_us: int
    anomaly: float | None
    labels: tuple[str, ...]
    scores: tuple[float, ...]

    @property
    def top(self) -> str:
        """The label with the highest score (the first on a tie; NaN never wins unless all are NaN)."""
        def key(i: int) -> tuple[float, int]:
            return (-math.inf if math.isnan(self.scores[i]) else self.scores[i], -i)

        return self.labels[max(range(len(self.scores)), key=key)]

    def score(self, label: str) -> float:
        return self.scores[self.labels.index(label)]

    def as_dict(self) -> dict[str, float]:
        return dict(zip(self.labels, self.scores, strict=True))


@dataclass(frozen=True)
class ImpulseLine:
    """The banner a firmware prints when it starts."""

    version: int
    fields: dict[str, str]

    @property
    def project(self) -> str:
        return self.fields.get("project", "")

    @property
    def board(self) -> str:
        return self.fields.get("board", "")


@dataclass(frozen=True)
class ErrorLine:
    stage: str
    code: int


def format_result_line(t_ms: int, dsp_us: int, nn_us: int, anomaly: float | None,
                       scores: dict[str, float] | list[tuple[str, float]]) -> str:
    """A ``#result`` line as the firmware prints it (without the newline)."""
    items = scores.items() if isinstance(scores, dict) else scores
    head = f"{RESULT} t={int(t_ms)} dsp_us={int(dsp_us)} nn_us={int(nn_us)} anomaly="
    head += "-" if anomaly is None else format_number(anomaly)
    return " ".join([head, *(f"{escape_text(label)}={format_number(score)}" for label, score in items)])


def format_banner(fields: dict[str, object]) -> str:
    """The ``#impulse`` line; text values are escaped, numbers written as they are."""
    parts = [f"{BANNER} v={VERSION}"]
    for key, value in fields.items():
        text = format(value, "g") if isinstance(value, float) else str(value)
        parts.append(f"{key}={escape_text(text)}")
    return " ".join(parts)


def _number(text: str, line: str) -> float:
    if not _NUMBER.fullmatch(text):
        raise ResultLineError(f"{line[:80]!r}: {text!r} is not a number")
    return float(text)


def _count(fields: list[str], key: str, line: str) -> int:
    name, sep, value = fields.pop(0).partition("=") if fields else ("", "", "")
    if name != key or not sep or not value.isdigit():
        raise ResultLineError(f"{line[:80]!r}: expected {key}=<whole number>")
    return int(value)


def _result(fields: list[str], line: str) -> ResultLine:
    t_ms, dsp_us, nn_us = (_count(fields, key, line) for key in ("t", "dsp_us", "nn_us"))
    name, _, value = fields.pop(0).partition("=") if fields else ("", "", "")
    if name != "anomaly" or not value:
        raise ResultLineError(f"{line[:80]!r}: expected anomaly=<score or ->")
    anomaly = None if value == "-" else _number(value, line)
    labels, scores = [], []
    for field in fields:
        label, sep, value = field.partition("=")
        if not sep:
            raise ResultLineError(f"{line[:80]!r}: {field[:40]!r} is not label=score")
        labels.append(unescape_text(label))
        scores.append(_number(value, line))
    if not labels:
        raise ResultLineError(f"{line[:80]!r}: no class scores")
    return ResultLine(t_ms, dsp_us, nn_us, anomaly, tuple(labels), tuple(scores))


def parse_line(line: str | bytes) -> ResultLine | ImpulseLine | ErrorLine | None:
    """A firmware line parsed; ``None`` for any other output. Raises ``ResultLineError`` (one line) when a
    line starts with ``#result``, ``#impulse`` or ``#error`` but does not follow the format."""
    if isinstance(line, bytes):
        line = line.decode("ascii", "replace")
    line = line.rstrip("\r\n")
    kind, _, rest = line.partition(" ")
    if kind not in (RESULT, BANNER, ERROR):
        return None
    fields = rest.split(" ")
    if kind == RESULT:
        return _result(fields, line)
    pairs = [f.partition("=") for f in fields]
    if any(not sep for _, sep, _ in pairs):
        raise ResultLineError(f"{line[:80]!r}: every field must be key=value")
    values = {key: unescape_text(value) if value else "" for key, _, value in pairs}
    if kind == ERROR:
        code = values.get("code", "")
        if "stage" not in values or not re.fullmatch(r"-?\d+", code):
            raise ResultLineError(f"{line[:80]!r}: expected stage=<name> code=<integer>")
        return ErrorLine(values["stage"], int(code))
    version = values.pop("v", "")
    if not version.isdigit():
        raise ResultLineError(f"{line[:80]!r}: expected v=<version> first")
    return ImpulseLine(int(version), values)


def parse_result_line(line: str | bytes) -> ResultLine | None:
    """``parse_line`` for ``#result`` lines only (other lines give ``None``)."""
    parsed = parse_line(line)
    return parsed if isinstance(parsed, ResultLine) else None
