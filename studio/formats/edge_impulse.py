"""The Edge Impulse data acquisition format, in JSON and CBOR.

A document is ``{"protected": {"ver": "v1", "alg": "HS256"|"none", "iat": <unix s>},
"signature": <64 hex>, "payload": {"device_name", "device_type", "interval_ms",
"sensors": [{"name", "units"}], "values": [[...], ...]}}``. With HS256 the signature is the
HMAC-SHA256 (hex) of the serialized document in which the signature is 64 zeros.

Writing is streamed: the document is written with the zero signature while an HMAC runs over
the bytes, then the 64 placeholder bytes are overwritten in place. Reading verifies against the
file's own bytes (the signature patched back to zeros), then against a compact re-encoding.
"""

from __future__ import annotations

import hmac
import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from hashlib import sha256
from typing import Any, BinaryIO

import cbor2
import numpy as np

from studio.formats.errors import FormatError
from studio.formats.sample import AUDIO, MAX_AXES, SENSOR, SampleHeader, Sensor, interval_problem

ZERO_SIGNATURE = "0" * 64
SUPPORTED_VERSIONS = ("v1",)
SUPPORTED_ALGS = ("none", "HS256")
# Documents are parsed whole; larger sensor recordings belong in CSV (streamed) and audio in WAV.
MAX_DOCUMENT_BYTES = 100 * 1024 * 1024

_JSON_SIG = re.compile(rb'"signature"\s*:\s*"([0-9a-fA-F]{64})"')
_CBOR_SIG_KEY = cbor2.dumps("signature")
_CBOR_SIG_VALUE_HEAD = b"\x78\x40"  # text string of 64 bytes


@dataclass
class Document:
    header: SampleHeader
    values: np.ndarray  # float64, shape (frames, axes)
    alg: str
    signature_verified: bool


def _reject_constant(name: str) -> Any:
    raise FormatError(f"non-finite value {name} in JSON")


def _decode(raw: bytes, encoding: str) -> Any:
    if encoding == "json":
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise FormatError(f"not UTF-8 text (byte {e.start})") from None
        try:
            return json.loads(text, parse_constant=_reject_constant)
        except FormatError:
            raise
        except (ValueError, RecursionError) as e:
            raise FormatError(f"not valid JSON: {str(e).splitlines()[0]}") from None
    try:
        return cbor2.loads(raw)
    except Exception as e:  # cbor2 raises several types for malformed input
        raise FormatError(f"not valid CBOR: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None


def _text(value: Any, what: str, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise FormatError(f"{what} must be text")
    return value


def _signature_candidates(raw: bytes, doc: dict, encoding: str) -> list[bytes]:
    """Byte strings the signer may have hashed: the file with its signature zeroed, and a
    compact re-encoding of the document with a zero signature."""
    out = []
    if encoding == "json":
        m = _JSON_SIG.search(raw)
        if m:
            out.append(raw[: m.start(1)] + ZERO_SIGNATURE.encode() + raw[m.end(1) :])
        zeroed = dict(doc, signature=ZERO_SIGNATURE)
        out.append(json.dumps(zeroed, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    else:
        at = raw.find(_CBOR_SIG_KEY + _CBOR_SIG_VALUE_HEAD)
        if at >= 0:
            start = at + len(_CBOR_SIG_KEY) + 2
            out.append(raw[:start] + ZERO_SIGNATURE.encode() + raw[start + 64 :])
        out.append(cbor2.dumps(dict(doc, signature=ZERO_SIGNATURE)))
    return out


def _values_array(values: Any, axes: int) -> np.ndarray:
    if not isinstance(values, list) or not values:
        raise FormatError("payload.values must be a non-empty list")
    first = values[0]
    if axes == 1 and not isinstance(first, list):
        rows = values
    else:
        rows = values
        if not all(isinstance(r, list) and len(r) == axes for r in values):
            bad = next(i for i, r in enumerate(values) if not (isinstance(r, list) and len(r) == axes))
            raise FormatError(f"payload.values[{bad}] must be a list of {axes} numbers (one per sensor)")
    for i, r in enumerate(rows):
        items = r if isinstance(r, list) else [r]
        for v in items:
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise FormatError(f"payload.values[{i}] holds a non-number ({type(v).__name__})")
    try:
        arr = np.asarray(rows, dtype=np.float64)
    except (ValueError, OverflowError) as e:
        raise FormatError(f"payload.values is not numeric: {e}") from None
    arr = arr.reshape(len(rows), axes)
    if not np.isfinite(arr).all():
        row = int(np.argwhere(~np.isfinite(arr))[0][0])
        raise FormatError(f"payload.values[{row}] holds NaN or infinity")
    return arr


def check_size(size: int) -> None:
    if size > MAX_DOCUMENT_BYTES:
        raise FormatError(
            f"Edge Impulse document of {size // 2**20} MiB is over the {MAX_DOCUMENT_BYTES // 2**20} MiB "
            "limit; use CSV for long recordings and WAV for audio"
        )


def parse_document(raw: bytes, encoding: str, hmac_key: bytes | None = None) -> Document:
    """Parse and validate one document; verify its HS256 signature when a key is given."""
    check_size(len(raw))
    if not raw.strip():
        raise FormatError("empty file")
    doc = _decode(raw, encoding)
    if not isinstance(doc, dict):
        raise FormatError("not an Edge Impulse document (top level is not an object)")
    protected, payload = doc.get("protected"), doc.get("payload")
    if not isinstance(protected, dict):
        raise FormatError("missing 'protected' object")
    if not isinstance(payload, dict):
        raise FormatError("missing 'payload' object")
    ver = protected.get("ver")
    if ver not in SUPPORTED_VERSIONS:
        raise FormatError(f"unknown format version {ver!r} (supported: {', '.join(SUPPORTED_VERSIONS)})")
    alg = protected.get("alg")
    if hmac_key is not None and alg != "HS256":
        # with a key, only a signature made with it will do: 'none' would let anyone's data in
        what = "unsigned (signature algorithm 'none')" if isinstance(alg, str) and alg.lower() == "none" else \
            f"signature algorithm {alg!r}"
        raise FormatError(f"{what}, but a key was given: only HS256 signatures made with it are accepted")
    if alg not in SUPPORTED_ALGS:
        raise FormatError(f"unsupported signature algorithm {alg!r} (supported: none, HS256)")
    signature = doc.get("signature")
    verified = False
    if alg == "HS256" and not (isinstance(signature, str) and re.fullmatch(r"[0-9a-fA-F]{64}", signature)):
        raise FormatError("bad signature: not 64 hex digits")
    if alg == "HS256" and hmac_key is not None:
        expected = signature.lower()
        for candidate in _signature_candidates(raw, doc, encoding):
            if hmac.compare_digest(hmac.new(hmac_key, candidate, sha256).hexdigest(), expected):
                verified = True
                break
        if not verified:
            raise FormatError("bad signature: HMAC-SHA256 does not match with the given key")

    interval = payload.get("interval_ms")
    if (problem := interval_problem(interval)) is not None:
        raise FormatError(f"payload.interval_ms: {problem}")
    sensors_raw = payload.get("sensors")
    if not isinstance(sensors_raw, list) or not sensors_raw:
        raise FormatError("payload.sensors must be a non-empty list")
    if len(sensors_raw) > MAX_AXES:
        raise FormatError(f"payload.sensors lists {len(sensors_raw)} sensors; at most {MAX_AXES} are supported")
    sensors = []
    for i, s in enumerate(sensors_raw):
        if not isinstance(s, dict):
            raise FormatError(f"payload.sensors[{i}] must be an object with name and units")
        name = _text(s.get("name"), f"payload.sensors[{i}].name").strip()
        if not name:
            raise FormatError(f"payload.sensors[{i}].name is empty")
        sensors.append(Sensor(name, _text(s.get("units"), f"payload.sensors[{i}].units", required=False)))
    if len({s.name for s in sensors}) != len(sensors):
        raise FormatError("payload.sensors has duplicate names")
    values = _values_array(payload.get("values"), len(sensors))
    kind = AUDIO if all(s.units.lower() == "wav" for s in sensors) else SENSOR
    header = SampleHeader(
        kind=kind,
        sensors=sensors,
        interval_ms=float(interval),
        frames=values.shape[0],
        device_name=_text(payload.get("device_name"), "payload.device_name", required=False),
        device_type=_text(payload.get("device_type"), "payload.device_type", required=False),
    )
    return Document(header, values, alg, verified)


# ---------------------------------------------------------------- writing


class _SigningWriter:
    """Writes bytes to ``f`` while an HMAC (or nothing) runs over them; remembers where the
    zero signature sits so that it can be overwritten at the end."""

    def __init__(self, f: BinaryIO, key: bytes | None) -> None:
        self.f = f
        self.mac = hmac.new(key, digestmod=sha256) if key is not None else None
        self.start = f.tell()
        self.sig_offset = -1

    def write(self, data: bytes) -> None:
        self.f.write(data)
        if self.mac is not None:
            self.mac.update(data)

    def mark_signature(self) -> None:
        self.sig_offset = self.f.tell()

    def finish(self) -> None:
        if self.mac is None:
            return
        end = self.f.tell()
        self.f.seek(self.sig_offset)
        self.f.write(self.mac.hexdigest().encode("ascii"))
        self.f.seek(end)


def _cbor_head(major: int, n: int) -> bytes:
    if n < 24:
        return bytes([(major << 5) | n])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * size):
            return bytes([(major << 5) | info]) + n.to_bytes(size, "big")
    raise ValueError("length too large for CBOR")


def _rows_cbor(chunk: np.ndarray, wide: bool, flat: bool) -> bytes:
    """Vectorised CBOR encoding of rows of floats (each a fixed-size record)."""
    n, axes = chunk.shape
    fmt, tag = (">f8", 0xFB) if wide else (">f4", 0xFA)
    head = _cbor_head(4, axes)
    fields: list[tuple[str, str]] = []
    if not flat:
        fields += [(f"h{i}", "u1") for i in range(len(head))]
    for i in range(axes):
        fields += [(f"t{i}", "u1"), (f"v{i}", fmt)]
    rec = np.empty(n, dtype=np.dtype(fields))
    if not flat:
        for i, b in enumerate(head):
            rec[f"h{i}"] = b
    for i in range(axes):
        rec[f"t{i}"] = tag
        rec[f"v{i}"] = chunk[:, i]
    return rec.tobytes()


def _rows_json(chunk: np.ndarray, wide: bool, flat: bool) -> list[str]:
    # float32 values print in their shortest float32 form ("0.1", not "0.100000001")
    text = chunk.astype(str) if wide else chunk.astype(np.float32).astype(str)
    if flat:
        return list(text[:, 0])
    return ["[" + ",".join(row) + "]" for row in text]


def fits_float32(values: np.ndarray) -> bool:
    """True when every value survives a round trip through float32 (then it is stored as such)."""
    with np.errstate(over="ignore", invalid="ignore"):  # 1e308 overflows float32: then it does not fit
        return bool(np.array_equal(values.astype(np.float32).astype(np.float64), values))


def write_document(
    f: BinaryIO,
    header: SampleHeader,
    chunks: Iterable[np.ndarray],
    encoding: str,
    hmac_key: bytes | None,
    wide: bool = True,
    iat: int | None = None,
) -> None:
    """Stream a document to the seekable ``f``; ``header.frames`` must equal the rows in ``chunks``.

    ``wide=False`` stores float32 (call it only when :func:`fits_float32` holds for all values).
    """
    alg = "HS256" if hmac_key is not None else "none"
    protected = {"ver": "v1", "alg": alg, "iat": int(time.time()) if iat is None else iat}
    flat = header.axes == 1
    w = _SigningWriter(f, hmac_key)
    payload_head = {
        "device_name": header.device_name,
        "device_type": header.device_type,
        "interval_ms": header.interval_ms,
        "sensors": [s.as_dict() for s in header.sensors],
    }
    written = 0
    if encoding == "cbor":
        w.write(b"\xa3" + cbor2.dumps("protected") + cbor2.dumps(protected))
        w.write(_CBOR_SIG_KEY + _CBOR_SIG_VALUE_HEAD)
        w.mark_signature()
        w.write(ZERO_SIGNATURE.encode())
        w.write(cbor2.dumps("payload") + b"\xa5")
        for k, v in payload_head.items():
            w.write(cbor2.dumps(k) + cbor2.dumps(v))
        w.write(cbor2.dumps("values") + _cbor_head(4, header.frames))
        for chunk in chunks:
            written += len(chunk)
            w.write(_rows_cbor(np.asarray(chunk, dtype=np.float64).reshape(len(chunk), header.axes), wide, flat))
    elif encoding == "json":
        w.write(b'{"protected":' + json.dumps(protected, separators=(",", ":")).encode() + b',"signature":"')
        w.mark_signature()
        w.write(ZERO_SIGNATURE.encode() + b'","payload":')
        head = json.dumps(payload_head, separators=(",", ":"), ensure_ascii=False)
        w.write(head[:-1].encode("utf-8") + b',"values":[')
        for chunk in chunks:
            rows = _rows_json(np.asarray(chunk, dtype=np.float64).reshape(len(chunk), header.axes), wide, flat)
            if rows:
                w.write((("," if written else "") + ",".join(rows)).encode("ascii"))
            written += len(rows)
        w.write(b"]}}")
    else:
        raise ValueError(f"unknown encoding {encoding!r}")
    if written != header.frames:
        raise ValueError(f"header says {header.frames} frames, {written} were written")
    w.finish()
