"""Sample files inside a project: sensor data as signed Edge Impulse CBOR, audio as 16-bit WAV."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

import numpy as np

from studio.formats import edge_impulse, wav
from studio.formats.errors import FormatError
from studio.formats.sample import AUDIO, SampleHeader, audio_sensors


def write_sample(f: BinaryIO, header: SampleHeader, chunks: Iterable[np.ndarray], key: bytes, wide: bool) -> None:
    """Write one sample to the seekable ``f``; ``chunks`` must hold ``header.frames`` rows."""
    if header.kind == AUDIO:
        wav.write_int16(f, round(header.frequency_hz), header.axes, header.frames, iter(chunks))
    else:
        edge_impulse.write_document(f, header, chunks, "cbor", key, wide=wide)


def read_sample_file(path: Path, kind: str, key: bytes | None = None) -> tuple[SampleHeader, np.ndarray]:
    """Whole-file read: sensor values as float64 (frames, axes), audio as int16 (frames, channels).

    With ``key``, a sensor file must carry a valid HS256 signature made with it (project files are
    always signed): an edited file raises FormatError instead of being read as if it were ours."""
    if kind == AUDIO:
        with open(path, "rb") as f:
            info = wav.read_info(f, path.stat().st_size)
            if info.encoding != "pcm" or info.bits != 16:
                raise FormatError(f"project audio must be 16-bit PCM, found {info.describe()}")
            blocks = list(wav.iter_int16(f, info, block_frames=max(info.frames, 1)))
        values = blocks[0] if blocks else np.zeros((0, info.channels), np.int16)
        header = SampleHeader(AUDIO, audio_sensors(info.channels), 1000.0 / info.rate, info.frames)
        return header, values
    doc = edge_impulse.parse_document(path.read_bytes(), "cbor", key)
    if key is not None and not doc.signature_verified:
        raise FormatError("not signed with the project key (signature algorithm 'none')")
    if doc.header.kind != kind:
        raise FormatError(f"holds {doc.header.kind} data, the project keeps {kind} samples in this format")
    return doc.header, doc.values
