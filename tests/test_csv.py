"""CSV reading: header, delimiters, timestamps, errors with line numbers, streaming blocks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.formats import csvfile
from studio.formats.errors import FormatError


def read_all(path):
    r = csvfile.CsvReader(path)
    tracker = csvfile.IntervalTracker()
    blocks = []
    for values, ts in r.blocks():
        blocks.append(values)
        if ts is not None:
            tracker.add(ts)
    return r, np.concatenate(blocks) if blocks else np.zeros((0, 0)), tracker


@pytest.mark.parametrize("sep", [",", ";", "\t", " "])
def test_delimiters_and_timestamps(tmp_path, sep):
    f = tmp_path / "a.csv"
    f.write_text(sep.join(["timestamp", "ax", "ay"]) + "\n" + "\n".join(
        sep.join([str(i * 20), str(i), str(-i * 0.5)]) for i in range(10)) + "\n")
    r, values, tracker = read_all(f)
    assert r.layout.columns == ["timestamp", "ax", "ay"]
    assert values.shape == (10, 2) and values[3, 1] == -1.5
    assert tracker.interval_ms() == pytest.approx(20.0)


def test_units_in_header_crlf_bom_and_quotes(tmp_path):
    f = tmp_path / "a.csv"
    f.write_bytes(b'\xef\xbb\xbf"timestamp","accX (m/s2)","gyr[dps]"\r\n0,"1.5",2\r\n10,3,4\r\n')
    r, values, _ = read_all(f)
    assert [(s.name, s.units) for s in csvfile.sensors_of(r.layout)] == [("accX", "m/s2"), ("gyr", "dps")]
    np.testing.assert_array_equal(values, [[1.5, 2], [3, 4]])


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty file"),
        ("1,2,3\n4,5,6\n", "no header row"),
        ("a,b,a\n1,2,3\n", "duplicate"),
        ("a,,b\n1,2,3\n", "empty column"),
        ("timestamp\n1\n", "no value columns"),
        ("a,b\n1,2\n3\n", "line 3: expected 2 values, found 1"),
        ("a,b\n1,2\n3,4,5\n", "line 3: expected 2 values, found 3"),
        ("a,b\n1,2\n3,abc\n", "line 3, column 'b': 'abc' is not a number"),
        ("a,b\n1,nan\n", "line 2, column 'b': non-finite"),
        ("a,b\n1,2\n3,-inf\n", "line 3, column 'b': non-finite"),
    ],
)
def test_bad_csv_is_refused_with_line_and_reason(tmp_path, text, message):
    f = tmp_path / "bad.csv"
    f.write_text(text)
    with pytest.raises(FormatError, match=message):
        read_all(f)


def test_non_utf8_is_refused(tmp_path):
    f = tmp_path / "x.csv"
    f.write_bytes(b"a,b\n1,2\n\xff\xfe,3\n")
    with pytest.raises(FormatError, match="line 3: not UTF-8"):
        read_all(f)


def test_timestamps_must_increase(tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("timestamp,a\n0,1\n10,1\n10,1\n")
    with pytest.raises(FormatError, match="do not increase at data row 3"):
        read_all(f)


def test_errors_are_located_across_many_blocks(tmp_path, monkeypatch):
    monkeypatch.setattr(csvfile, "BLOCK_BYTES", 64)
    lines = ["a,b,c"] + [f"{i},{i},{i}" for i in range(500)]
    lines[377] = "1,2,oops"
    f = tmp_path / "long.csv"
    f.write_text("\n".join(lines) + "\n")
    with pytest.raises(FormatError, match="line 378, column 'c'"):
        read_all(f)
    lines[377] = "1,2,3"
    f.write_text("\n".join(lines))  # no final newline
    r, values, _ = read_all(f)
    assert values.shape == (500, 3) and values[-1, 0] == 499


@settings(max_examples=300)
@given(text=st.text(alphabet=st.sampled_from(list("ab,;\t 0123456789.-e\n\r\"nNaIf")), max_size=200))
def test_property_any_text_is_parsed_or_refused_cleanly(tmp_path_factory, text):
    f = tmp_path_factory.mktemp("csv") / "p.csv"
    f.write_text(text)
    try:
        r, values, tracker = read_all(f)
    except FormatError:
        return
    assert np.isfinite(values).all()
    assert values.shape[1] == len(r.layout.value_cols) if values.size else True


@settings(max_examples=100)
@given(rows=st.lists(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=3, max_size=3),
                     min_size=1, max_size=30))
def test_property_written_numbers_read_back_exactly(tmp_path_factory, rows):
    f = tmp_path_factory.mktemp("csv") / "r.csv"
    f.write_text("x,y,z\n" + "\n".join(",".join(repr(v) for v in r) for r in rows) + "\n")
    _, values, _ = read_all(f)
    np.testing.assert_array_equal(values, np.array(rows))
