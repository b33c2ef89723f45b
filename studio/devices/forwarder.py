"""The data-forwarder line protocol: one reading per line, values separated by commas, tabs or
white space, at a fixed rate. A line starting with ``#`` names the axes (``# ax,ay,az``).

:class:`LineParser` takes raw bytes in chunks of any size and returns the complete readings as
a float64 array. Lines that are not readings are counted, never raised: garbage bytes, lines
with another number of values than the stream has, a partial line left by a reconnect, and
``#`` lines that are comments rather than axis names.
"""

from __future__ import annotations

import re
from collections import Counter
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
    bytes: int = 0  # everything received

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


DECIDE_AFTER = 50  # readings seen before the axis count is chosen on its own (``decide`` chooses earlier)


@dataclass
class LineParser:
    """Incremental parser. Unless ``axes`` is given, it is chosen by :meth:`decide` (or after
    ``DECIDE_AFTER`` readings) as the number of values most lines have: one odd first line (a boot
    message, a cut line) never fixes it. A ``#`` line gives names only when their count matches."""

    axes: int | None = None
    names: list[str] | None = None
    stats: LineStats = field(default_factory=LineStats)
    last_bad: bytes = b""  # the last line that was not a reading, for messages
    _rest: bytes = b""
    _skip_first: bool = False
    _seen: list[list[float]] = field(default_factory=list)  # readings while the axis count is open
    _headers: list[list[str]] = field(default_factory=list)

    def start_mid_stream(self) -> None:
        """The next line is probably cut (we joined a running stream): drop it."""
        self._skip_first = True
        self._rest = b""

    def feed(self, chunk: bytes) -> np.ndarray:
        """Parse a chunk; returns the complete readings in it, shape (n, axes)."""
        self.stats.bytes += len(chunk)
        data = self._rest + chunk
        cut = data.rfind(b"\n")
        if cut < 0:
            self._rest = data
            if len(self._rest) > MAX_LINE:
                self.stats.overlong += 1
                self.last_bad = self._rest[:40]
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

    @property
    def readings_seen(self) -> int:
        """Numeric lines so far, accepted or still waiting for the axis count."""
        return self.stats.lines + len(self._seen)

    def settled(self, at_least: int = 10) -> bool:
        """Whether ``at_least`` readings have come and all have one width (the axes need no longer wait)."""
        return len(self._seen) >= at_least and len({len(r) for r in self._seen}) == 1

    def decide(self) -> np.ndarray:
        """Choose the axis count now, from the readings seen so far; returns those that have it."""
        if self.axes is None and self._seen:
            widths = Counter(len(r) for r in self._seen)
            self.axes = max(widths, key=lambda w: (widths[w], w))
            for names in self._headers:
                if len(names) == self.axes:
                    self.names = names
        if self.axes is None:
            return self._empty()
        rows = [r for r in self._seen if len(r) == self.axes]
        self.stats.wrong_axes += len(self._seen) - len(rows)
        self.stats.lines += len(rows)
        self._seen = []
        return np.array(rows, dtype=np.float64).reshape(len(rows), self.axes)

    def _empty(self) -> np.ndarray:
        return np.zeros((0, self.axes or 0))

    def _parse(self, lines: list[bytes]) -> np.ndarray:
        if any(ln[:1] == b"#" or ln[:2] == b"\r#" for ln in lines):
            lines = [ln for ln in lines if not self._header(ln)]
        text = _SEPARATORS.sub(b" ", b"\n".join(lines))
        rows = [r.split() for r in text.split(b"\n")]
        # fast path: every line has exactly the stream's number of values (checked line by line:
        # lines of other widths must never be joined up into readings)
        if self.axes is not None and all(len(r) == self.axes for r in rows):
            try:
                values = np.array([t for r in rows for t in r], dtype=np.float64).reshape(len(rows), self.axes)
                if np.isfinite(values).all():
                    self.stats.lines += len(rows)
                    return values
            except ValueError:
                pass
        return self._parse_slow(rows)

    def _parse_slow(self, rows: list[list[bytes]]) -> np.ndarray:
        out = []
        for tokens in rows:
            if not tokens:
                continue
            try:
                values = [float(t) for t in tokens]
            except ValueError:
                values = None
            if values is None or not all(np.isfinite(values)):
                self.stats.garbage += 1
                self.last_bad = b" ".join(tokens)[:40]
                continue
            if self.axes is None:
                self._seen.append(values)
            elif len(values) != self.axes:
                self.stats.wrong_axes += 1
                self.last_bad = b",".join(tokens)[:40]
            else:
                out.append(values)
        if self.axes is None:
            return self.decide() if len(self._seen) >= DECIDE_AFTER else self._empty()
        self.stats.lines += len(out)
        return np.array(out, dtype=np.float64).reshape(len(out), self.axes)

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
        if not names:
            return True
        if self.axes is None:
            self._headers.append(names)
        elif len(names) == self.axes:
            self.names = names
        return True


def format_line(values: np.ndarray | list[float], decimals: int = 4) -> bytes:
    """One reading in the data-forwarder format (used by the virtual board and tests)."""
    return (",".join(f"{v:.{decimals}f}" for v in values) + "\r\n").encode("ascii")
