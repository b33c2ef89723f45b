"""Edge Impulse data acquisition format: reading, writing, signatures, bad input."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import json

import cbor2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.formats import edge_impulse as ei
from studio.formats.errors import FormatError
from studio.formats.sample import SENSOR, SampleHeader, Sensor

KEY = b"secret-key"


def make_doc(values, alg="HS256", ver="v1", interval=10, sensors=None):
    sensors = sensors or [{"name": n, "units": "m/s2"} for n in ("accX", "accY", "accZ")]
    return {
        "protected": {"ver": ver, "alg": alg, "iat": 1564128599},
        "signature": "0" * 64,
        "payload": {"device_name": "ac:87:a3:0a:2d:1b", "device_type": "DISCO-L475VG-IOT01A",
                    "interval_ms": interval, "sensors": sensors, "values": values},
    }


def sign_json(doc, key=KEY):
    """Signed the way Edge Impulse's own examples sign: HMAC over JSON.stringify with zero signature."""
    doc = dict(doc, signature="0" * 64)
    body = json.dumps(doc, separators=(",", ":"))
    doc["signature"] = hmac.new(key, body.encode(), hashlib.sha256).hexdigest()
    return json.dumps(doc, separators=(",", ":")).encode()


def sign_cbor(doc, key=KEY):
    doc = dict(doc, signature="0" * 64)
    sig = hmac.new(key, cbor2.dumps(doc), hashlib.sha256).hexdigest()
    return cbor2.dumps(dict(doc, signature=sig))


VALUES = [[-9.81, 0.03, 1.21], [-9.83, 0.04, 1.28], [-9.12, 0.03, 1.23]]


def test_reads_documented_example_and_verifies_json_signature():
    d = ei.parse_document(sign_json(make_doc(VALUES)), "json", KEY)
    assert d.signature_verified and d.alg == "HS256"
    assert d.header.kind == SENSOR and d.header.interval_ms == 10 and d.header.frames == 3
    assert [s.name for s in d.header.sensors] == ["accX", "accY", "accZ"]
    assert d.header.device_type == "DISCO-L475VG-IOT01A"
    np.testing.assert_array_equal(d.values, np.array(VALUES))


def test_verifies_pretty_printed_json_by_patching_its_own_bytes():
    doc = make_doc(VALUES)
    body = json.dumps(doc, indent=4).encode()
    sig = hmac.new(KEY, body, hashlib.sha256).hexdigest()
    raw = body.replace(b"0" * 64, sig.encode(), 1)
    assert ei.parse_document(raw, "json", KEY).signature_verified


def test_verifies_cbor_signature():
    assert ei.parse_document(sign_cbor(make_doc(VALUES)), "cbor", KEY).signature_verified


@pytest.mark.parametrize("encoding", ["json", "cbor"])
def test_bad_signature_is_rejected(encoding):
    raw = sign_json(make_doc(VALUES)) if encoding == "json" else sign_cbor(make_doc(VALUES))
    with pytest.raises(FormatError, match="bad signature"):
        ei.parse_document(raw, encoding, b"another-key")
    tampered = raw.replace(b"1.21", b"1.22") if encoding == "json" else sign_cbor(make_doc(VALUES), b"x")
    with pytest.raises(FormatError, match="bad signature"):
        ei.parse_document(tampered, encoding, KEY)


@pytest.mark.parametrize("alg", ["none", "NONE", "None"])
@pytest.mark.parametrize("encoding", ["json", "cbor"])
def test_an_unsigned_file_is_refused_when_a_key_is_given_and_accepted_without(alg, encoding):
    doc = make_doc(VALUES, alg=alg)
    raw = json.dumps(doc).encode() if encoding == "json" else cbor2.dumps(doc)
    with pytest.raises(FormatError, match="unsigned .*'none'.*a key was given: only HS256"):
        ei.parse_document(raw, encoding, KEY)
    if alg == "none":
        d = ei.parse_document(raw, encoding, None)
        assert d.alg == "none" and not d.signature_verified


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d["protected"].update(ver="v2"), "unknown format version"),
        (lambda d: d["protected"].update(alg="RS256"), "unsupported signature algorithm"),
        (lambda d: d["payload"].update(interval_ms=0), "interval_ms"),
        (lambda d: d["payload"].update(interval_ms="10"), "interval_ms"),
        (lambda d: d["payload"].update(sensors=[]), "sensors"),
        (lambda d: d["payload"].update(values=[]), "non-empty"),
        (lambda d: d["payload"].update(values=[[1, 2, 3], [1, 2]]), r"values\[1\]"),
        (lambda d: d["payload"].update(values=[[1, "x", 3]]), "non-number"),
        (lambda d: d["payload"].update(values=[[1, True, 3]]), "non-number"),
        (lambda d: d.pop("payload"), "payload"),
        (lambda d: d["payload"]["sensors"].append({"name": "accX", "units": "g"}), "sensors"),
    ],
)
def test_invalid_documents_are_refused_with_reason(change, message):
    doc = make_doc([list(v) for v in VALUES])
    change(doc)
    with pytest.raises(FormatError, match=message):
        ei.parse_document(json.dumps(doc).encode(), "json")


@pytest.mark.parametrize("raw", [b"", b"   ", b"{", b"[1,2]", b"\xff\xfe\x00", b'{"protected": 1}'])
def test_garbage_json_is_refused(raw):
    with pytest.raises(FormatError):
        ei.parse_document(raw, "json")


def test_nan_and_infinity_are_refused():
    for token in (b"NaN", b"Infinity", b"-Infinity"):
        raw = json.dumps(make_doc([[1, 2, 3]])).encode().replace(b"[[1, 2, 3]]", b"[[1, " + token + b", 3]]")
        with pytest.raises(FormatError, match="non-finite|NaN"):
            ei.parse_document(raw, "json")
    doc = make_doc([[1.0, float("nan"), 3.0]])
    with pytest.raises(FormatError, match="NaN"):
        ei.parse_document(cbor2.dumps(doc), "cbor")


def test_single_axis_values_may_be_flat():
    doc = make_doc([1, 2, 3, 4], sensors=[{"name": "audio", "units": "wav"}], interval=0.0625)
    d = ei.parse_document(json.dumps(doc).encode(), "json")
    assert d.header.kind == "audio" and d.values.shape == (4, 1)


def test_oversized_document_is_refused_before_parsing():
    with pytest.raises(FormatError, match="limit"):
        ei.check_size(ei.MAX_DOCUMENT_BYTES + 1)


def _written(values, encoding, key, wide=True):
    header = SampleHeader(SENSOR, [Sensor(f"a{i}", "u") for i in range(values.shape[1])], 16.0, len(values),
                          device_name="dev", device_type="t\u00e9st \"q\"")
    f = io.BytesIO()
    ei.write_document(f, header, [values[: len(values) // 2], values[len(values) // 2 :]], encoding, key, wide)
    return f.getvalue()


@pytest.mark.parametrize("encoding", ["json", "cbor"])
def test_writer_output_is_read_back_and_verified_by_independent_decoders(encoding):
    values = np.array([[0.1, -2.5, 3.0], [1e-7, 123456.789, -0.0], [7, 8, 9]])
    raw = _written(values, encoding, KEY)
    doc = json.loads(raw) if encoding == "json" else cbor2.loads(raw)
    # the signature is the HMAC of the document with a zero signature, as the spec says
    zero = dict(doc, signature="0" * 64)
    body = json.dumps(zero, separators=(",", ":"), ensure_ascii=False).encode() if encoding == "json" \
        else cbor2.dumps(zero)
    assert hmac.new(KEY, body, hashlib.sha256).hexdigest() == doc["signature"]
    np.testing.assert_array_equal(np.array(doc["payload"]["values"], dtype=float), values)
    assert ei.parse_document(raw, encoding, KEY).signature_verified


def test_float32_storage_keeps_float32_values_exact():
    values = np.array([[0.5, 1.25], [-3.0, 1024.0]])
    assert ei.fits_float32(values)
    raw = _written(values, "cbor", None, wide=False)
    assert len(raw) < len(_written(values, "cbor", None, wide=True))
    np.testing.assert_array_equal(ei.parse_document(raw, "cbor").values, values)
    assert not ei.fits_float32(np.array([[0.1]]))


finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.integers(1, 20), axes=st.integers(1, 5), data=st.data(),
    encoding=st.sampled_from(["json", "cbor"]), signed=st.booleans(),
)
def test_property_write_then_parse_round_trips(rows, axes, data, encoding, signed):
    values = np.array(data.draw(st.lists(st.lists(finite, min_size=axes, max_size=axes), min_size=rows,
                                         max_size=rows)), dtype=float).reshape(rows, axes)
    key = KEY if signed else None
    d = ei.parse_document(_written(values, encoding, key), encoding, key)
    np.testing.assert_array_equal(d.values, values)
    assert d.signature_verified == signed


@settings(max_examples=300)
@given(raw=st.binary(max_size=300), encoding=st.sampled_from(["json", "cbor"]))
def test_property_arbitrary_bytes_never_crash(raw, encoding):
    with contextlib.suppress(FormatError):
        ei.parse_document(raw, encoding, KEY)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | finite | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300)
@given(
    payload=st.dictionaries(
        st.sampled_from(["device_name", "device_type", "interval_ms", "sensors", "values"]), json_values
    ),
    protected=st.dictionaries(st.sampled_from(["ver", "alg", "iat"]), json_values | st.sampled_from(["v1", "none"])),
    encoding=st.sampled_from(["json", "cbor"]),
)
def test_property_structurally_wrong_documents_give_format_errors(payload, protected, encoding):
    doc = {"protected": protected, "signature": "0" * 64, "payload": payload}
    raw = json.dumps(doc).encode() if encoding == "json" else cbor2.dumps(doc)
    try:
        d = ei.parse_document(raw, encoding)
    except FormatError:
        return
    assert d.values.shape[0] >= 1 and np.isfinite(d.values).all()
