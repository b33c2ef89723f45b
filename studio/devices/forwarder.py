"""The data-forwarder line protocol: one reading per line, values separated by commas, tabs or
white space, at a fixed rate. A line starting with ``#`` names the axes (``# ax,ay,az``).

:class:`LineParser` takes raw bytes in chunks of any size and returns the complete readings as
a float64 array. Lines that are not readings are counted, never raised: garbage bytes, lines
with another number of values than the stream has, a partial line left by a reconnect.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

_SEPARATORS = re.compile(rb"[,\t;]")
MAX_LINE = 4096  # longer runs without a newline are garbage (a baud mismatch, binary data)


@dataclass
class LineStats:
    lines: int = 0  # readings accepted
    garbage: int = 0  # lines that are not numbers
    wrong_axes: int = 0  # numeric lines with another number of values
    overlong: int = 0  # runs of MAX_LINE bytes without a newline
    headers: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


@dataclass
class LineParser:
    """Incremental parser. ``axes`` is fixed by the first valid reading (or a header) unless given."""

    axes: int | None = None
    names: list[str] | None = None
    stats: LineStats = field(default_factory=LineStats)
    _rest: bytes = b""
    _skip_first: bool = False

    def start_mid_stream(self) -> None:
        """The next line is probably cut (we joined a running stream): drop it."""
        self._skip_first = True
        self._rest = b""

    def feed(self, chunk: bytes) -> np.ndarray:
        """Parse a chunk; returns the complete readings in it, shape (n, axes)."""
        data = self._rest + chunk
        cut = data.rfind(b"\n")
        if cut < 0:
            self._rest = data
            if len(self._rest) > MAX_LINE:
                self.stats.overlong += 1
                self._rest = b""
            return self._empty()
        self._rest = data[cut + 1 :]
        if len(self._rest) > MAX_LINE:
            self.stats.overlong += 1
            self._rest = b""
        lines = data[:cut].split(b"\n")
        if self._skip_first:
            self._skip_first = False
            lines = lines[1:]
        return self._parse(lines)

    def _empty(self) -> np.ndarray:
        return np.zeros((0, self.axes or 0))

    def _parse(self, lines: list[bytes]) -> np.ndarray:
        if any(ln[:1] == b"#" or ln[:2] == b"\r#" for ln in lines):
            lines = [ln for ln in lines if not self._header(ln)]
        text = _SEPARATORS.sub(b" ", b"\n".join(lines))
        rows = text.split(b"\n")
        # fast path: every line has the stream's number of numeric values
        if self.axes is not None:
            try:
                tokens = text.split()
                if len(tokens) == len(rows) * self.axes and all(r.strip() for r in rows):
                    values = np.array(tokens, dtype=np.float64).reshape(len(rows), self.axes)
                    if np.isfinite(values).all():
                        self.stats.lines += len(rows)
                        return values
            except ValueError:
                pass
        return self._parse_slow(rows)

    def _parse_slow(self, rows: list[bytes]) -> np.ndarray:
        out = []
        for row in rows:
            tokens = row.split()
            if not tokens:
                continue
            try:
                values = [float(t) for t in tokens]
            except ValueError:
                self.stats.garbage += 1
                continue
            if not all(np.isfinite(values)):
                self.stats.garbage += 1
                continue
            if self.axes is None:
                self.axes = len(values)
            if len(values) != self.axes:
                self.stats.wrong_axes += 1
                continue
            out.append(values)
        self.stats.lines += len(out)
        return np.array(out, dtype=np.float64).reshape(len(out), self.axes or 0)

    def _header(self, line: bytes) -> bool:
        s = line.strip()
        if not s.startswith(b"#"):
            return False
        self.stats.headers += 1
        try:
            names = [n.strip() for n in _SEPARATORS.sub(b",", s[1:]).decode("utf-8").split(",")]
        except UnicodeDecodeError:
            return True
        names = [n for n in names if n]
        if len(names) == 1 and " " in names[0]:
            names = names[0].split()
        if names and (self.axes is None or len(names) == self.axes):
            self.names = names
            self.axes = len(names)
        return True


def format_line(values: np.ndarray | list[float], decimals: int = 4) -> bytes:
    """One reading in the data-forwarder format (used by the virtual board and tests)."""
    return (",".join(f"{v:.{decimals}f}" for v in values) + "\r\n").encode("ascii")
