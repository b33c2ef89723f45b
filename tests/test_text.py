"""Labels and the file names made from them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from studio.text import file_slug, label_from_filename, normalize_label, oneline


@given(st.text(max_size=200))
def test_property_file_slug_is_always_a_safe_single_name(label):
    slug = file_slug(label)
    assert slug and len(slug) <= 48
    assert not set(slug) & set('/\\.:\x00"\n\r\t*?<>|')
    assert slug not in (".", "..")


@given(st.text(max_size=300))
def test_property_normalize_label_accepts_or_explains(label):
    try:
        out = normalize_label(label)
    except ValueError as e:
        assert str(e)
        return
    assert out == out.strip() and 0 < len(out) <= 128


@given(st.text(max_size=300))
def test_property_oneline_never_breaks_a_line(text):
    assert "\n" not in oneline(text) and "\r" not in oneline(text)


def test_labels_keep_quotes_newlines_and_non_ascii():
    assert normalize_label(' say "hi"\nthere \u00fc ') == 'say "hi"\nthere \u00fc'
    assert file_slug('say "hi"\nthere \u00fc') == "say_hi_there_\u00fc"
    with pytest.raises(ValueError, match="empty"):
        normalize_label(" \t ")
    assert label_from_filename("wave.01.csv") == "wave"
