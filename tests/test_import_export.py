"""Import and export jobs on real files: every format, every bad input, round trips."""

from __future__ import annotations

import json
import subprocess
import sys
import tracemalloc

import cbor2
import numpy as np
import pytest
import soundfile
from conftest import ROOT, run_cli, tone, write_wav_raw
from test_edge_impulse import VALUES, make_doc, sign_cbor, sign_json

from studio.dataset import exporter, importer
from studio.formats import edge_impulse
from studio.jobs import Progress
from studio.project import Project, ProjectError


def do_import(project, paths, **kw):
    params = importer.ImportParams(project.path, [*paths], **kw)
    return importer.run(params, Progress())


def write_csv(path, rows=50, axes=("ax", "ay", "az"), step_ms=10):
    lines = ["timestamp," + ",".join(axes)]
    lines += [f"{i * step_ms}," + ",".join(f"{(i * (k + 1)) % 7 * 0.25:.2f}" for k in range(len(axes)))
              for i in range(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_imports_every_format_with_labels_from_file_names(project, tmp_path):
    src = tmp_path / "src"
    (src / "nested" / "deeper").mkdir(parents=True)
    write_csv(src / "wave.01.csv")
    (src / "nested" / "idle.sample1.json").write_bytes(sign_json(make_doc(VALUES)))
    (src / "nested" / "deeper" / "updown.cbor").write_bytes(sign_cbor(make_doc([[-v for v in r] for r in VALUES])))
    write_wav_raw(src / "yes.1.wav", tone(8000, rate=8000).tobytes(), rate=8000)
    (src / "README.txt").write_text("not a sample")
    report = do_import(project, [src], hmac_key="secret-key")
    assert report.ok, report.error_lines()
    assert sorted(i.label for i in report.imported) == ["idle", "updown", "wave", "yes"]
    assert report.skipped == [str(src / "README.txt")]
    by_label = {i.label: i for i in report.imported}
    assert by_label["wave"].frequency_hz == pytest.approx(100) and by_label["wave"].frames == 50
    assert by_label["yes"].kind == "audio" and by_label["yes"].frequency_hz == 8000
    s = project.get(by_label["idle"].sample_id)
    np.testing.assert_array_equal(project.read(s), np.array(VALUES))
    with Project.open(project.path) as reopened:  # the job saved the config through its own handle
        assert reopened.config.sensors[0]["name"] == "ax" and reopened.config.frequency_hz == 100


def test_label_option_category_and_frequency(project, tmp_path):
    f = tmp_path / "noTimestamps.csv"
    f.write_text("x,y\n1,2\n3,4\n5,6\n")
    report = do_import(project, [f], label="custom", category="testing", frequency_hz=62.5)
    (item,) = report.imported
    assert (item.label, item.category, item.frequency_hz) == ("custom", "testing", 62.5)
    failed = do_import(project, [tmp_path / "noTimestamps.csv"])
    assert "no 'timestamp' column" in failed.error_lines()[0]


def test_bad_files_are_refused_one_line_each_and_others_still_import(project, tmp_path):
    src = tmp_path / "mixed"
    src.mkdir()
    write_csv(src / "good.csv")
    (src / "empty.csv").write_text("")
    (src / "cols.csv").write_text("a,b\n1,2\n3\n")
    (src / "text.csv").write_text("a,b\n1,x\n")
    (src / "nan.csv").write_text("timestamp,a\n0,1\n10,nan\n")
    write_wav_raw(src / "trunc.wav", b"\x00" * 100, data_size=10000)
    write_wav_raw(src / "adpcm.wav", b"\x00" * 100, tag=2)
    (src / "sig.json").write_bytes(sign_json(make_doc(VALUES), key=b"other"))
    (src / "ver.json").write_text(json.dumps(make_doc(VALUES, ver="v9", alg="none")))
    (src / "garbage.cbor").write_bytes(b"\xff\x00\x01")
    (src / ".json").write_text("{}")  # hidden: skipped
    report = do_import(project, [src], hmac_key="secret-key", frequency_hz=50)
    assert [i.label for i in report.imported] == ["good"]
    lines = report.error_lines()
    assert len(lines) == 9 and all("\n" not in ln for ln in lines)
    reasons = dict(report.refused)
    assert "expected 2 values" in reasons[str(src / "cols.csv")]
    assert "bad signature" in reasons[str(src / "sig.json")]
    assert "unknown format version" in reasons[str(src / "ver.json")]
    assert "truncated" in reasons[str(src / "trunc.wav")]
    assert len(project.samples()) == 1
    assert sorted(p.name for p in (project.path / "data" / "training").iterdir()) == \
        [project.path.joinpath(project.samples()[0].file).name]


def test_unknown_or_missing_paths_are_refused(project, tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    report = do_import(project, [tmp_path / "notes.txt", tmp_path / "missing.csv"])
    assert [r for _, r in report.refused] == ["unsupported file type '.txt' (CSV, WAV, JSON, CBOR)",
                                             "no such file or folder"]


@pytest.mark.parametrize("subtype, note", [("PCM_U8", "8-bit"), ("PCM_24", "24-bit"), ("FLOAT", "32-bit float")])
def test_wav_encodings_are_converted_and_reported(project, tmp_path, subtype, note):
    p = tmp_path / f"kw.{subtype}.wav"
    x = tone(4000, rate=16000)
    soundfile.write(p, x / 32768.0 if subtype == "FLOAT" else x, 16000, subtype=subtype)
    (item,) = do_import(project, [p]).imported
    assert any(note in n for n in item.notes)
    stored = project.read(project.get(item.sample_id))[:, 0].astype(int)
    assert np.abs(stored - x).max() <= (256 if subtype == "PCM_U8" else 1)


def test_wav_keeps_native_rate_and_channels(project, tmp_path):
    x = np.stack([tone(441, rate=44100), tone(441, 880, rate=44100)], 1)
    p = write_wav_raw(tmp_path / "st.wav", x.astype("<i2").tobytes(), rate=44100, channels=2)
    (item,) = do_import(project, [p]).imported
    s = project.get(item.sample_id)
    assert s.frequency_hz == pytest.approx(44100) and len(s.sensors) == 2
    np.testing.assert_array_equal(project.read(s), x)


def test_hostile_names_and_labels_stay_inside_the_project(project, tmp_path):
    odd = tmp_path / "odd"
    odd.mkdir()
    write_csv(odd / " \u3000.csv")  # the label would be only white space
    write_csv(odd / "caf\u00e9 \"quoted\".1.csv")
    report = do_import(project, [odd])
    assert any("no usable label" in r for _, r in report.refused)
    (item,) = report.imported
    assert item.label == 'caf\u00e9 "quoted"'
    report2 = do_import(project, [odd / "caf\u00e9 \"quoted\".1.csv"], label="../../etc/passwd\nx",
                        allow_duplicates=True)
    s = project.get(report2.imported[0].sample_id)
    assert s.label == "../../etc/passwd\nx"
    assert (project.path / s.file).resolve().parent == (project.path / "data" / "training").resolve()


def test_duplicates_are_skipped_unless_allowed_and_reported(project, tmp_path):
    a = write_csv(tmp_path / "a.csv")
    first = do_import(project, [a]).imported[0]
    skipped = do_import(project, [a], label="b")
    assert skipped.ok and skipped.imported == [] and skipped.already == [(str(a), [first.sample_id])]
    assert skipped.summary() == "imported 0 file(s), skipped 1 already in the project, refused 0"
    again = do_import(project, [a], label="b", allow_duplicates=True).imported[0]
    assert again.duplicate_of == [first.sample_id]
    # the same data as JSON is the same content
    doc = make_doc([[round((i * (k + 1)) % 7 * 0.25, 2) for k in range(3)] for i in range(50)], alg="none")
    doc["payload"]["sensors"] = [{"name": n, "units": ""} for n in ("ax", "ay", "az")]
    (tmp_path / "c.json").write_text(json.dumps(doc))
    assert do_import(project, [tmp_path / "c.json"], allow_duplicates=True).imported[0].duplicate_of == [
        first.sample_id, again.sample_id]


def test_cancel_stops_between_files_and_keeps_finished_ones(project, tmp_path):
    files = [write_csv(tmp_path / f"s{i}.csv", rows=50 + i) for i in range(5)]
    progress = Progress()
    seen = []

    def listener(event):
        if event.partial is not None:
            seen.append(event.partial)
            if len(seen) == 2:
                progress.cancel()

    progress._listener = listener
    report = importer.run(importer.ImportParams(project.path, files), progress)
    assert report.cancelled and len(report.imported) == 2
    assert len(project.samples()) == 2 and project.integrity_problems() == []


def test_cancel_inside_a_large_file_leaves_nothing(project, tmp_path, monkeypatch):
    from studio.formats import csvfile

    monkeypatch.setattr(csvfile, "BLOCK_BYTES", 1024)
    big = write_csv(tmp_path / "big.csv", rows=20000)
    progress = Progress()
    progress._listener = lambda e: progress.cancel() if e.fraction > 0.3 else None
    report = importer.run(importer.ImportParams(project.path, [big]), progress)
    assert report.cancelled and not report.imported
    assert project.samples() == [] and list((project.path / "data" / "training").iterdir()) == []


def peak_import_memory(project, path, label):
    tracemalloc.start()
    try:
        report = do_import(project, [path], label=label)
        return tracemalloc.get_traced_memory()[1], report
    finally:
        tracemalloc.stop()


def test_csv_and_wav_import_memory_does_not_grow_with_file_size(project, tmp_path):
    small, large = write_csv(tmp_path / "s.csv", rows=100_000), write_csv(tmp_path / "l.csv", rows=400_000)
    peak_s, r1 = peak_import_memory(project, small, "s")
    peak_l, r2 = peak_import_memory(project, large, "l")
    assert r1.ok and r2.ok and r2.imported[0].frames == 400_000
    assert peak_l < 1.5 * peak_s, (peak_s, peak_l)
    assert peak_l < 40 * 2**20
    w_small = write_wav_raw(tmp_path / "s.wav", np.tile(tone(), 20).tobytes())
    w_large = write_wav_raw(tmp_path / "l.wav", np.tile(tone(), 80).tobytes())
    ws, _ = peak_import_memory(project, w_small, "w")
    wl, r3 = peak_import_memory(project, w_large, "w")
    assert r3.imported[0].frames == 80 * 16000
    assert wl < 1.5 * ws, (ws, wl)


def test_bad_import_parameters_raise(project, tmp_path):
    with pytest.raises(ProjectError, match="unknown category"):
        do_import(project, [], category="validation")
    with pytest.raises(ProjectError, match="frequency"):
        do_import(project, [], frequency_hz=-1)


# ---------------------------------------------------------------- export


def populated(project, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for i in range(4):
        write_csv(src / f"wave.{i}.csv", rows=30 + i)
    write_csv(src / "idle.0.csv", rows=20)
    write_wav_raw(src / "yes.0.wav", tone(1600).tobytes())
    report = do_import(project, [src], category="split")
    assert report.ok
    project.relabel([1], 'odd "label"\n\u00fc')
    project.set_enabled([2], False)
    return report


@pytest.mark.parametrize("fmt", ["ei-json", "ei-cbor", "csv"])
def test_export_round_trips_through_import(project, tmp_path, fmt):
    populated(project, tmp_path)
    out = tmp_path / f"out-{fmt}"
    report = exporter.run(exporter.ExportParams(project.path, out, fmt), Progress())
    assert report.ok and report.written == 5  # the disabled sample is left out
    manifest = json.loads((out / "manifest.json").read_text())
    info = json.loads((out / "info.labels").read_text())
    assert len(manifest["files"]) == len(info["files"]) == 5
    assert 'odd "label"\n\u00fc' in manifest["labels"]
    for entry in info["files"]:
        assert (out / entry["path"]).is_file() and entry["path"].split("/")[0] == entry["category"]
    if fmt != "csv":
        sensor = next(e for e in manifest["files"] if e["kind"] == "sensor")
        raw = (out / sensor["path"]).read_bytes()
        assert edge_impulse.parse_document(raw, fmt[3:], project.config.key_bytes).signature_verified
    # re-import into a new project: same content hashes, labels from the manifest
    other = Project.create(tmp_path / f"again-{fmt}")
    hashes = {}
    for entry in manifest["files"]:
        r = do_import(other, [out / entry["path"]], label=entry["label"], category=entry["category"],
                      hmac_key=project.config.hmac_key)
        assert r.ok, r.error_lines()
        hashes[entry["hash"]] = other.get(r.imported[0].sample_id).hash
    if fmt != "csv":  # CSV does not carry units the same way
        assert all(k == v for k, v in hashes.items())
    other.close()


def test_export_wav_refuses_sensor_samples_and_writes_audio(project, tmp_path):
    populated(project, tmp_path)
    report = exporter.run(exporter.ExportParams(project.path, tmp_path / "w", "wav"), Progress())
    assert report.written == 1 and len(report.refused) == 4 and not report.ok
    (wav_file,) = (tmp_path / "w").rglob("*.wav")
    data, rate = soundfile.read(wav_file, dtype="int16")
    assert rate == 16000 and np.array_equal(data, tone(1600))


def test_export_applies_crop_and_refuses_non_empty_target(project, tmp_path):
    populated(project, tmp_path)
    s = project.samples(label="wave", enabled=True)[0]
    project.crop(s.id, 5, 15)
    out = tmp_path / "c"
    exporter.run(exporter.ExportParams(project.path, out, "ei-cbor"), Progress())
    entry = next(e for e in json.loads((out / "manifest.json").read_text())["files"] if e["sample_id"] == s.id)
    assert entry["frames"] == 10
    assert len(cbor2.loads((out / entry["path"]).read_bytes())["payload"]["values"]) == 10
    with pytest.raises(ProjectError, match="not an empty folder"):
        exporter.run(exporter.ExportParams(project.path, out, "csv"), Progress())


def test_cancelled_export_leaves_no_folder(project, tmp_path):
    populated(project, tmp_path)
    progress = Progress()
    progress.cancel()
    report = exporter.run(exporter.ExportParams(project.path, tmp_path / "x", "csv"), progress)
    assert report.cancelled and not (tmp_path / "x").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]


def test_re_importing_the_apps_own_export_exits_0_and_skips_what_is_there(project, tmp_path):
    populated(project, tmp_path)
    out = tmp_path / "export"
    assert exporter.run(exporter.ExportParams(project.path, out, "ei-cbor", include_disabled=True), Progress()).ok
    project.close()
    again = run_cli("import", project.path, out, "--hmac-key", Project.open(project.path).config.hmac_key)
    assert again.returncode == 0 and again.stderr == "", again.stderr
    assert again.stdout.strip().splitlines()[-1] == ("imported 0 file(s), skipped 6 already in the project, refused 0, "
                                                     "skipped 2 non-sample file(s)")
    fresh = tmp_path / "fresh"
    assert run_cli("new", fresh).returncode == 0
    first = run_cli("import", fresh, out)
    assert first.returncode == 0, first.stderr
    assert "manifest.json" not in first.stderr and "info.labels" not in first.stderr
    with Project.open(fresh) as p, Project.open(project.path) as src:
        assert sorted(s.hash for s in p.samples()) == sorted(s.hash for s in src.samples())


def test_a_killed_export_leaves_a_staging_folder_the_next_export_removes(project, tmp_path):
    populated(project, tmp_path)
    project.close()
    code = ("import os, sys\nfrom pathlib import Path\nfrom studio.dataset import exporter\nfrom studio.jobs import "
            "Progress\nclass Kill(Progress):\n    def update(self, *a, **k):\n        if list(Path(sys.argv[2]).parent"
            ".glob('.tmp-*/*/*/*')):\n            os.kill(os.getpid(), 9)\n        super().update(*a, **k)\n"
            "exporter.run(exporter.ExportParams(Path(sys.argv[1]), Path(sys.argv[2]), 'ei-json'), Kill())\n")
    out = tmp_path / "exports" / "data"
    killed = subprocess.run([sys.executable, "-c", code, str(project.path), str(out)], cwd=ROOT)
    assert killed.returncode == -9
    (left,) = [p for p in out.parent.iterdir() if p.name.startswith(".tmp-")]
    foreign = out.parent / ".tmp-not-ours"
    foreign.mkdir()  # a folder with our prefix that the export did not make: left alone
    assert run_cli("export-data", project.path, tmp_path / "exports" / "other", "--format", "csv").returncode == 0
    assert not left.exists() and foreign.is_dir() and not out.exists()


def test_absurd_but_finite_values_import_with_no_warnings_on_the_terminal(project, tmp_path):
    f = tmp_path / "huge.csv"
    f.write_text("timestamp,a,b\n0,1e308,-1e308\n10,1.7e308,5e-324\n20,0,1\n")
    out = run_cli("import", project.path, f)
    assert out.returncode == 0 and out.stderr == "", out.stderr
    s = project.samples()[0]
    np.testing.assert_array_equal(project.read(s), [[1e308, -1e308], [1.7e308, 5e-324], [0, 1]])
