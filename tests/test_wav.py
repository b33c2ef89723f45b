"""WAV reading: every PCM width and float, converted to 16-bit; broken files refused."""

from __future__ import annotations

import contextlib
import io
import struct

import numpy as np
import pytest
import soundfile
from conftest import tone, write_wav_raw
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.formats import wav
from studio.formats.errors import FormatError


def read16(path):
    with open(path, "rb") as f:
        info = wav.read_info(f, path.stat().st_size)
        data = np.concatenate(list(wav.iter_int16(f, info, block_frames=1000)))
    return info, data


def test_16bit_stereo_reads_exactly(tmp_path):
    x = np.stack([tone(4000), tone(4000, 1000)], axis=1)
    p = write_wav_raw(tmp_path / "s.wav", x.astype("<i2").tobytes(), rate=44100, channels=2)
    info, data = read16(p)
    assert (info.rate, info.channels, info.frames) == (44100, 2, 4000)
    np.testing.assert_array_equal(data, x)


@pytest.mark.parametrize("subtype", ["PCM_U8", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"])
def test_other_encodings_written_by_libsndfile_convert_to_16_bit(tmp_path, subtype):
    x = tone(8000, 300, 8000)
    if subtype == "PCM_U8":
        x = (x // 256) * 256  # exactly representable in 8 bits
    p = tmp_path / f"{subtype}.wav"
    # float files get float data in [-1, 1); libsndfile scales int16 data to the wider PCM widths itself
    soundfile.write(p, x / 32768.0 if subtype in ("FLOAT", "DOUBLE") else x, 8000, subtype=subtype)
    info, data = read16(p)
    assert info.rate == 8000 and info.frames == len(x)
    # float paths scale by 32767 (libsndfile by 32768): at most one step apart
    tolerance = 1 if subtype in ("FLOAT", "DOUBLE") else 0
    assert np.abs(data[:, 0].astype(int) - x.astype(int)).max() <= tolerance


def test_wave_format_extensible_is_understood(tmp_path):
    p = tmp_path / "ext.wav"
    x = tone(1000)
    soundfile.write(p, np.stack([x, x], 1), 16000, subtype="PCM_24", format="WAVEX")
    info, data = read16(p)
    assert info.channels == 2 and info.bits == 24
    np.testing.assert_array_equal(data[:, 1], x)


def test_float_is_clipped_not_wrapped(tmp_path):
    p = write_wav_raw(tmp_path / "f.wav", np.array([2.0, -3.0, 0.5], "<f4").tobytes(), bits=32, tag=3)
    _, data = read16(p)
    assert list(data[:, 0]) == [32767, -32767, 16384]


def test_float_nan_is_refused(tmp_path):
    p = write_wav_raw(tmp_path / "n.wav", np.array([0.0, np.nan], "<f4").tobytes(), bits=32, tag=3)
    with pytest.raises(FormatError, match="NaN"):
        read16(p)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p.write_bytes(b""), "empty file"),
        (lambda p: p.write_bytes(b"RIFX....WAVE"), "not a RIFF/WAVE"),
        (lambda p: write_wav_raw(p, b"\x00" * 100, data_size=1000), "truncated"),
        (lambda p: write_wav_raw(p, b"\x00" * 10, bits=12), "unsupported PCM sample size"),
        (lambda p: write_wav_raw(p, b"\x00" * 10, tag=2), "unsupported WAV encoding"),
        (lambda p: write_wav_raw(p, b"\x00" * 10, channels=0), "0 channels"),
        (lambda p: write_wav_raw(p, b"\x00" * 10, rate=0), "sample rate of 0"),
        (lambda p: p.write_bytes(write_wav_raw(p, b"\x00" * 10).read_bytes()[:30]), "fmt|truncated"),
    ],
)
def test_broken_wav_is_refused(tmp_path, make, message):
    p = tmp_path / "bad.wav"
    make(p)
    with pytest.raises(FormatError, match=message):
        read16(p)


def test_writer_output_is_read_by_libsndfile(tmp_path):
    x = np.stack([tone(3000), -tone(3000)], 1)
    buf = io.BytesIO()
    wav.write_int16(buf, 22050, 2, len(x), iter([x[:1000], x[1000:]]))
    p = tmp_path / "w.wav"
    p.write_bytes(buf.getvalue())
    data, rate = soundfile.read(p, dtype="int16")
    assert rate == 22050
    np.testing.assert_array_equal(data, x)


@settings(max_examples=300)
@given(raw=st.binary(max_size=120))
def test_property_arbitrary_bytes_after_riff_header_never_crash(tmp_path_factory, raw):
    p = tmp_path_factory.mktemp("w") / "x.wav"
    p.write_bytes(b"RIFF" + struct.pack("<I", len(raw) + 4) + b"WAVE" + raw)
    with contextlib.suppress(FormatError):
        read16(p)
