"""Turn one input file into a header plus re-iterable 16-bit or float blocks.

Each reader does a validating first pass (hash, float32 check, frame count) before anything is
written, so a bad file is refused without leaving a trace; the second pass feeds the writer.
CSV and WAV are streamed in blocks, so memory does not grow with the file.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np

from studio.formats import csvfile, edge_impulse, wav
from studio.formats.errors import FormatError
from studio.formats.sample import AUDIO, SENSOR, ContentHasher, SampleHeader, audio_sensors, content_hash
from studio.jobs import ProgressLike

SUFFIXES = {".csv": "csv", ".wav": "wav", ".json": "json", ".cbor": "cbor"}
SPOOL_ROWS = 1 << 16


@dataclass
class Prepared:
    """A validated input: what to write and how to read it again."""

    header: SampleHeader
    digest: str
    wide: bool
    blocks: Callable[[], Iterator[np.ndarray]]
    notes: list[str] = field(default_factory=list)
    _close: Callable[[], None] | None = None

    def close(self) -> None:
        if self._close is not None:
            self._close()


def prepare(path: Path, fmt: str, hmac_key: bytes | None, frequency_hz: float | None,
            progress: ProgressLike, scratch: Path) -> Prepared:
    if fmt in ("json", "cbor"):
        return _prepare_document(path, fmt, hmac_key)
    if fmt == "wav":
        return _prepare_wav(path, progress)
    return _prepare_csv(path, frequency_hz, progress, scratch)


def _prepare_document(path: Path, fmt: str, key: bytes | None) -> Prepared:
    edge_impulse.check_size(path.stat().st_size)  # before reading a huge file into memory
    doc = edge_impulse.parse_document(path.read_bytes(), fmt, key)
    header, values = doc.header, doc.values
    notes = []
    if header.kind == AUDIO:
        rate = header.frequency_hz
        if abs(rate - round(rate)) > 1e-3 * rate:
            raise FormatError(f"audio interval {header.interval_ms} ms is not a whole sample rate")
        header.interval_ms = 1000.0 / round(rate)
        header.sensors = audio_sensors(header.axes)
        if not (np.all(values == np.rint(values)) and values.min() >= -32768 and values.max() <= 32767):
            raise FormatError("audio values must be whole numbers from -32768 to 32767 (16-bit samples)")
        values = values.astype(np.int16)
        notes.append(f"audio at {round(rate)} Hz stored as 16-bit WAV")
    if doc.alg == "HS256" and not doc.signature_verified:
        notes.append("HS256 signature not verified (no --hmac-key)")
    wide = header.kind == SENSOR and not edge_impulse.fits_float32(values)
    return Prepared(header, content_hash(header, values), wide, lambda: iter([values]), notes)


def _prepare_wav(path: Path, progress: ProgressLike) -> Prepared:
    size = path.stat().st_size
    f: BinaryIO = open(path, "rb")  # noqa: SIM115 - closed by Prepared.close
    try:
        info = wav.read_info(f, size)
        if info.frames == 0:
            raise FormatError("WAV holds no audio frames")
        hasher = ContentHasher(AUDIO)
        done = 0
        for block in wav.iter_int16(f, info):
            progress.check()
            hasher.update(block)
            done += len(block)
            progress.update(0.5 * done / info.frames)
    except BaseException:
        f.close()
        raise
    header = SampleHeader(AUDIO, audio_sensors(info.channels), 1000.0 / info.rate, info.frames,
                          device_type="WAV import")
    notes = [f"{info.rate} Hz, {info.channels} channel(s)"]
    if not (info.encoding == "pcm" and info.bits == 16):
        notes.append(f"converted {info.describe()} to 16-bit PCM")

    def blocks() -> Iterator[np.ndarray]:
        done = 0
        for block in wav.iter_int16(f, info):
            progress.check()
            done += len(block)
            progress.update(0.5 + 0.5 * done / info.frames)
            yield block

    return Prepared(header, hasher.hexdigest(header.sensors, header.interval_ms), False, blocks, notes, f.close)


def _prepare_csv(path: Path, frequency_hz: float | None, progress: ProgressLike, scratch: Path) -> Prepared:
    reader = csvfile.CsvReader(path)
    layout = reader.layout
    if layout.timestamp_col is None and frequency_hz is None:
        raise FormatError("no 'timestamp' column (ms) and no --frequency given")
    axes = len(layout.value_cols)
    hasher = ContentHasher(SENSOR)
    tracker = csvfile.IntervalTracker()
    fits32 = True
    frames = 0
    # an anonymous temp file: it disappears with the process, whatever kills it
    spool: BinaryIO = tempfile.TemporaryFile(dir=scratch)  # noqa: SIM115 - closed by Prepared.close
    try:
        for values, ts in reader.blocks():
            progress.check()
            if ts is not None and frequency_hz is None:
                tracker.add(ts)
            hasher.update(values)
            fits32 = fits32 and edge_impulse.fits_float32(values)
            spool.write(np.ascontiguousarray(values, dtype="<f8").tobytes())
            frames += len(values)
            progress.update(0.5 * reader.bytes_read / max(reader.size, 1))
        if frames == 0:
            raise FormatError("no data rows after the header")
        interval = 1000.0 / frequency_hz if frequency_hz is not None else tracker.interval_ms()
    except BaseException:
        spool.close()
        raise
    header = csvfile.header_for(layout, frames, interval)

    def blocks() -> Iterator[np.ndarray]:
        spool.seek(0)
        done = 0
        row_bytes = 8 * axes
        while True:
            raw = spool.read(SPOOL_ROWS * row_bytes)
            if not raw:
                return
            progress.check()
            block = np.frombuffer(raw, dtype="<f8").reshape(-1, axes)
            done += len(block)
            progress.update(0.5 + 0.5 * done / frames)
            yield block

    notes = [f"{frames} rows, {axes} axes at {1000.0 / interval:.6g} Hz"]
    return Prepared(header, hasher.hexdigest(header.sensors, interval), not fits32, blocks, notes, spool.close)
