"""Serial boards over real pseudo-terminals: detection, throughput, disconnects, garbage."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from conftest import ROOT, run_cli

from studio.devices import capture, framed
from studio.devices.live import DISCONNECTED, STREAMING
from studio.devices.serial_source import SerialFramedSource, SerialTextSource, detect
from studio.devices.sources import Disconnected
from studio.devices.virtual_board import VirtualBoard
from studio.jobs import Progress
from studio.project import Project


class PtyWriter:
    """A bare pseudo-terminal 'board' whose bytes the test controls."""

    def __init__(self):
        self.master, self.slave = os.openpty()
        self.path = os.ttyname(self.slave)

    def write(self, data: bytes):
        view = memoryview(data)
        while view:
            n = os.write(self.master, view)
            view = view[n:]

    def close(self):
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)


@pytest.mark.parametrize("rate, baud", [(50, 115200), (100, 115200), (400, 115200), (100, 9600)])
def test_detection_of_baud_axes_names_and_frequency_within_one_percent(rate, baud):
    with VirtualBoard(rate_hz=rate, gesture="wave", baud=baud, gyro=rate == 400) as board:
        det = detect(board.path, seconds=1.2)
    assert det.baud == baud
    assert det.axes == (6 if rate == 400 else 3)
    assert det.names[:3] == ["accX", "accY", "accZ"]
    assert abs(det.frequency_hz - rate) <= 0.01 * rate


def test_board_without_header_gets_user_axis_names(tmp_path):
    board = PtyWriter()
    stop = threading.Event()

    def produce():  # 100 lines/s, paced from a monotonic clock (sleep alone drifts)
        start, i = time.monotonic(), 0
        while not stop.is_set():
            due = int((time.monotonic() - start) * 100) - i
            if due > 0:
                board.write(b"".join(f"{i + k},{-k}\n".encode() for k in range(due)))
                i += due
            time.sleep(0.01)

    t = threading.Thread(target=produce, daemon=True)
    t.start()
    try:
        src = SerialTextSource(board.path, axis_names=["left", "right"])
        info = src.open()
        assert info.axes == ["left", "right"] and abs(info.frequency_hz - 100) <= 1.0
        src.close()
    finally:
        stop.set()
        t.join()
        board.close()


def test_twenty_thousand_lines_per_second_with_zero_loss():
    board = PtyWriter()
    rate, seconds = 25_000, 3.0
    total = int(rate * seconds)
    batch = 250
    lines = [f"{i},{i % 7}.25,-{i % 11}.5,{i % 13},0.001,{i % 3}\n".encode() for i in range(total)]
    done = {}

    def produce():
        board.write(b"7.5,1\n")  # the tail of a line the host joined in the middle of: dropped
        start = time.monotonic()
        for b in range(0, total, batch):
            wait = start + b / rate - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            board.write(b"".join(lines[b : b + batch]))  # blocking: a slow reader would slow this down
        done["seconds"] = time.monotonic() - start

    src = SerialTextSource(board.path, baud=115200, frequency_hz=rate, axis_names=list("abcdef"))
    src.open()
    t = threading.Thread(target=produce)
    t.start()
    got, n = [], 0
    deadline = time.monotonic() + 30
    while n < total and time.monotonic() < deadline:
        chunk = src.read()
        if len(chunk):
            got.append(chunk)
            n += len(chunk)
    t.join()
    src.close()
    board.close()
    data = np.concatenate(got)
    assert len(data) == total
    np.testing.assert_array_equal(data[:, 0], np.arange(total))
    assert src.counters()["garbage"] == 0 and src.counters()["wrong_axes"] == 0
    assert total / done["seconds"] >= 20_000, done


def test_garbage_partial_lines_and_wrong_axis_counts_are_counted():
    board = PtyWriter()
    src = SerialTextSource(board.path, baud=115200, frequency_hz=100, axis_names=["a", "b", "c"])
    src.open()
    # the first line after joining a stream may be cut, so it is dropped: "3" stands for that
    board.write(b"3\n1,2,3\n\x00\xff garbage\n4,5\n6,7,8\n9,10,11,12\nabc,def,ghi\n12,13,14\n15,1")
    got = []
    deadline = time.monotonic() + 2
    while sum(len(g) for g in got) < 3 and time.monotonic() < deadline:
        got.append(src.read())
    np.testing.assert_array_equal(np.concatenate(got), [[1, 2, 3], [6, 7, 8], [12, 13, 14]])
    c = src.counters()
    assert c["garbage"] == 2 and c["wrong_axes"] == 2
    src.close()
    board.close()


def test_baud_mismatch_shows_as_garbage_and_detection_finds_the_right_rate():
    with VirtualBoard(rate_hz=100, baud=57600) as board:
        src = SerialTextSource(board.path, baud=115200, frequency_hz=100, axis_names=["x", "y", "z"])
        src.open()
        got = 0
        end = time.monotonic() + 0.8
        while time.monotonic() < end:
            got += len(src.read())
        src.close()
        c = src.counters()
        assert got <= 2 and c["garbage"] + c["overlong"] + c["wrong_axes"] > 0
        assert detect(board.path, bauds=(115200, 57600), seconds=1.0).baud == 57600


def test_unplugged_board_raises_disconnected():
    board = VirtualBoard(rate_hz=100)
    board.start()
    src = SerialTextSource(board.path, 115200, 100, ["x", "y", "z"])
    src.open()
    board.stop()
    with pytest.raises(Disconnected, match="disconnected"):
        for _ in range(100):
            src.read()


def test_disconnect_mid_recording_keeps_data_and_saves_it_truncated(tmp_path):
    proj = tmp_path / "p"
    Project.create(proj).close()
    board = VirtualBoard(rate_hz=100, gesture="shake", link=tmp_path / "board")
    board.start()
    threading.Timer(1.5, board.stop).start()
    spec = capture.DeviceSpec(str(tmp_path / "board"), baud=115200, frequency_hz=100)
    result = capture.run(capture.CaptureParams(proj, spec, "shake", 4.0), Progress())
    assert result.truncated and "disconnected" in result.message
    assert 80 <= result.frames <= 160
    with Project.open(proj) as p:
        (s,) = p.samples()
        assert s.name.endswith("(truncated)") and s.frames == result.frames


def test_live_stream_reconnects_when_the_board_returns(tmp_path):
    link = tmp_path / "board"
    first = VirtualBoard(rate_hz=100, link=link)
    first.start()
    stream = capture.open_stream(capture.DeviceSpec(str(link), 115200, 100.0, ["x", "y", "z"]))
    states = []
    stream.add_listener(lambda s, m: states.append(s))
    stream.start()
    try:
        stream.wait_streaming(5)
        time.sleep(0.3)
        first.stop()
        deadline = time.monotonic() + 5
        while stream.state != DISCONNECTED and time.monotonic() < deadline:
            time.sleep(0.02)
        assert stream.state == DISCONNECTED
        before = stream.total_frames()
        second = VirtualBoard(rate_hz=100, link=link, seed=5)
        second.start()
        deadline = time.monotonic() + 5
        while stream.state != STREAMING and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)
        assert stream.state == STREAMING and stream.reconnects == 1
        assert stream.total_frames() > before
        second.stop()
    finally:
        stream.stop()
    assert states.count(STREAMING) == 2


def test_framed_audio_over_a_pty_with_a_corrupt_frame():
    board = PtyWriter()
    tone = (8000 * np.sin(np.arange(16000) * 0.05)).astype(np.int16)
    frames = [framed.encode(i, tone[i * 160 : (i + 1) * 160]) for i in range(100)]
    bad = bytearray(frames[50])
    bad[30] ^= 0x55
    frames[50] = bytes(bad)
    src = SerialFramedSource(board.path, 921600, 16000)
    # a running board: frames keep coming while the port is opened (opening flushes stale input)
    sender = threading.Thread(target=lambda: [board.write(f) or time.sleep(0.002) for f in frames])
    opener = threading.Thread(target=src.open)
    opener.start()
    time.sleep(0.05)
    sender.start()
    opener.join()
    got = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and (sender.is_alive() or sum(len(g) for g in got) < 95 * 160):
        got.append(src.read())  # read while sending: a full pty buffer would block the sender
    sender.join()
    data = np.concatenate(got)[:, 0]
    expected = np.concatenate([tone[i * 160 : (i + 1) * 160] for i in range(100) if i != 50])
    np.testing.assert_array_equal(data, expected[-len(data) :])
    assert len(data) >= 95 * 160
    assert src.counters()["corrupt"] >= 1 and src.counters()["dropped"] == 1
    src.close()
    board.close()


def test_cli_virtual_board_and_capture_from_it(tmp_path):
    proj = tmp_path / "p"
    Project.create(proj).close()
    board = subprocess.Popen([sys.executable, "-m", "studio", "virtual-board", "--gesture", "circle", "--rate",
                              "200", "--seconds", "20"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        port = board.stdout.readline().strip()
        assert port.startswith("/dev/pts/")
        listed = subprocess.run([sys.executable, "-m", "studio", "devices", "--json"], cwd=ROOT, capture_output=True,
                                text=True, check=True)
        assert port in listed.stdout
        out = subprocess.run([sys.executable, "-m", "studio", "capture", str(proj), "--device", port, "--label",
                              "circle", "--seconds", "1.5"], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert "300 frames at 200 Hz" in out.stdout
    finally:
        board.terminate()
        board.wait(10)
    with Project.open(proj) as p:
        (s,) = p.samples()
        assert s.label == "circle" and s.frequency_hz == 200 and [x.name for x in s.sensors] == ["accX", "accY", "accZ"]


class PacedBoard:
    """A pty board sending ``first`` once, then ``line(i)`` at ``rate`` lines/s until ``stop_after`` lines
    (then, with ``cut``, half a line) while the port stays open."""

    def __init__(self, line, rate=100, first=b"", stop_after=None, cut=b""):
        self.pty = PtyWriter()
        self.path = self.pty.path
        self._stop = threading.Event()

        def produce():
            self.pty.write(first)
            start, i = time.monotonic(), 0
            while not self._stop.is_set() and (stop_after is None or i < stop_after):
                due = min(int((time.monotonic() - start) * rate), stop_after or 1 << 60) - i
                if due > 0:
                    self.pty.write(b"".join(line(i + k) for k in range(due)))
                    i += due
                time.sleep(0.01)
            self.pty.write(cut)

        self.thread = threading.Thread(target=produce, daemon=True)
        self.thread.start()

    def close(self):
        self._stop.set()
        self.thread.join()
        self.pty.close()


def three_axes(i):
    return f"{i},{-i},{i % 7}\r\n".encode()


@pytest.mark.parametrize("first", [b"# LSM9DS1 ready\r\n", b"0.5,0.25\r\n", b"# booting\r\n# accX,accY,accZ\r\n"])
def test_a_comment_or_an_odd_first_line_does_not_fix_the_axis_count(tmp_path, first):
    proj = tmp_path / "p"
    Project.create(proj).close()
    board = PacedBoard(three_axes, first=first)
    try:
        det = detect(board.path, bauds=(115200,), seconds=1.2)
        assert det.axes == 3
        result = capture.run(capture.CaptureParams(proj, capture.DeviceSpec(board.path, 115200, 100.0), "x", 1.0),
                             Progress())
    finally:
        board.close()
    assert not result.truncated and result.frames == 100
    with Project.open(proj) as p:
        assert len(p.samples()[0].sensors) == 3


def test_a_capture_that_gets_no_valid_frame_ends_with_one_line_naming_the_device(tmp_path):
    proj = tmp_path / "p"
    Project.create(proj).close()
    board = PacedBoard(lambda i: f"{i},{i}\r\n".encode())  # two values, where the user says three
    try:
        start = time.monotonic()
        out = run_cli("capture", proj, "--device", board.path, "--label", "x", "--seconds", "2", "--baud", "115200",
                      "--frequency", "100", "--axes", "a,b,c")
        took = time.monotonic() - start
    finally:
        board.close()
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 1 and len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    assert board.path in lines[0] and "no valid reading for 3 s" in lines[0] and "another number of values" in lines[0]
    assert took < 15
    with Project.open(proj) as p:
        assert p.samples() == []


def test_a_stream_that_stops_mid_line_ends_the_capture_keeping_what_came(tmp_path):
    proj = tmp_path / "p"
    Project.create(proj).close()
    board = PacedBoard(three_axes, stop_after=120, cut=b"5,-5,")
    try:
        start = time.monotonic()
        result = capture.run(capture.CaptureParams(proj, capture.DeviceSpec(board.path, 115200, 100.0), "x", 10.0,
                                                   no_data_timeout_s=2.0), Progress())
        took = time.monotonic() - start
    finally:
        board.close()
    assert result.truncated and "no valid reading for 2 s" in result.message and took < 8
    assert 80 <= result.frames <= 120
    with Project.open(proj) as p:
        assert p.samples()[0].name.endswith("(truncated)")


def test_a_silent_port_is_named_with_the_baud_rates_tried_within_the_connect_timeout(tmp_path):
    proj = tmp_path / "p"
    Project.create(proj).close()
    board = PtyWriter()
    try:
        start = time.monotonic()
        out = run_cli("capture", proj, "--device", board.path, "--label", "x", "--seconds", "1")
        took = time.monotonic() - start
    finally:
        board.close()
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 1 and len(lines) == 1 and "Traceback" not in out.stderr
    assert board.path in lines[0] and "nothing came back at 115200, 9600 baud" in lines[0]
    assert took < 10
