"""The real command in a fresh interpreter: output streams, exit codes, JSON."""

from __future__ import annotations

import json

import numpy as np
from conftest import run_cli, tone, write_wav_raw
from test_edge_impulse import VALUES, make_doc, sign_json


def test_help_lists_the_commands():
    out = run_cli("--help")
    assert out.returncode == 0 and "import" in out.stdout and "capture" in out.stdout


def test_without_a_display_the_app_says_so_in_one_line(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    out = run_cli()
    assert out.returncode == 1 and out.stderr.startswith("tinyml-studio: error: no display")


def test_full_flow_new_import_info_label_split_export(tmp_path):
    proj = tmp_path / "p"
    assert run_cli("new", proj, "--name", "Gestures").returncode == 0
    src = tmp_path / "src"
    src.mkdir()
    for i in range(6):
        (src / f"wave.{i}.csv").write_text("timestamp,ax\n" + "\n".join(f"{t * 10},{t * i}" for t in range(20 + i)))
    (src / "idle.x.json").write_bytes(sign_json(make_doc(VALUES), key=b"k"))
    write_wav_raw(src / "yes.wav", tone(800).tobytes())
    out = run_cli("import", proj, src, "--hmac-key", "k")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "imported 8 file(s), refused 0"

    info = json.loads(run_cli("info", proj, "--json").stdout)
    assert info["name"] == "Gestures" and info["stats"]["samples"] == 8
    assert set(info["stats"]["labels"]) == {"wave", "idle", "yes"}

    listed = json.loads(run_cli("list", proj, "--label", "wave", "--json").stdout)
    ids = [s["id"] for s in listed]
    assert len(ids) == 6
    assert run_cli("label", proj, f"{ids[0]},{ids[1]}", "--set", "shake").returncode == 0
    assert run_cli("rename-label", proj, "shake", "Shake \u00fc").returncode == 0
    assert run_cli("move", proj, str(ids[2]), "--to", "testing").returncode == 0
    assert run_cli("disable", proj, str(ids[3])).returncode == 0
    assert run_cli("crop", proj, str(ids[4]), "--start-ms", "20", "--end-ms", "120").returncode == 0
    out = run_cli("split", proj)
    assert out.returncode == 0 and out.stdout.startswith("moved ")
    listed = {s["id"]: s for s in json.loads(run_cli("list", proj, "--json").stdout)}
    assert listed[ids[0]]["label"] == "Shake \u00fc" and not listed[ids[3]]["enabled"]
    assert (listed[ids[4]]["crop_start"], listed[ids[4]]["crop_end"]) == (2, 12)

    out = run_cli("export-data", proj, tmp_path / "out", "--format", "ei-cbor")
    assert out.returncode == 0, out.stderr
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert len(manifest["files"]) == 7

    assert run_cli("delete", proj, str(ids[5])).returncode == 0
    assert json.loads(run_cli("info", proj, "--json").stdout)["stats"]["samples"] == 7


def test_partial_import_exits_non_zero_with_one_line_per_refusal(tmp_path):
    proj = tmp_path / "p"
    run_cli("new", proj)
    good = tmp_path / "good.csv"
    good.write_text("timestamp,a\n0,1\n10,2\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,a\n0,1\n10,zz\n")
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    out = run_cli("import", proj, good, bad, empty)
    assert out.returncode == 1
    err = out.stderr.strip().splitlines()
    assert err[0] == f"tinyml-studio: error: {bad}: line 3, column 'a': 'zz' is not a number"
    assert err[1] == f"tinyml-studio: error: {empty}: empty file"
    assert len(err) == 2 and out.stdout.strip().splitlines()[-1] == "imported 1 file(s), refused 2"
    assert "good.csv: sample 1" in out.stdout


def test_json_import_report(tmp_path):
    proj = tmp_path / "p"
    run_cli("new", proj)
    f = tmp_path / "updown.csv"
    f.write_text("a,b\n1,2\n3,4\n")
    out = run_cli("import", proj, f, "--frequency", "50", "--json", "--category", "testing")
    report = json.loads(out.stdout)
    assert report["imported"][0]["label"] == "updown" and report["imported"][0]["category"] == "testing"
    assert report["imported"][0]["frequency_hz"] == 50


def test_errors_are_one_line_on_stderr_with_status_1(tmp_path):
    cases = [
        ("info", tmp_path / "missing"),
        ("new", tmp_path),  # not empty (holds "missing"? no: holds nothing yet, so create a file)
    ]
    (tmp_path / "file").write_text("x")
    for args in cases:
        out = run_cli(*args)
        assert out.returncode == 1
        assert len(out.stderr.strip().splitlines()) == 1 and out.stderr.startswith("tinyml-studio: error: ")
        assert out.stdout == ""
    run_cli("new", tmp_path / "p")
    out = run_cli("label", tmp_path / "p", "7", "--set", "x")
    assert out.returncode == 1 and "no sample with id 7" in out.stderr
    out = run_cli("label", tmp_path / "p", "abc", "--set", "x")
    assert out.returncode == 1 and "not a sample id" in out.stderr
    assert run_cli("import", tmp_path / "p").returncode == 2  # usage error


def test_boards_table_and_json():
    out = run_cli("boards", "--json")
    boards = json.loads(out.stdout)
    ids = {b["id"] for b in boards}
    assert {"nano33ble", "esp32dev", "host-native", "virtual-cortex-m4"} <= ids
    table = run_cli("boards").stdout
    assert "Arduino Nano 33 BLE Sense" in table


def test_duplicates_command(tmp_path):
    proj = tmp_path / "p"
    run_cli("new", proj)
    f = tmp_path / "a.csv"
    f.write_text("timestamp,a\n0,1\n10,2\n")
    run_cli("import", proj, f)
    run_cli("import", proj, f, "--label", "b", "--allow-duplicates")
    assert json.loads(run_cli("duplicates", proj, "--json").stdout) == [[1, 2]]


def test_split_sample_command(tmp_path):
    proj = tmp_path / "p"
    run_cli("new", proj)
    f = tmp_path / "long.csv"
    f.write_text("timestamp,a\n" + "\n".join(f"{t * 10},{np.sin(t)}" for t in range(100)))
    run_cli("import", proj, f)
    out = run_cli("split-sample", proj, "1", "--window-ms", "250")
    assert out.returncode == 0 and "into 4 samples" in out.stdout
