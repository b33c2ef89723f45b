"""WAV reading and writing, streamed.

Reads RIFF/WAVE with PCM 8/16/24/32-bit or IEEE float 32/64 (plain or WAVE_FORMAT_EXTENSIBLE),
any rate and channel count, and yields 16-bit blocks: 8-bit is re-centred and widened, 24- and
32-bit are rounded to their top 16 bits, float is clipped to [-1, 1] and scaled by 32767.
Writes 16-bit PCM only (the project's audio format).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from studio.formats.errors import FormatError
from studio.formats.sample import MAX_AXES, interval_problem

PCM, IEEE_FLOAT, EXTENSIBLE = 0x0001, 0x0003, 0xFFFE
_GUID_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
HEADER_BYTES = 44


@dataclass(frozen=True)
class WavInfo:
    rate: int
    channels: int
    encoding: str  # "pcm" or "float"
    bits: int
    frames: int
    data_offset: int

    @property
    def frame_bytes(self) -> int:
        return self.channels * self.bits // 8

    def describe(self) -> str:
        kind = "float" if self.encoding == "float" else "PCM"
        return f"{self.bits}-bit {kind}, {self.channels} ch, {self.rate} Hz"


def read_info(f: BinaryIO, file_size: int) -> WavInfo:
    """Parse the chunks up to ``data``; ``f`` is left anywhere."""
    f.seek(0)
    head = f.read(12)
    if len(head) == 0:
        raise FormatError("empty file")
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise FormatError("not a RIFF/WAVE file")
    fmt = None
    pos = 12
    while True:
        f.seek(pos)
        ch = f.read(8)
        if len(ch) < 8:
            raise FormatError("no 'data' chunk (truncated file?)" if fmt else "no 'fmt ' chunk")
        cid, size = ch[:4], struct.unpack("<I", ch[4:])[0]
        body_at = pos + 8
        if cid == b"fmt ":
            if size < 16:
                raise FormatError("'fmt ' chunk too short")
            fmt = f.read(min(size, 40))
            if len(fmt) < 16:
                raise FormatError("truncated 'fmt ' chunk")
        elif cid == b"data":
            if fmt is None:
                raise FormatError("'data' chunk before 'fmt ' chunk")
            return _info_from(fmt, size, body_at, file_size)
        pos = body_at + size + (size & 1)
        if pos > file_size:
            raise FormatError(f"truncated: chunk {cid!r} runs past the end of the file")


def _info_from(fmt: bytes, data_size: int, data_at: int, file_size: int) -> WavInfo:
    tag, channels, rate, _byte_rate, block_align, bits = struct.unpack("<HHIIHH", fmt[:16])
    if tag == EXTENSIBLE:
        if len(fmt) < 40:
            raise FormatError("WAVE_FORMAT_EXTENSIBLE without its sub-format")
        sub = fmt[24:40]
        if sub[2:] != _GUID_TAIL:
            raise FormatError("unknown WAVE_FORMAT_EXTENSIBLE sub-format")
        tag = struct.unpack("<H", sub[:2])[0]
    if tag == PCM:
        encoding = "pcm"
        if bits not in (8, 16, 24, 32):
            raise FormatError(f"unsupported PCM sample size: {bits} bits (supported: 8, 16, 24, 32)")
    elif tag == IEEE_FLOAT:
        encoding = "float"
        if bits not in (32, 64):
            raise FormatError(f"unsupported float sample size: {bits} bits")
    else:
        raise FormatError(f"unsupported WAV encoding (format tag 0x{tag:04x}); convert it to PCM first")
    if channels == 0:
        raise FormatError("WAV header says 0 channels")
    if channels > MAX_AXES:
        raise FormatError(f"WAV header says {channels} channels; at most {MAX_AXES} are supported")
    if rate == 0:
        raise FormatError("WAV header says a sample rate of 0 Hz")
    if (problem := interval_problem(1000.0 / rate)) is not None:
        raise FormatError(f"WAV header says {rate} Hz: {problem}")
    frame_bytes = channels * bits // 8
    if block_align != frame_bytes:
        raise FormatError(f"inconsistent header: block align {block_align}, expected {frame_bytes}")
    available = file_size - data_at
    if data_size == 0xFFFFFFFF:  # streaming writers leave the size open
        data_size = available - available % frame_bytes
    if data_size % frame_bytes:
        raise FormatError(f"the data chunk of {data_size} bytes is not a whole number of {frame_bytes}-byte frames")
    if data_size > available:
        raise FormatError(
            f"truncated: the header announces {data_size // frame_bytes} frames, "
            f"the file holds {max(available, 0) // frame_bytes}"
        )
    return WavInfo(rate, channels, encoding, bits, data_size // frame_bytes, data_at)


def _to_int16(raw: bytes, info: WavInfo) -> np.ndarray:
    if info.encoding == "float":
        x = np.frombuffer(raw, dtype="<f4" if info.bits == 32 else "<f8")
        if not np.isfinite(x).all():
            raise FormatError("float WAV holds NaN or infinity")
        out = np.rint(np.clip(x, -1.0, 1.0) * 32767.0).astype(np.int16)
    elif info.bits == 16:
        out = np.frombuffer(raw, dtype="<i2")
    elif info.bits == 8:
        out = ((np.frombuffer(raw, dtype=np.uint8).astype(np.int16) - 128) << 8).astype(np.int16)
    elif info.bits == 24:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        v = np.where(v & 0x800000, v - (1 << 24), v)
        out = np.clip((v + 128) >> 8, -32768, 32767).astype(np.int16)
    else:  # 32-bit PCM
        v = np.frombuffer(raw, dtype="<i4").astype(np.int64)
        out = np.clip((v + 32768) >> 16, -32768, 32767).astype(np.int16)
    return out.reshape(-1, info.channels)


def iter_int16(f: BinaryIO, info: WavInfo, block_frames: int = 1 << 16) -> Iterator[np.ndarray]:
    """Yield blocks of shape (n, channels), int16, streaming from ``f``."""
    f.seek(info.data_offset)
    left = info.frames
    while left > 0:
        n = min(block_frames, left)
        raw = f.read(n * info.frame_bytes)
        if len(raw) < n * info.frame_bytes:
            raise FormatError("truncated: the file ended inside the audio data")
        left -= n
        yield _to_int16(raw, info)


def header_bytes(rate: int, channels: int, frames: int) -> bytes:
    data = frames * channels * 2
    if data + 36 > 0xFFFFFFFF:
        raise FormatError("audio too long for one WAV file (over 4 GiB)")
    if rate * channels * 2 > 0xFFFFFFFF or channels > 0xFFFF // 2:
        raise FormatError(f"{channels} channels at {rate} Hz do not fit a WAV header")
    return (
        b"RIFF" + struct.pack("<I", 36 + data) + b"WAVE"
        + b"fmt " + struct.pack("<IHHIIHH", 16, PCM, channels, rate, rate * channels * 2, channels * 2, 16)
        + b"data" + struct.pack("<I", data)
    )


def write_int16(f: BinaryIO, rate: int, channels: int, frames: int, blocks: Iterator[np.ndarray]) -> None:
    """Stream a 16-bit PCM WAV; ``frames`` must match the blocks."""
    f.write(header_bytes(rate, channels, frames))
    n = 0
    for b in blocks:
        f.write(np.ascontiguousarray(b, dtype="<i2").tobytes())
        n += len(b)
    if n != frames:
        raise ValueError(f"WAV header says {frames} frames, {n} were written")
