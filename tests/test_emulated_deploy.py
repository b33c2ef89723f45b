"""Flashing the emulated board: the gesture impulse exported for virtual-cortex-m4, built with the offline kit,
run under QEMU and fed over its UART with recorded testing samples and with the virtual sensor's gestures; its
result lines equal Python's int8 predictions on the same windows. Pacing, cancel, and the failures."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from conftest import have
from support.expected import python_scores

from studio.cortexm import available
from studio.cortexm.serial_board import _live
from studio.deploy.export.project import export_project
from studio.deploy.pio import kit as pio_kit
from studio.deploy.pio.runner import PioNotFound, find_pio, pio_run
from studio.deploy.running import emulated
from studio.deploy.running.flash import FlashError
from studio.deploy.running.result_line import ImpulseLine, ResultLine
from studio.devices.gestures import GESTURES
from studio.jobs import Progress

try:
    PIO = find_pio()
except PioNotFound as e:
    pytest.skip(f"PlatformIO is not installed: {e}", allow_module_level=True)
if available() is not None or not have("qemu-system-arm"):
    pytest.skip(f"the emulated board cannot run here: {available()}", allow_module_level=True)

BOARD = "virtual-cortex-m4"


@pytest.fixture(scope="module")
def firmware(gesture_run, tmp_path_factory):
    """The gesture run's firmware for the emulated board, built in a core of its own: (run, ELF)."""
    core = tmp_path_factory.mktemp("emulated-pio-core")
    pio_kit.install_kit(core, pio=PIO)
    result = export_project(gesture_run.run, BOARD, tmp_path_factory.mktemp("emulated") / BOARD)
    start = time.monotonic()
    built = pio_run(result.path, BOARD, core, pio=PIO)
    print(f"\n{BOARD} built in {time.monotonic() - start:.1f} s (flash {built.flash.used} B, RAM {built.ram.used} B)")
    return gesture_run.run, result.path / ".pio" / "build" / BOARD / "firmware.elf"


def assert_matches_python(run, report: emulated.EmulatedReport) -> float:
    """Every window of what was sent answered, with the argmax and (within one output step) the scores of Python."""
    f = run.config["framing"]
    windows = emulated.stream_windows(report.sent, f["window_frames"], f["stride_frames"])
    assert report.complete and report.windows_expected == len(windows) == len(report.results) > 0
    assert not report.errors and not report.malformed, (report.errors, report.malformed)
    expected, step = python_scores(run, windows)
    got = np.array([r.scores for r in report.results])
    assert all(r.labels == tuple(run.config["classes"]) for r in report.results)
    differ = np.flatnonzero(got.argmax(1) != expected.argmax(1))
    assert differ.size == 0, f"argmax differs on windows {differ[:20].tolist()} of {len(got)}"
    worst = float(np.abs(got - expected).max())
    assert worst <= step + 1e-5, f"worst score difference {worst:.6g}, one output step is {step:.6g}"
    stride_ms = f["stride_frames"] * 1000 / f["frequency_hz"]
    first_ms = f["window_frames"] * 1000 / f["frequency_hz"]
    assert [r.t_ms for r in report.results[:2]] == [round(first_ms), round(first_ms + stride_ms)]
    return worst


def recorded_frames(run, per_class: int = 1) -> np.ndarray:
    """The first ``per_class`` testing samples of every class, one after the other."""
    from studio.project import Project

    with Project.open(run.path.parent.parent) as project:
        chosen = []
        for label in run.config["classes"]:
            chosen += project.samples(label=label, category="testing")[:per_class]
        return np.concatenate([project.read(s) for s in chosen])


def test_recorded_testing_samples_classify_as_in_python(firmware):
    run, elf = firmware
    frames = recorded_frames(run)
    progress = Progress()
    start = time.monotonic()
    report = emulated.run(emulated.EmulatedParams(elf, frames, 100.0, axis_names=["accX", "accY", "accZ"]),
                          progress)
    seconds = time.monotonic() - start
    assert report.lines_sent == len(frames) and report.sent.shape == frames.shape
    np.testing.assert_allclose(report.sent, frames, rtol=1e-6, atol=1e-6)
    assert isinstance(report.banner, ImpulseLine) and report.banner.board == BOARD
    worst = assert_matches_python(run, report)
    # everything went out through progress.partial as it arrived, in order
    assert [p for p in progress.partials if isinstance(p, ResultLine)] == report.results
    assert isinstance(progress.partials[0], ImpulseLine) and progress.fraction == 1.0
    assert not any(b.running for b in list(_live))
    print(f"{len(frames)} frames, {len(report.results)} windows in {seconds:.1f} s, worst score difference "
          f"{worst:.6g}")


def test_virtual_sensor_gestures_classify_as_in_python(firmware):
    run, elf = firmware
    frames = np.concatenate([emulated.gesture_frames(g, 3.0, 100.0, seed=40 + i) for i, g in enumerate(GESTURES)])
    report = emulated.run(emulated.EmulatedParams(elf, frames, 100.0), Progress())
    assert_matches_python(run, report)
    assert len({r.top for r in report.results}) > 1  # more than one gesture recognised


def test_realtime_pacing_and_cancel_stop_qemu(firmware):
    run, elf = firmware
    frames = emulated.gesture_frames("wave", 3.0, 100.0)
    start = time.monotonic()
    report = emulated.run(emulated.EmulatedParams(elf, frames, 100.0, realtime=True), Progress())
    assert time.monotonic() - start >= 2.9 and report.complete and report.windows_expected == 6

    progress, done = Progress(), []
    worker = threading.Thread(target=lambda: done.append(emulated.run(
        emulated.EmulatedParams(elf, emulated.gesture_frames("shake", 60.0, 100.0), 100.0, realtime=True),
        progress)))
    worker.start()
    deadline = time.monotonic() + 30
    while not any(isinstance(p, ResultLine) for p in progress.partials) and time.monotonic() < deadline:
        time.sleep(0.05)
    progress.cancel()
    worker.join(15)
    assert not worker.is_alive() and done
    assert not done[0].complete and 0 < len(done[0].results) < done[0].windows_expected
    assert not any(b.running for b in list(_live))


def test_failures_are_one_line(firmware, tmp_path):
    from studio.cortexm import build_elf

    _, elf = firmware
    with pytest.raises(FlashError, match="no firmware there"):
        emulated.run(emulated.EmulatedParams(tmp_path / "missing.elf", np.zeros((10, 3)), 100.0), Progress())
    with pytest.raises(FlashError, match="no sensor frames"):
        emulated.run(emulated.EmulatedParams(elf, np.zeros((0, 3)), 100.0), Progress())
    with pytest.raises(FlashError, match="3 or 6 axes"):
        emulated.gesture_frames("wave", 1.0, 100.0, axes=2)
    (tmp_path / "quits.c").write_text("int main(void) { return 3; }\n")
    quits = build_elf([tmp_path / "quits.c"], tmp_path / "quits.elf", "cortex-m4")
    with pytest.raises(FlashError) as caught:
        emulated.run(emulated.EmulatedParams(quits, np.zeros((500, 3)), 100.0), Progress())
    assert "exit code 3" in str(caught.value) and "\n" not in str(caught.value)
    assert not any(b.running for b in list(_live))


def test_window_counting():
    assert [emulated.window_count(n, 200, 20) for n in (0, 199, 200, 219, 220, 2000)] == [0, 0, 1, 1, 2, 91]
    sent = np.arange(30, dtype=np.float32).reshape(10, 3)
    windows = emulated.stream_windows(sent, 4, 3)
    assert windows.shape == (3, 4, 3) and windows[1, 0, 0] == 9 and emulated.stream_windows(sent, 11, 1).shape == (
        0, 11, 3)
    lines, values = emulated.encode(np.array([[1.23456789, -2.0, 1e-9]]))
    assert lines == [b"1.234568,-2.000000,0.000000\r\n"] and values.dtype == np.float32
