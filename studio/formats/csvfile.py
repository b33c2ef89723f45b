"""CSV sensor recordings, streamed in blocks.

The first row names the columns. A column named ``timestamp`` (milliseconds) gives the sampling
interval; otherwise the caller supplies a frequency. Delimiter: comma, semicolon, tab, or white
space, decided from the header. Values are parsed a block at a time with numpy; when a block
fails, it is re-read line by line to name the first bad line.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from studio.formats.errors import FormatError
from studio.formats.sample import MAX_AXES, SENSOR, SampleHeader, Sensor, interval_problem

BLOCK_BYTES = 1 << 20
TIMESTAMP = "timestamp"
_UNITS = re.compile(r"^(.*?)\s*[\(\[]([^\)\]]*)[\)\]]$")


@dataclass
class CsvLayout:
    delimiter: str | None  # None: white space
    columns: list[str]
    timestamp_col: int | None

    @property
    def value_cols(self) -> list[int]:
        return [i for i in range(len(self.columns)) if i != self.timestamp_col]


def _split(line: str, delimiter: str | None) -> list[str]:
    if delimiter is None:
        return line.split()
    if '"' in line:
        try:
            return next(csv.reader([line.replace("\r", "")], delimiter=delimiter))
        except csv.Error as e:
            raise FormatError(f"malformed quoting ({e})") from None
    return line.split(delimiter)


def parse_header(line: str) -> CsvLayout:
    stripped = line.strip()
    if not stripped:
        raise FormatError("empty header row")
    counts = {d: stripped.count(d) for d in (",", ";", "\t")}
    delim = max(counts, key=counts.get) if max(counts.values()) > 0 else None
    names = [c.strip().strip('"').strip() for c in _split(stripped, delim)]
    if len(names) < 1 or any(not n for n in names):
        raise FormatError("header row has an empty column name")
    numeric = 0
    for n in names:
        try:
            float(n)
            numeric += 1
        except ValueError:
            pass
    if numeric == len(names):
        raise FormatError("no header row (the first row is numbers; name the columns, e.g. 'timestamp,ax,ay,az')")
    if len(set(names)) != len(names):
        raise FormatError("header row has duplicate column names")
    ts = [i for i, n in enumerate(names) if n.lower() == TIMESTAMP]
    layout = CsvLayout(delim, names, ts[0] if ts else None)
    if not layout.value_cols:
        raise FormatError("no value columns besides the timestamp")
    if len(layout.value_cols) > MAX_AXES:
        raise FormatError(f"{len(layout.value_cols)} value columns; at most {MAX_AXES} are supported")
    return layout


def sensors_of(layout: CsvLayout) -> list[Sensor]:
    """Axis names from the header; ``ax (m/s2)`` or ``ax[m/s2]`` also gives units."""
    out = []
    for i in layout.value_cols:
        m = _UNITS.match(layout.columns[i])
        out.append(Sensor(m.group(1), m.group(2).strip()) if m and m.group(1) else Sensor(layout.columns[i], ""))
    return out


class CsvReader:
    """Iterate a CSV file as float64 blocks, validating as it goes."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.size = self.path.stat().st_size
        self.bytes_read = 0
        if self.size == 0:
            raise FormatError("empty file")
        with open(self.path, "rb") as f:
            first = f.readline(1 << 16)
        try:
            text = first.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise FormatError("not UTF-8 text") from None
        if not first.endswith(b"\n") and len(first) == 1 << 16:
            raise FormatError("header row longer than 64 KiB")
        self.layout = parse_header(text)
        self._header_bytes = len(first)

    def blocks(self) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        """Yield (values (n, axes) float64, timestamps (n,) or None) per block."""
        lineno = 1
        rest = b""
        with open(self.path, "rb") as f:
            f.seek(self._header_bytes)
            self.bytes_read = self._header_bytes
            while True:
                data = f.read(BLOCK_BYTES)
                self.bytes_read += len(data)
                if not data:
                    if rest.strip():
                        yield self._parse(_decode(rest, lineno + 1), lineno + 1)
                    return
                data = rest + data
                cut = data.rfind(b"\n")
                if cut < 0:
                    rest = data
                    continue
                block, rest = data[: cut + 1], data[cut + 1 :]
                text = _decode(block, lineno + 1)
                parsed = self._parse(text, lineno + 1)
                lineno += text.count("\n")
                if parsed[0].shape[0]:
                    yield parsed

    def _parse(self, text: str, first_line: int) -> tuple[np.ndarray, np.ndarray | None]:
        lay = self.layout
        ncols = len(lay.columns)
        lines = [ln for ln in text.replace("\r", "").split("\n") if ln.strip()]
        try:
            # fast path: every line has exactly the header's number of fields (checked per line: rows
            # of other widths must never be joined up into rows of the right width)
            if lay.delimiter is None:
                if any(len(ln.split()) != ncols for ln in lines):
                    raise ValueError("shape")
                fields = " ".join(lines).split()
            else:
                if '"' in text:
                    raise ValueError("quoted")
                gaps = ncols - 1
                if any(ln.count(lay.delimiter) != gaps for ln in lines):
                    raise ValueError("shape")
                fields = lay.delimiter.join(lines).split(lay.delimiter)
            table = np.array(fields, dtype=np.float64).reshape(len(lines), ncols)
            if not np.isfinite(table).all():
                raise ValueError("finite")
        except ValueError:
            table = self._parse_slow(text, first_line)
        values = table[:, lay.value_cols]
        ts = table[:, lay.timestamp_col] if lay.timestamp_col is not None else None
        return values, ts

    def _parse_slow(self, text: str, first_line: int) -> np.ndarray:
        lay = self.layout
        rows = []
        for offset, line in enumerate(text.replace("\r", "").split("\n")):
            if not line.strip():
                continue
            n = first_line + offset
            fields = _split(line, lay.delimiter)
            if len(fields) != len(lay.columns):
                raise FormatError(f"line {n}: expected {len(lay.columns)} values, found {len(fields)}")
            row = []
            for name, field in zip(lay.columns, fields, strict=True):
                token = field.strip().strip('"')
                try:
                    v = float(token)
                except ValueError:
                    raise FormatError(f"line {n}, column {name!r}: {token[:40]!r} is not a number") from None
                if not math.isfinite(v):
                    raise FormatError(f"line {n}, column {name!r}: non-finite value {token!r}")
                row.append(v)
            rows.append(row)
        return np.array(rows, dtype=np.float64).reshape(len(rows), len(lay.columns))


def _decode(block: bytes, first_line: int) -> str:
    try:
        return block.decode("utf-8")
    except UnicodeDecodeError as e:
        line = first_line + block[: e.start].count(b"\n")
        raise FormatError(f"line {line}: not UTF-8 text") from None


class IntervalTracker:
    """Checks that timestamps increase and derives the mean interval from them."""

    def __init__(self) -> None:
        self.first: float | None = None
        self.last: float | None = None
        self.count = 0

    def add(self, ts: np.ndarray) -> None:
        if ts.size == 0:
            return
        seq = ts if self.last is None else np.concatenate(([self.last], ts))
        with np.errstate(over="ignore", invalid="ignore"):  # +-1.7e308 apart is inf, still an increase
            steps = np.diff(seq) > 0
        if not steps.all():
            # data row number (1-based) of the first timestamp that is not after its predecessor
            row = self.count + int(np.argmin(steps)) + (1 if self.last is None else 0) + 1
            raise FormatError(f"timestamps do not increase at data row {row}")
        if self.first is None:
            self.first = float(ts[0])
        self.last = float(ts[-1])
        self.count += ts.size

    def interval_ms(self) -> float:
        if self.count < 2 or self.first is None or self.last is None:
            raise FormatError("need at least two rows to derive the interval from timestamps; give --frequency")
        with np.errstate(over="ignore"):
            interval = (np.float64(self.last) - np.float64(self.first)) / (self.count - 1)
        if (problem := interval_problem(float(interval))) is not None:
            raise FormatError(f"timestamps from {self.first:g} to {self.last:g} ms over {self.count} rows: {problem}")
        return float(interval)


def header_for(layout: CsvLayout, frames: int, interval_ms: float, device_name: str = "") -> SampleHeader:
    return SampleHeader(SENSOR, sensors_of(layout), interval_ms, frames, device_name=device_name,
                        device_type="CSV import")


def write_csv(w: io.TextIOBase, header: SampleHeader, blocks: Iterator[np.ndarray]) -> None:
    """Write ``timestamp,<axes>`` rows (timestamps in ms from 0) to a text stream."""
    cols = ["timestamp"] + [f"{s.name} ({s.units})" if s.units else s.name for s in header.sensors]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(cols)
    w.write(buf.getvalue())
    start = 0
    for block in blocks:
        n = len(block)
        ts = (np.arange(start, start + n) * header.interval_ms).reshape(n, 1)
        table = np.hstack([ts, np.asarray(block, dtype=np.float64).reshape(n, header.axes)])
        s = io.StringIO()
        np.savetxt(s, table, delimiter=",", fmt="%.9g")
        w.write(s.getvalue())
        start += n
