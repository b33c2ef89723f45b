"""SIGKILL a process that imports or edits a project at random moments; the project must
always reopen with no half-written sample indexed and nothing unindexed left behind."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import ROOT, tone, write_wav_raw

from studio.formats.sample import ContentHasher
from studio.fsutil import TMP_PREFIX
from studio.project import Project


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    src = tmp_path_factory.mktemp("src")
    rng = np.random.default_rng(0)
    for i in range(24):
        rows = 2000 + 500 * i
        lines = ["timestamp,ax,ay,az"] + [f"{t * 10}," + ",".join(f"{v:.4f}" for v in rng.normal(size=3))
                                         for t in range(rows)]
        (src / f"motion{i % 3}.{i}.csv").write_text("\n".join(lines) + "\n")
    for i in range(6):
        write_wav_raw(src / f"kw.{i}.wav", np.tile(tone(), 3 + i).tobytes())
    for i in range(10):
        doc = {"protected": {"ver": "v1", "alg": "none"}, "signature": "0" * 64,
               "payload": {"device_type": "x", "interval_ms": 20, "sensors": [{"name": "a", "units": "g"}],
                           "values": rng.normal(size=(300 + i, 1)).round(3).tolist()}}
        (src / f"doc.{i}.json").write_text(json.dumps(doc))
    return src


def check_consistent(path):
    with Project.open(path) as p:
        assert p.integrity_problems() == []
        known = {s.uid for s in p.samples()}
        for folder in ("training", "testing"):
            for f in (path / "data" / folder).iterdir():
                assert not f.name.startswith(TMP_PREFIX), f
                assert f.name.split(".")[-2] in known, f"unindexed file {f}"
        for s in p.samples():
            assert s.file.startswith(f"data/{s.category}/")
            values = p.read(s, cropped=False)
            assert len(values) == s.frames
            h = ContentHasher(s.kind)
            h.update(values)
            assert h.hexdigest(s.sensors, s.interval_ms) == s.hash, f"sample {s.id} content differs from index"
        return len(p.samples())


def kill_after(cmd, delay):
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return proc.returncode


def timed_import(proj, source):
    start = time.monotonic()
    subprocess.run([sys.executable, "-m", "studio", "import", str(proj), str(source)], cwd=ROOT, check=True,
                   capture_output=True, timeout=300)
    return time.monotonic() - start


def test_sigkill_during_imports_at_random_moments(tmp_path, source):
    scratch = tmp_path / "scratch"
    Project.create(scratch).close()
    full = timed_import(scratch, source)  # kill moments are spread over a whole run's length
    proj = tmp_path / "p"
    Project.create(proj).close()
    rnd = random.Random(1234)
    killed = 0
    for _ in range(10):
        rc = kill_after([sys.executable, "-m", "studio", "import", str(proj), str(source), "--category", "split"],
                        rnd.uniform(0.05, 0.95) * full)
        killed += rc == -signal.SIGKILL
        check_consistent(proj)
    assert killed >= 5  # most runs were really interrupted mid-way
    # and after all that, a full import still works
    out = subprocess.run([sys.executable, "-m", "studio", "import", str(proj), str(source)], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert check_consistent(proj) >= 40


EDITOR = """
import random, sys
from studio.project import Project
p = Project.open(sys.argv[1])
rnd = random.Random(int(sys.argv[2]))
ids = [s.id for s in p.samples()]
while True:
    pick = rnd.sample(ids, 5)
    op = rnd.randrange(4)
    if op == 0:
        p.move(pick, rnd.choice(["training", "testing"]))
    elif op == 1:
        p.relabel(pick, rnd.choice(["a", "b", 'c "q"']))
    elif op == 2:
        p.rebalance(rnd.choice([0.1, 0.2, 0.5]))
    else:
        p.set_enabled(pick, rnd.random() < 0.5)
    print("op", flush=True)
"""


def test_sigkill_during_relabels_and_moves(tmp_path, source):
    proj = tmp_path / "p"
    Project.create(proj).close()
    timed_import(proj, source)
    total = check_consistent(proj)
    rnd = random.Random(99)
    for trial in range(8):
        kill_after([sys.executable, "-c", EDITOR, str(proj), str(trial)], rnd.uniform(0.3, 1.5))
        assert check_consistent(proj) == total
    assert os.path.exists(proj / "project.json")
