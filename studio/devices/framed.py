"""A small binary frame format for fast streams (a board's microphone at 16 kHz, int16).

    offset  size  field
    0       2     sync word 0xA5 0x5A
    2       1     type: 1 = int16 little-endian samples
    3       1     channels
    4       2     sequence number, little-endian, wraps at 65536
    6       2     payload length in bytes, little-endian (at most 4096)
    8       n     payload
    8+n     2     CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) over bytes 2..8+n, little-endian

A decoder hunts for the sync word, checks the length and the CRC, and counts corrupt frames
(bad CRC or impossible header) and dropped frames (gaps in the sequence numbers).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

SYNC = b"\xa5\x5a"
TYPE_INT16 = 1
HEADER = struct.Struct("<2sBBHH")
MAX_PAYLOAD = 4096


def _crc_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
        table.append(crc & 0xFFFF)
    return table


_TABLE = _crc_table()


def crc16(data: bytes, crc: int = 0xFFFF) -> int:
    """CRC-16/CCITT-FALSE; crc16(b"123456789") == 0x29B1."""
    for b in data:
        crc = ((crc << 8) & 0xFFFF) ^ _TABLE[((crc >> 8) ^ b) & 0xFF]
    return crc


def encode(seq: int, samples: np.ndarray, channels: int = 1) -> bytes:
    payload = np.ascontiguousarray(samples, dtype="<i2").tobytes()
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    head = HEADER.pack(SYNC, TYPE_INT16, channels, seq & 0xFFFF, len(payload))
    return head + payload + struct.pack("<H", crc16(head[2:] + payload))


@dataclass
class FrameStats:
    frames: int = 0
    corrupt: int = 0
    dropped: int = 0
    skipped_bytes: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


@dataclass
class FrameDecoder:
    channels: int | None = None
    stats: FrameStats = field(default_factory=FrameStats)
    _buf: bytearray = field(default_factory=bytearray)
    _last_seq: int | None = None

    def feed(self, chunk: bytes) -> np.ndarray:
        """Returns the samples of all complete, valid frames in order, shape (n, channels)."""
        self._buf += chunk
        out: list[np.ndarray] = []
        buf = self._buf
        pos = 0
        while True:
            at = buf.find(SYNC, pos)
            if at < 0:
                keep = len(buf) - 1 if buf[-1:] == SYNC[:1] else len(buf)
                self.stats.skipped_bytes += keep - pos
                pos = keep
                break
            self.stats.skipped_bytes += at - pos
            if len(buf) - at < HEADER.size:
                pos = at
                break
            _, kind, channels, seq, length = HEADER.unpack_from(buf, at)
            if kind != TYPE_INT16 or length > MAX_PAYLOAD or length % 2 or channels == 0:
                self.stats.corrupt += 1
                pos = at + 1
                continue
            end = at + HEADER.size + length + 2
            if len(buf) < end:
                pos = at
                break
            body = bytes(buf[at + 2 : end - 2])
            if crc16(body) != struct.unpack_from("<H", buf, end - 2)[0]:
                self.stats.corrupt += 1
                pos = at + 1
                continue
            if self._last_seq is not None:
                self.stats.dropped += (seq - self._last_seq - 1) & 0xFFFF
            self._last_seq = seq
            self.channels = self.channels or channels
            samples = np.frombuffer(body[HEADER.size - 2 :], dtype="<i2")
            if channels == self.channels:
                out.append(samples.reshape(-1, channels))
                self.stats.frames += 1
            else:
                self.stats.corrupt += 1
            pos = end
        del buf[:pos]
        if not out:
            return np.zeros((0, self.channels or 1), dtype=np.int16)
        return np.concatenate(out)
