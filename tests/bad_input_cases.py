"""The bad-input corpus: files a user (or someone who wants to hurt them) may hand the app.

Each case is a file name, its bytes and the options it is imported (or compiled) with. Every one
must be refused with exit status 1, one line on stderr naming the file, no traceback, no warning
and nothing written; ``test_bad_input.py`` runs them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import struct
from dataclasses import dataclass, field
from pathlib import Path

import cbor2

KEY = "corpus-key"
SHARED = Path(__file__).resolve().parent.parent.parent / "shared"


@dataclass
class Case:
    id: str
    name: str
    data: bytes
    args: list[str] = field(default_factory=list)
    names: str = ""  # what the error line must name when it is not the file (a bad option)


def wav(rate=16000, channels=1, bits=16, tag=1, data=b"\x00\x00" * 8, data_size=None, block=None, fmt_size=16,
        riff=b"RIFF", wave=b"WAVE", extra=b"") -> bytes:
    align = channels * bits // 8 if block is None else block
    fmt = struct.pack("<HHIIHH", tag, channels & 0xFFFF, rate & 0xFFFFFFFF, (rate * max(align, 1)) & 0xFFFFFFFF,
                      align & 0xFFFF, bits) + extra
    size = len(data) if data_size is None else data_size
    return (riff + struct.pack("<I", 36 + len(data)) + wave + b"fmt " + struct.pack("<I", fmt_size) + fmt
            + b"data" + struct.pack("<I", size & 0xFFFFFFFF) + data)


def csv_cases() -> list[Case]:
    header = "timestamp,ax,ay,az\n"
    good = "".join(f"{i * 10},{i},{-i},{i % 3}\n" for i in range(5))
    texts = {
        "empty": "",
        "only a header": header,
        "header of numbers": "1,2,3\n4,5,6\n",
        "duplicate columns": "timestamp,a,a\n0,1,2\n10,3,4\n",
        "empty column name": "timestamp,,b\n0,1,2\n10,3,4\n",
        "no timestamp and no frequency": "a,b\n1,2\n3,4\n",
        "only a timestamp column": "timestamp\n0\n10\n",
        "not a number": header + "0,1,2,x\n10,1,2,3\n",
        "nan value": header + "0,1,nan,3\n10,1,2,3\n",
        "inf value": header + "0,1,inf,3\n10,1,2,3\n",
        "value overflowing to inf": header + "0,1,1e309,3\n10,1,2,3\n",
        "too few values": header + good + "60,1,2\n",
        "too many values": header + good + "60,1,2,3,4\n",
        "rows that add up to whole rows": "timestamp,ax,ay,az\n0,1,2\n5,10,1,2,3\n20,1,2,3\n",
        "rows that add up, many": header + "".join(f"{i * 10},1,2\n{i * 10 + 5},1,2,3,4,5\n" for i in range(50)),
        "a line of delimiters": header + good + ",,,\n",
        "a trailing comma": header + good + "60,1,2,3,\n",
        "decreasing timestamps": header + "0,1,2,3\n10,1,2,3\n5,1,2,3\n",
        "equal timestamps": header + "0,1,2,3\n0,1,2,3\n",
        "one row with a timestamp": header + "0,1,2,3\n",
        "timestamps of +-1.7e308": header + "-1.7e308,1,2,3\n1.7e308,1,2,3\n",
        "timestamps a nanosecond apart": header + "0,1,2,3\n0.000001,1,2,3\n0.000002,1,2,3\n",
        "timestamps a year apart": header + "0,1,2,3\n31536000000,1,2,3\n",
        "hex numbers": header + "0,0x10,2,3\n10,1,2,3\n",
        "malformed quoting": 'timestamp,a\n0,"1\n10,"2"x\n',
        "quoted text": 'timestamp,a\n0,"one"\n10,"2"\n',
        "unicode minus": header + "0,\u22121,2,3\n10,1,2,3\n",
        "white space rows of other widths": "timestamp ax ay az\n0 1 2\n5 10 1 2 3\n20 1 2 3\n",
        "tab rows of other widths": "timestamp\tax\tay\taz\n0\t1\t2\n5\t10\t1\t2\t3\n",
        "semicolons then commas": "timestamp;a;b\n0;1;2\n10,3,4\n",
        "300 value columns": "timestamp," + ",".join(f"c{i}" for i in range(300)) + "\n0," + ",".join("1" * 300) + "\n",
        "non-numeric timestamp": header + "zero,1,2,3\n10,1,2,3\n",
        "a last line cut short": header + good + "60,1",
        "text after the numbers": header + "0,1,2,3 volts\n",
        "a NUL in a value": header + "0,1,2\x00,3\n",
        "bool words": header + "0,true,false,true\n10,1,2,3\n",
    }
    out = [Case(f"csv: {k}", f"c{i:02d}.csv", v.encode()) for i, (k, v) in enumerate(texts.items())]
    raw = {
        "not UTF-8": header.encode() + b"0,1,2,\xff\xfe\n",
        "binary garbage": bytes(range(256)) * 4,
        "a header over 64 KiB": b"timestamp," + b"a" * (70 * 1024) + b"\n0,1\n",
        "UTF-16 with BOM": "\ufefftimestamp,a\n0,1\n10,2\n".encode("utf-16"),
        "NUL bytes only": b"\x00" * 100,
    }
    out += [Case(f"csv: {k}", f"b{i:02d}.csv", v) for i, (k, v) in enumerate(raw.items())]
    for i, hz in enumerate(("0", "-5", "1e10", "inf", "nan")):
        out.append(Case(f"csv: --frequency {hz}", f"f{i}.csv", b"a,b\n1,2\n", ["--frequency", hz], "--frequency"))
    return out


def wav_cases() -> list[Case]:
    frames = b"\x01\x00" * 16
    blobs = {
        "empty": b"",
        "shorter than a header": b"RIFF\x00\x00",
        "not RIFF": b"RIFX" + wav()[4:],
        "not WAVE": wav(wave=b"AVI "),
        "no fmt chunk": b"RIFF" + struct.pack("<I", 20) + b"WAVE" + b"data" + struct.pack("<I", 4) + b"\x00" * 4,
        "fmt chunk too short": b"RIFF" + struct.pack("<I", 30) + b"WAVE" + b"fmt " + struct.pack("<I", 8) + b"\x00" * 8,
        "truncated fmt chunk": b"RIFF" + struct.pack("<I", 30) + b"WAVE" + b"fmt " + struct.pack("<I", 16)
                               + b"\x01\x00",
        "data before fmt": b"RIFF" + struct.pack("<I", 40) + b"WAVE" + b"data" + struct.pack("<I", 2) + b"\x00\x00"
                           + b"fmt " + struct.pack("<I", 16) + struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16),
        "0 channels": wav(channels=0, block=0),
        "40,000 channels": wav(channels=40000, bits=8, data=b"\x00" * 80000),
        "300 channels": wav(channels=300, data=b"\x00" * 1200),
        "0 Hz": wav(rate=0),
        "4,000,000,000 Hz": wav(rate=4_000_000_000),
        "2 MHz": wav(rate=2_000_000),
        "12-bit PCM": wav(bits=12, block=2),
        "0-bit PCM": wav(bits=0, block=0),
        "16-bit float": wav(tag=3, bits=16),
        "MP3 inside": wav(tag=0x55),
        "A-law": wav(tag=6, bits=8),
        "extensible without its sub-format": wav(tag=0xFFFE),
        "extensible with an unknown GUID": wav(tag=0xFFFE, fmt_size=40,
                                               extra=struct.pack("<HHI", 22, 16, 4) + b"\x11" * 16),
        "block align wrong": wav(block=3),
        "data announced longer than the file": wav(data_size=10_000),
        "a chunk past the end": b"RIFF" + struct.pack("<I", 100) + b"WAVE" + b"LIST" + struct.pack("<I", 999)
                                + b"x" * 10,
        "no audio frames": wav(data=b""),
        "one byte of a 16-bit frame": wav(data=b"\x00"),
        "float with NaN": wav(tag=3, bits=32, data=struct.pack("<4f", 0.1, float("nan"), 0.2, 0.3)),
        "float with infinity": wav(tag=3, bits=32, data=struct.pack("<4f", 0.1, float("inf"), 0.2, 0.3)),
        "double with NaN": wav(tag=3, bits=64, data=struct.pack("<2d", 0.1, float("nan"))),
        "24-bit with a ragged end": wav(bits=24, data=b"\x00" * 7, block=3),
        "stereo with half a frame": wav(channels=2, data=b"\x00" * 6),
        "a sound file that is text": b"this is not audio at all, just text saved as .wav\n",
        "a zip renamed": b"PK\x03\x04" + b"\x00" * 60,
        "RIFF size of 4 GiB and no data": b"RIFF\xff\xff\xff\xffWAVE",
        "fmt size of 4 GiB": b"RIFF" + struct.pack("<I", 100) + b"WAVE" + b"fmt \xff\xff\xff\xff" + b"\x00" * 16,
        "8-bit, 0 channels, 8 kHz": wav(channels=0, bits=8, rate=8000, block=0, data=frames),
    }
    return [Case(f"wav: {k}", f"w{i:02d}.wav", v) for i, (k, v) in enumerate(blobs.items())]


def _doc(values=None, interval=10, sensors=None, alg="none", **payload) -> dict:
    body = {"device_name": "dev", "device_type": "DATA_FORWARDER", "interval_ms": interval,
            "sensors": sensors if sensors is not None else [{"name": "a", "units": "g"}, {"name": "b", "units": "g"}],
            "values": values if values is not None else [[1, 2], [3, 4]]}
    body.update(payload)
    return {"protected": {"ver": "v1", "alg": alg, "iat": 1}, "signature": "0" * 64, "payload": body}


def _signed(doc: dict, encode, key: str) -> bytes:
    doc = dict(doc, signature="0" * 64)
    sig = hmac.new(key.encode(), encode(doc), hashlib.sha256).hexdigest()
    return encode(dict(doc, signature=sig))


def _json(d) -> bytes:
    return json.dumps(d, separators=(",", ":")).encode()


def document_cases() -> list[Case]:
    docs = {
        "top level is a list": [1, 2, 3],
        "no protected": {"payload": _doc()["payload"]},
        "no payload": {"protected": {"ver": "v1", "alg": "none"}, "signature": "0" * 64},
        "protected not an object": dict(_doc(), protected="v1"),
        "version v2": dict(_doc(), protected={"ver": "v2", "alg": "none"}),
        "algorithm RS256": dict(_doc(), protected={"ver": "v1", "alg": "RS256"}),
        "interval 0": _doc(interval=0),
        "interval negative": _doc(interval=-10),
        "interval as text": _doc(interval="10"),
        "interval true": _doc(interval=True),
        "interval 1e-320": _doc(interval=1e-320),
        "interval of 1e308 ms": _doc(interval=1e308),
        "no interval": _doc(interval=None),
        "sensors empty": _doc(sensors=[]),
        "sensors not a list": _doc(sensors={"name": "a"}),
        "a sensor not an object": _doc(sensors=["a", "b"]),
        "a sensor without a name": _doc(sensors=[{"units": "g"}, {"name": "b", "units": "g"}]),
        "a sensor name not text": _doc(sensors=[{"name": 5, "units": "g"}, {"name": "b", "units": "g"}]),
        "an empty sensor name": _doc(sensors=[{"name": " ", "units": "g"}, {"name": "b", "units": "g"}]),
        "units not text": _doc(sensors=[{"name": "a", "units": 1}, {"name": "b", "units": "g"}]),
        "duplicate sensor names": _doc(sensors=[{"name": "a", "units": "g"}, {"name": "a", "units": "g"}]),
        "300 sensors": _doc(sensors=[{"name": f"s{i}", "units": ""} for i in range(300)], values=[[0] * 300]),
        "values empty": _doc(values=[]),
        "values not a list": _doc(values={"a": 1}),
        "a row too short": _doc(values=[[1, 2], [3]]),
        "a row too long": _doc(values=[[1, 2], [3, 4, 5]]),
        "a row that is a number": _doc(values=[[1, 2], 3]),
        "a value as text": _doc(values=[[1, "2"], [3, 4]]),
        "a value true": _doc(values=[[1, True], [3, 4]]),
        "a value null": _doc(values=[[1, None], [3, 4]]),
        "a nested value": _doc(values=[[1, [2]], [3, 4]]),
        "device name not text": _doc(device_name=7),
        "device type not text": _doc(device_type=["x"]),
        "audio beyond 16 bits": _doc(sensors=[{"name": "audio", "units": "wav"}], values=[1, 40000, 3],
                                     interval=0.0625),
        "audio with fractions": _doc(sensors=[{"name": "audio", "units": "wav"}], values=[1, 0.5, 3],
                                     interval=0.0625),
        "a signature that is not hex": dict(_doc(alg="HS256"), signature="z" * 64),
    }
    out = []
    for i, (k, d) in enumerate(docs.items()):
        out.append(Case(f"json: {k}", f"j{i:02d}.json", _json(d)))
        out.append(Case(f"cbor: {k}", f"c{i:02d}.cbor", cbor2.dumps(d)))
    raw = {
        "json: empty": ("e0.json", b""),
        "json: not JSON": ("e1.json", b"{protected: 1}"),
        "json: NaN constant": ("e2.json", _json(_doc())[:-4] + b",NaN]]}}"),
        "json: a value of 1e400": ("e3.json", _json(_doc(values=[[1, 2], [3, 4]])).replace(b"[3,4]", b"[3,1e400]")),
        "json: nested 100,000 deep": ("e4.json", b"[" * 100_000 + b"]" * 100_000),
        "json: not UTF-8": ("e5.json", b'{"protected": "\xff\xfe"}'),
        "json: truncated": ("e6.json", _json(_doc())[:40]),
        "cbor: empty": ("e7.cbor", b""),
        "cbor: garbage": ("e8.cbor", bytes(range(255, 0, -1))),
        "cbor: truncated": ("e9.cbor", cbor2.dumps(_doc())[:30]),
        "cbor: a float NaN value": ("ea.cbor", cbor2.dumps(_doc(values=[[1.0, float("nan")], [3.0, 4.0]]))),
        "cbor: a value of infinity": ("eb.cbor", cbor2.dumps(_doc(values=[[1.0, float("inf")], [3.0, 4.0]]))),
        "cbor: bytes for a sensor name": ("ec.cbor", cbor2.dumps(_doc(sensors=[{"name": b"a", "units": "g"},
                                                                               {"name": "b", "units": "g"}]))),
        "cbor: an undefined value": ("ed.cbor", cbor2.dumps(_doc(values=[[1, cbor2.undefined], [3, 4]]))),
        "cbor: a tagged value": ("ee.cbor", cbor2.dumps(_doc(values=[[1, cbor2.CBORTag(99, 2)], [3, 4]]))),
        "cbor: nested 10,000 deep": ("ef.cbor", b"\x81" * 10_000 + b"\x01"),
    }
    out += [Case(k, n, v) for k, (n, v) in raw.items()]
    keyed = {
        "json: alg none with a key": ("k0.json", _json(_doc())),
        "json: alg NONE with a key": ("k1.json", _json(dict(_doc(), protected={"ver": "v1", "alg": "NONE"}))),
        "cbor: alg none with a key": ("k2.cbor", cbor2.dumps(_doc())),
        "cbor: alg None with a key": ("k3.cbor", cbor2.dumps(dict(_doc(), protected={"ver": "v1", "alg": "None"}))),
        "json: signed with another key": ("k4.json", _signed(_doc(alg="HS256"), _json, "another key")),
        "cbor: signed with another key": ("k5.cbor", _signed(_doc(alg="HS256"), cbor2.dumps, "another key")),
        "json: signed, then a value edited": ("k6.json", _signed(_doc(alg="HS256"), _json, KEY).replace(b"[3,4]",
                                                                                                          b"[3,5]")),
    }
    out += [Case(k, n, v, ["--hmac-key", KEY]) for k, (n, v) in keyed.items()]
    return out


def tflite_cases() -> list[Case]:
    kws = (SHARED / "reference_models" / "kws_ref_model.tflite").read_bytes()
    ad = (SHARED / "reference_models" / "ad01_int8.tflite").read_bytes()
    blobs = {
        "empty": b"",
        "not a flatbuffer": b"hello world, not a model",
        "no TFL3 identifier": kws[:4] + b"XXXX" + kws[8:],
        "the first 100 bytes": kws[:100],
        "half the file": kws[: len(kws) // 2],
        "the root offset past the end": b"\xff\xff\xff\x7fTFL3" + kws[8:64],
        "a zero root table": b"\x00\x00\x00\x00TFL3" + b"\x00" * 64,
    }
    for offset in (0, 20, 56, 136):  # the root and first tables' offsets
        mutated = bytearray(ad)
        mutated[offset : offset + 4] = b"\xff\xff\xff\x7f"
        blobs[f"a table offset at {offset} pointing past the end"] = bytes(mutated)
    for back in (5848, 5264, 5260, 5236, 4856, 4600, 4452, 3972):  # tensors, operators, inputs, outputs
        mutated = bytearray(ad)
        mutated[len(ad) - back : len(ad) - back + 4] = (1000).to_bytes(4, "little")
        blobs[f"an index set to 1000 at {back} bytes from the end"] = bytes(mutated)
    return [Case(f"tflite: {k}", f"m{i:02d}.tflite", v) for i, (k, v) in enumerate(blobs.items())]
