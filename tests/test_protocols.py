"""The data-forwarder line parser and the framed binary protocol."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.devices import framed
from studio.devices.forwarder import DECIDE_AFTER, MAX_LINE, LineParser, format_line


def feed_in_pieces(parser, data, cuts):
    out = []
    pos = 0
    for c in sorted(cuts) + [len(data)]:
        out.append(parser.feed(data[pos:c]))
        pos = c
    out.append(parser.decide())  # the whole stream is in: the axis count is chosen from all of it
    return np.concatenate([o for o in out if o.size]) if any(o.size for o in out) else np.zeros((0, 0))


def test_separators_header_and_partial_lines():
    p = LineParser()
    got = feed_in_pieces(p, b"# ax, ay ,az\r\n1,2,3\r\n4\t5\t6\n7 8  9\n10;11;12\n13,1", [3, 10, 17])
    np.testing.assert_array_equal(got, [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]])
    assert p.names == ["ax", "ay", "az"] and p.axes == 3
    assert p.stats.lines == 4 and p.stats.headers == 1
    np.testing.assert_array_equal(p.feed(b"4,15\n"), [[13, 14, 15]])


def test_garbage_wrong_axes_and_overlong_runs_are_counted_not_raised():
    p = LineParser()
    p.feed(b"1,2,3\nhello\n1,2\n\xff\xfe\x00\n4,5,6\nnan,1,2\n")
    got = p.decide()
    np.testing.assert_array_equal(got, [[1, 2, 3], [4, 5, 6]])
    assert (p.stats.garbage, p.stats.wrong_axes) == (3, 1)
    p.feed(b"x" * (MAX_LINE + 10))
    assert p.stats.overlong == 1
    np.testing.assert_array_equal(p.feed(b"\n7,8,9\n"), [[7, 8, 9]])


def test_joining_mid_stream_drops_the_cut_first_line():
    p = LineParser(axes=3)
    p.start_mid_stream()
    np.testing.assert_array_equal(p.feed(b".5,6\n1,2,3\n"), [[1, 2, 3]])
    assert p.stats.wrong_axes == 0


def test_the_axis_count_is_what_most_lines_have_not_the_first_line_nor_a_comment():
    for first in (b"# LSM9DS1 ready\r\n", b"0.5,0.25\r\n", b"# booting\r\n0.5,0.25\r\n"):
        p = LineParser()
        p.feed(first + b"# ax,ay,az\r\n" + b"".join(format_line([i, -i, 2 * i]) for i in range(20)))
        got = p.decide()
        assert p.axes == 3 and p.names == ["ax", "ay", "az"] and len(got) == 20
        np.testing.assert_array_equal(p.feed(format_line([1, 2, 3])), [[1, 2, 3]])
        assert p.stats.wrong_axes == (1 if b"0.5" in first else 0)


def test_after_enough_lines_the_axis_count_is_chosen_on_its_own():
    p = LineParser()
    got = p.feed(b"0.5,0.25\n" + b"".join(format_line([i, i, i]) for i in range(DECIDE_AFTER)))
    assert p.axes == 3 and len(got) == DECIDE_AFTER and p.stats.wrong_axes == 1


@pytest.mark.parametrize("chunk", [b"7,7\n8,8,8,8\n", b"1,2\n3,4,5,6\n7,8,9\n", b"1 2\n3\t4,5,6\n"])
def test_lines_of_other_widths_are_never_joined_into_readings(chunk):
    p = LineParser(axes=3)
    got = p.feed(chunk)
    widths = [len(ln.replace(b"\t", b",").replace(b" ", b",").split(b",")) for ln in chunk.splitlines()]
    assert len(got) == widths.count(3)
    assert p.stats.wrong_axes == len(widths) - widths.count(3)


@settings(max_examples=300)
@given(rows=st.lists(st.lists(st.integers(-99, 99), min_size=1, max_size=5), max_size=30))
def test_property_only_lines_of_the_stream_width_become_readings(rows):
    p = LineParser(axes=3)
    got = p.feed(b"".join(format_line(r, 0) for r in rows))
    np.testing.assert_array_equal(got.reshape(-1, 3), np.array([r for r in rows if len(r) == 3]).reshape(-1, 3))


@settings(max_examples=300)
@given(data=st.binary(max_size=400), cuts=st.lists(st.integers(0, 400), max_size=6))
def test_property_any_bytes_in_any_pieces_never_crash(data, cuts):
    p = LineParser()
    got = feed_in_pieces(p, data, [c for c in cuts if c <= len(data)])
    assert np.isfinite(got).all()


@settings(max_examples=100)
@given(rows=st.lists(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=6, max_size=6), min_size=1,
                     max_size=50),
       cuts=st.lists(st.integers(0, 5000), max_size=8))
def test_property_formatted_readings_round_trip_whatever_the_chunking(rows, cuts):
    data = b"".join(format_line(r) for r in rows)
    got = feed_in_pieces(LineParser(), data, [c for c in cuts if c <= len(data)])
    np.testing.assert_allclose(got, np.round(np.array(rows), 4), atol=1e-4)


def test_crc16_check_value():
    assert framed.crc16(b"123456789") == 0x29B1


def test_frames_decode_and_count_corrupt_and_dropped():
    samples = [np.arange(i * 100, i * 100 + 160, dtype=np.int16) for i in range(10)]
    frames = [framed.encode(i, s) for i, s in enumerate(samples)]
    broken = bytearray(frames[3])
    broken[20] ^= 0xFF  # corrupt payload
    stream = b"junk" + frames[0] + frames[1] + frames[2] + bytes(broken) + frames[5] + b"\xa5" + frames[6]
    dec = framed.FrameDecoder()
    got = np.concatenate([dec.feed(stream[i : i + 7]) for i in range(0, len(stream), 7)])
    expected = np.concatenate([samples[i] for i in (0, 1, 2, 5, 6)])
    np.testing.assert_array_equal(got[:, 0], expected)
    assert dec.stats.frames == 5 and dec.stats.corrupt >= 1
    assert dec.stats.dropped == 2  # 3 (corrupt) and 4 (never sent)


def test_sequence_wraps_without_counting_drops():
    dec = framed.FrameDecoder()
    dec.feed(framed.encode(65535, np.zeros(4, np.int16)) + framed.encode(0, np.ones(4, np.int16)))
    assert dec.stats.dropped == 0 and dec.stats.frames == 2


@settings(max_examples=300)
@given(data=st.binary(max_size=600))
def test_property_framed_decoder_survives_any_bytes(data):
    dec = framed.FrameDecoder()
    dec.feed(data)
    dec.feed(framed.encode(1, np.arange(8, dtype=np.int16)))
    assert dec.stats.frames >= 1
