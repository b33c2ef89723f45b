"""Exported firmware projects (docs/firmware-export.md): every catalogue board's platformio.ini validated; the
native and generic Cortex-M environments of the default motion and keyword exports built with ``pio run``
offline; the native program against the int8 reference on every testing window; the Cortex-M4 ELF under
QEMU; awkward labels through C and back; the emulated board, the capture encoders, the library zip, the
nano33ble firmware on a host stand-in of the Arduino API; the result-line parser; refusals and failures."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from conftest import have
from support.stand_in import host_firmware

from studio.boards import get_board, load_boards
from studio.deploy.export.context import ini_text, md_text
from studio.deploy.export.impulse_files import project_window
from studio.deploy.export.project import MARKER, ExportError, export_project
from studio.deploy.pio import kit as pio_kit
from studio.deploy.pio.config import validate_project
from studio.deploy.pio.runner import PioBuildError, PioNotFound, find_pio, pio_run
from studio.deploy.running.result_line import (
    ErrorLine,
    ImpulseLine,
    ResultLine,
    ResultLineError,
    escape_text,
    format_banner,
    format_result_line,
    parse_line,
    unescape_text,
)

try:
    PIO = find_pio()
except PioNotFound as e:
    pytest.skip(f"PlatformIO is not installed: {e}", allow_module_level=True)

NO_ARM = None if have("arm-none-eabi-gcc") else "arm-none-eabi-gcc is not installed (gcc-arm-none-eabi)"
NO_QEMU = None if have("qemu-system-arm") else "qemu-system-arm is not installed"
needs_arm = pytest.mark.skipif(NO_ARM is not None, reason=NO_ARM or "")
needs_qemu = pytest.mark.skipif(NO_ARM is not None or NO_QEMU is not None, reason=NO_ARM or NO_QEMU or "")
needs_gxx = pytest.mark.skipif(not have("g++"), reason="g++ is not installed")
WEIRD = ['say "hi" \\ back\\slash', "two\nlines\tand=equals", "naïve café 日本 %41", "??=/* */ 'q' #x"]
SECONDS: dict[str, float] = {}  # build times, printed with -s


@pytest.fixture(scope="session")
def pio_core(tmp_path_factory):
    core = tmp_path_factory.mktemp("export-pio-core")
    pio_kit.install_kit(core, pio=PIO)
    return core


def build(project: Path, env: str, core: Path):
    start = time.monotonic()
    result = pio_run(project, env, core, pio=PIO)
    SECONDS[f"{project.name}:{env}"] = time.monotonic() - start
    return result


def results(stdout: str) -> list[ResultLine]:
    parsed = [parse_line(line) for line in stdout.splitlines()]
    return [p for p in parsed if isinstance(p, ResultLine)]


# ------------------------------------------------------------------------------------------ data and Python


def block_of(run):
    from studio.dsp.registry import get_block

    f, dsp = run.config["framing"], run.config["dsp"]
    return get_block(dsp["block"]).configure(dsp.get("params") or {}, f["frequency_hz"], f["window_frames"],
                                             f["axes"])


def recorded_windows(run, limit: int | None = None) -> list[np.ndarray]:
    """Each testing sample's raw windows, cut as the test job cuts them."""
    from studio.dsp.windowing import Framing, ImpulseConfig, windows_of
    from studio.project import Project

    f = run.config["framing"]
    framing = Framing(f["frequency_hz"], f["window_frames"], f["stride_frames"], f["kind"])
    pad = ImpulseConfig.from_dict(run.config["impulse"]).pad_short
    with Project.open(run.path.parent.parent) as project:
        samples = project.samples(category="testing")[:limit]
        return [windows_of(project.read(s), s.frequency_hz, framing, pad) for s in samples]


def reference(run):
    from studio.learn.reference import Reference

    ref = Reference(run.model_bytes("int8"))
    return ref, float(ref.output["quantization"][0])


def python_scores(run, windows: np.ndarray) -> tuple[np.ndarray, float]:
    """The int8 reference's scores on the Python block's features, and one output step."""
    block = block_of(run)
    ref, step = reference(run)
    return ref.probabilities(np.stack([block.run(w) for w in windows])), step


def compare(got: list[ResultLine], expected: np.ndarray, step: float, classes: list[str]) -> float:
    """Same argmax on every window, every score within one output step (printed with five decimals)."""
    scores = np.array([r.scores for r in got])
    assert scores.shape == expected.shape
    assert all(r.labels == tuple(classes) for r in got)
    differ = np.flatnonzero(scores.argmax(1) != expected.argmax(1))
    assert differ.size == 0, f"argmax differs on windows {differ[:20].tolist()} of {len(scores)}"
    worst = float(np.abs(scores - expected).max())
    assert worst <= step + 1e-5, f"worst score difference {worst:.6g}, one output step is {step:.6g}"
    return worst


# ------------------------------------------------------------------------------------------ exports


@pytest.fixture(scope="module")
def exports(request, tmp_path_factory):
    """nano33ble firmware exports of the motion and keyword runs, made on first use."""
    made: dict[str, tuple] = {}

    def get(which: str):
        if which not in made:
            run = request.getfixturevalue(f"{which}_run").run
            out = tmp_path_factory.mktemp(f"export-{which}") / f"{which}-nano33ble"
            made[which] = (run, export_project(run, "nano33ble", out))
        return made[which]

    return get


def test_motion_export_for_nano33ble(exports):
    run, result = exports("gesture")
    root = result.path
    assert result.envs == ["nano33ble", "native", "cortex-m4-generic"]
    for name in ("platformio.ini", "README.md", "src/main.cpp", "src/sensor.h", "src/native/main.c",
                 "src/generic/main.c", "lib/impulse/model.c", "lib/impulse/impulse.c", "lib/impulse/impulse_run.c",
                 "lib/impulse/impulse_output.c", "lib/impulse/impulse_stream.h", MARKER):
        assert (root / name).is_file() and name in result.files, name
    ini = (root / "platformio.ini").read_text()
    assert "platform = nordicnrf52\nboard = nano33ble\nframework = arduino\n" in ini
    assert "arduino-libraries/Arduino_LSM9DS1@" in ini
    assert "#include <Arduino_LSM9DS1.h>" in (root / "src/sensor.h").read_text()
    assert any("nordicnrf52" in note for note in result.notes)
    assert not list(root.parent.glob(".tmp-*"))  # the staging folder was renamed into place


@pytest.mark.parametrize("board_id", ["nano33ble", "seeed_xiao_esp32s3"])
def test_keyword_export_uses_the_microphone(exports, board_id, tmp_path):
    run, _ = exports("keyword")
    result = export_project(run, board_id, tmp_path / board_id)
    sensor = (result.path / "src/sensor.h").read_text()
    assert "#define SENSOR_MICROPHONE 1" in sensor and "#define SENSOR_RATE_HZ 16000" in sensor
    assert ("#include <PDM.h>" if board_id == "nano33ble" else "#include <I2S.h>") in sensor
    assert result.envs[0] == board_id and ("cortex-m4-generic" in result.envs) == (board_id == "nano33ble")
    if board_id == "nano33ble":
        assert "static const int16_t test_window" in (result.path / "src/generic/main.c").read_text()


def test_every_catalogue_board_exports_a_valid_project(gesture_run, pio_core, tmp_path):
    """Firmware for every board, capture for every board with a sensor driver; ``pio project config`` accepts
    each platformio.ini, and only the boards' own platforms are missing (they come from the registry)."""
    run = gesture_run.run
    window = project_window(run)[0]
    jobs = []
    for board in load_boards():
        result = export_project(run, board, tmp_path / f"{board.id}-fw", test_window=window)
        expected = [board.id] if board.platformio["platform"] != "native" else []
        expected += ["native"] + ([f"{pio_kit.board_for_core(board.core)[8:].replace('_', '-')}-generic"]
                                  if board.core.startswith("cortex-m") else [])
        assert result.envs == expected, board.id
        jobs.append((board, result))
        try:
            jobs.append((board, export_project(None, board, tmp_path / f"{board.id}-capture", "capture")))
        except ExportError as e:
            assert not board.has_imu and not board.has_microphone, str(e)
            assert str(e).startswith(f"board {board.id}: no IMU or microphone") and "\n" not in str(e)

    def check(job):
        board, result = job
        config = validate_project(result.path, pio_core, pio=PIO)
        return board, result, config

    with ThreadPoolExecutor(4) as pool:
        checked = list(pool.map(check, jobs))
    for board, result, config in checked:
        assert config.envs == result.envs
        for env in config.envs:
            assert config.option(env, "platform"), (board.id, env)
        missing = [w for w in config.warnings if "is not installed" in w]
        offline = board.platformio["platform"] in ("native", "tinyml-cortexm")
        assert missing == ([] if offline else [f"[env:{board.id}]: platform {board.platformio['platform']} is not "
                                               "installed; pio would fetch it from the registry"]), board.id
        assert not [w for w in config.warnings if "is not installed" not in w], (board.id, config.warnings)
    assert len(checked) >= len(load_boards()) + 4


# ------------------------------------------------------------------------------------------ native builds


@pytest.mark.parametrize("which", ["gesture", "keyword"])
def test_native_program_matches_python_on_every_testing_window(exports, which, pio_core):
    run, result = exports(which)
    built = build(result.path, "native", pio_core)
    assert "Installing" not in built.log
    program = result.path / ".pio/build/native/program"
    windows = np.concatenate(recorded_windows(run)).astype(np.float32)
    path = result.path / "windows.bin"
    windows.tofile(path)
    ran = subprocess.run([str(program), "--windows", str(path)], capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr
    banner = parse_line(ran.stdout.splitlines()[0])
    assert isinstance(banner, ImpulseLine) and banner.board == "nano33ble"
    assert banner.fields["window"] == str(run.config["framing"]["window_frames"])
    got = results(ran.stdout)
    expected, step = python_scores(run, windows)
    worst = compare(got, expected, step, run.config["classes"])
    stride_ms = run.config["framing"]["stride_frames"] * 1000 / run.config["framing"]["frequency_hz"]
    assert [r.t_ms for r in got[:3]] == [0, round(stride_ms), round(2 * stride_ms)]
    print(f"{which}: native program on {len(windows)} testing windows, worst score difference {worst:.6g} "
          f"({worst / step:.3g} output steps), built in {SECONDS[f'{result.path.name}:native']:.2f} s")


def test_native_text_stream_slides_like_the_test_job(exports, pio_core):
    """Frames of one testing sample as data-forwarder text give the windows windows_of cuts from it."""
    run, result = exports("gesture")
    program = result.path / ".pio/build/native/program"
    if not program.exists():
        build(result.path, "native", pio_core)
    windows = recorded_windows(run, limit=1)[0]
    stride = run.config["framing"]["stride_frames"]
    frames = np.concatenate([windows[0], *(w[-stride:] for w in windows[1:])])
    text = "# accX,accY,accZ\n" + "".join(",".join(f"{v:.9g}" for v in f) + "\n" for f in frames)
    text += "not a reading\n1,2\n"
    ran = subprocess.run([str(program), "-"], input=text, capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0 and "2 line(s) skipped" in ran.stderr, ran.stderr
    got = results(ran.stdout)
    expected, step = python_scores(run, windows)
    compare(got, expected, step, run.config["classes"])
    window_ms = run.config["framing"]["window_frames"] * 1000 / run.config["framing"]["frequency_hz"]
    assert got[0].t_ms == round(window_ms)
    bad = subprocess.run([str(program), str(result.path / "missing.csv")], capture_output=True, text=True)
    assert bad.returncode == 2 and "missing.csv: cannot open" in bad.stderr


# ------------------------------------------------------------------------------------------ Cortex-M


@needs_arm
@pytest.mark.parametrize("which", ["gesture", "keyword"])
def test_generic_cortex_m4_build_runs_under_qemu(exports, which, pio_core):
    run, result = exports(which)
    built = build(result.path, "cortex-m4-generic", pio_core)
    assert built.flash is not None and built.ram is not None and built.flash.used > 10_000
    elf = result.path / ".pio/build/cortex-m4-generic/firmware.elf"
    print(f"{which}: cortex-m4-generic built in {SECONDS[f'{result.path.name}:cortex-m4-generic']:.2f} s, "
          f"flash {built.flash.used} B, RAM {built.ram.used} B")
    if NO_QEMU:
        pytest.skip(NO_QEMU)
    from studio.cortexm import run as qemu_run

    ran = qemu_run(elf, "cortex-m4", timeout=60)
    assert ran.exit_code == 0 and ran.fault is None, ran.stderr
    assert isinstance(parse_line(ran.stdout.splitlines()[0]), ImpulseLine)
    got = results(ran.stdout)
    window, _ = project_window(run)
    expected, step = python_scores(run, window[None])
    worst = compare(got, expected, step, run.config["classes"])
    print(f"{which}: QEMU result {got[0].top} (score difference {worst:.6g}), dsp {got[0].dsp_us} us, "
          f"nn {got[0].nn_us} us of QEMU time")


@needs_arm
def test_broken_toolchain_is_one_readable_line(exports, tmp_path):
    _, result = exports("gesture")
    core = tmp_path / "core"
    pio_kit.install_kit(core, pio=PIO)
    bin_dir = core / "packages" / pio_kit.TOOLCHAIN / "bin"
    for link in bin_dir.iterdir():
        link.unlink()
        link.symlink_to(tmp_path / "nowhere" / link.name)
    project = tmp_path / "project"
    shutil.copytree(result.path, project, ignore=shutil.ignore_patterns(".pio"))
    with pytest.raises(PioBuildError) as caught:
        pio_run(project, "cortex-m4-generic", core, pio=PIO)
    message = str(caught.value)
    assert message.startswith(f"toolchain not found: {bin_dir / 'arm-none-eabi-'}") and "\n" not in message


# ------------------------------------------------------------------------------------------ labels


def test_awkward_labels_and_names_compile_and_come_back_exactly(gesture_run, pio_core, tmp_path):
    run = gesture_run.run
    weird = dataclasses.replace(run, config={**run.config, "classes": WEIRD})
    name = 'Proj "x" ;#${a} % \\ é\nline2'
    result = export_project(weird, "nano33ble", tmp_path / "weird", project_name=name)
    config = validate_project(result.path, pio_core, pio=PIO)
    assert config.sections["platformio"]["description"] == ini_text(f"TinyML Studio impulse of {name} for "
                                                                     "Arduino Nano 33 BLE Sense (Rev1)")
    readme = (result.path / "README.md").read_text()
    assert all(md_text(label) in readme for label in WEIRD) and "two\nlines" not in readme
    build(result.path, "native", pio_core)
    windows = recorded_windows(run, limit=1)[0][:3]
    (result.path / "w.bin").write_bytes(windows.astype(np.float32).tobytes())
    ran = subprocess.run([str(result.path / ".pio/build/native/program"), "--windows", str(result.path / "w.bin")],
                         capture_output=True, timeout=60)
    assert ran.returncode == 0
    lines = ran.stdout.decode("ascii").splitlines()  # printable ASCII only
    assert all(32 <= ord(c) < 127 for line in lines for c in line)
    banner = parse_line(lines[0])
    assert isinstance(banner, ImpulseLine) and banner.project == name
    got = results(ran.stdout.decode())
    assert len(got) == 3 and all(r.labels == tuple(WEIRD) for r in got)
    expected, step = python_scores(run, windows)
    compare(got, expected, step, WEIRD)


# ------------------------------------------------------------------------------------------ emulated board


@needs_qemu
def test_emulated_board_classifies_a_streamed_sample(gesture_run, pio_core, tmp_path):
    from studio.cortexm import SerialBoard
    from studio.devices.forwarder import format_line
    from studio.devices.serial_source import open_port, read_chunk

    run = gesture_run.run
    result = export_project(run, "virtual-cortex-m4", tmp_path / "virtual")
    assert result.envs == ["virtual-cortex-m4", "native", "cortex-m4-generic"] and result.notes == []
    build(result.path, "virtual-cortex-m4", pio_core)
    windows = recorded_windows(run, limit=1)[0][:12]
    stride = run.config["framing"]["stride_frames"]
    frames = np.concatenate([windows[0], *(w[-stride:] for w in windows[1:])])
    data = b"# accX,accY,accZ\r\n" + b"".join(format_line(f, decimals=6) for f in frames)
    sent = np.array([[float(v) for v in line.split(b",")] for line in data.splitlines()[1:]], np.float32)
    stream_windows = np.stack([sent[i:i + len(windows[0])] for i in range(0, len(sent) - len(windows[0]) + 1,
                                                                          stride)])
    with SerialBoard(result.path / ".pio/build/virtual-cortex-m4/firmware.elf", "cortex-m4") as board:
        ser = open_port(board.port, 115200)
        writer = threading.Thread(target=ser.write, args=(data,), daemon=True)
        writer.start()
        got, deadline = b"", time.monotonic() + 30
        # complete lines only: the last one may still be arriving
        while (sum(line.startswith(b"#result") for line in got.split(b"\n")[:-1]) < len(windows)
               and time.monotonic() < deadline):
            got += read_chunk(ser, board.port)
        writer.join(5)
        ser.close()
    text = got[:got.rfind(b"\n") + 1].decode()
    assert any(isinstance(parse_line(line), ImpulseLine) for line in text.splitlines())
    expected, step = python_scores(run, stream_windows)
    compare(results(text)[:len(windows)], expected, step, run.config["classes"])


def test_the_firmware_says_where_its_frames_come_from(gesture_run, tmp_path):
    """The app streams frames to the emulated board only: serial-input firmware for a real board is fed by a
    program of the user's, and the emulated board by the Deploy page or, under pio's exec target, the terminal."""
    run = gesture_run.run
    nucleo = export_project(run, "nucleo_l476rg", tmp_path / "nucleo")
    sensor = (nucleo.path / "src/sensor.h").read_text()
    assert ("by a program on the computer at the other end of the port (TinyML Studio streams\n * frames only to "
            "its emulated board, not to a real one)") in sensor
    virtual = export_project(run, "virtual-cortex-m4", tmp_path / "virtual")
    main = (virtual.path / "src/virtual/main.c").read_text()
    assert ("TinyML Studio's Deploy page streams them (a recorded sample, or a gesture of its\n * virtual sensor) "
            'over a pseudo-terminal; under "pio run -e virtual-cortex-m4 -t exec" UART0 is the terminal.') in main
    for text in (sensor, main):
        assert "any program" not in text and "virtual sensor stream" not in text


@needs_qemu
def test_the_emulated_board_reads_the_terminal_under_pio_exec(gesture_run, pio_core, tmp_path):
    """What src/virtual/main.c says: ``pio run -e virtual-cortex-m4 -t exec`` puts UART0 on the terminal, so frames
    written to its standard input are classified and the result lines come out on its standard output."""
    import os
    import signal

    from studio.deploy.pio.runner import pio_environment

    run = gesture_run.run
    result = export_project(run, "virtual-cortex-m4", tmp_path / "virtual")
    build(result.path, "virtual-cortex-m4", pio_core)
    window = recorded_windows(run, limit=1)[0][0]
    frames = "".join(",".join(f"{v:.6f}" for v in frame) + "\n" for frame in window)
    proc = subprocess.Popen([PIO, "run", "-e", "virtual-cortex-m4", "-t", "exec"], cwd=result.path, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=pio_environment(pio_core), start_new_session=True)
    lines: list[str] = []
    try:
        proc.stdin.write(frames)  # the pipe keeps them until QEMU reads the terminal
        proc.stdin.flush()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(line.startswith("#result") for line in lines):
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.strip())
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # QEMU runs the firmware until killed
        proc.wait(10)
    got = results("\n".join(lines))
    expected, step = python_scores(run, window[None])
    compare(got, expected, step, run.config["classes"])


# ------------------------------------------------------------------------------------------ capture


def test_capture_imu_encoder_round_trips(gesture_run, pio_core, tmp_path):
    from studio.devices.forwarder import LineParser

    result = export_project(gesture_run.run, "nano33ble", tmp_path / "capture", "capture")
    assert result.envs == ["nano33ble", "native"]
    assert "Arduino_LSM9DS1" in (result.path / "platformio.ini").read_text()
    build(result.path, "native", pio_core)
    values = np.random.default_rng(3).normal(0, 8, (500, 3))
    values[0] = [-0.00004, 1e-9, 1999.99996]  # rounding at the edges
    text = "".join(",".join(f"{v:.9g}" for v in row) + "\n" for row in values)
    ran = subprocess.run([str(result.path / ".pio/build/native/program")], input=text.encode(), capture_output=True,
                         timeout=30)
    assert ran.returncode == 0 and ran.stdout.startswith(b"# accX,accY,accZ\r\n")
    parser = LineParser()
    got = parser.feed(ran.stdout)
    assert parser.names == ["accX", "accY", "accZ"] and parser.stats.garbage == 0
    np.testing.assert_allclose(got, np.round(values.astype(np.float32), 4), atol=1.01e-4, rtol=0)


def test_capture_microphone_frames_decode(keyword_run, pio_core, tmp_path):
    from studio.devices.framed import FrameDecoder

    result = export_project(keyword_run.run, "nano33ble", tmp_path / "capture", "capture")
    assert "#include <PDM.h>" in (result.path / "src/sensor.h").read_text()
    build(result.path, "native", pio_core)
    samples = np.random.default_rng(4).integers(-32768, 32768, 5000).astype("<i2")
    ran = subprocess.run([str(result.path / ".pio/build/native/program")], input=samples.tobytes(),
                         capture_output=True, timeout=30)
    assert ran.returncode == 0
    decoder = FrameDecoder()
    got = decoder.feed(ran.stdout)
    assert decoder.stats.corrupt == 0 and decoder.stats.dropped == 0 and decoder.stats.frames == 20
    np.testing.assert_array_equal(got[:, 0], samples)


def test_capture_refuses_a_board_without_a_sensor(tmp_path):
    with pytest.raises(ExportError, match=r"^board esp32dev: no IMU or microphone with a capture driver"):
        export_project(None, "esp32dev", tmp_path / "c", "capture")
    assert not (tmp_path / "c").exists()


# ------------------------------------------------------------------------------------------ the library


def test_library_zip_builds_with_make_and_runs(exports, tmp_path):
    if not have("make"):
        pytest.skip("make is not installed")
    run, _ = exports("gesture")
    result = export_project(run, "nano33ble", tmp_path / "gestures-lib", "library", project_name="gestures")
    assert result.path == tmp_path / "gestures-lib.zip" and result.path.is_file()
    with zipfile.ZipFile(result.path) as z:
        names = z.namelist()
        z.extractall(tmp_path / "x")
    assert names == result.files and "gestures-impulse/example/main.c" in names
    assert not any(n.endswith((".cpp", "platformio.ini")) for n in names)
    top = tmp_path / "x" / "gestures-impulse"
    made = subprocess.run(["make"], cwd=top, capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    windows = recorded_windows(run, limit=1)[0][:4].astype(np.float32)
    windows.tofile(top / "w.bin")
    ran = subprocess.run([str(top / "impulse-example"), "--windows", "w.bin"], cwd=top, capture_output=True,
                         text=True, timeout=30)
    expected, step = python_scores(run, windows)
    compare(results(ran.stdout), expected, step, run.config["classes"])
    with pytest.raises(ExportError, match="already exists"):
        export_project(run, "nano33ble", result.path, "library")


# ------------------------------------------------------------------------------------------ the board's main


@needs_gxx
def test_nano33ble_imu_firmware_on_a_host_stand_in(exports, tmp_path):
    run, result = exports("gesture")
    program = host_firmware(result.path, tmp_path)
    windows = recorded_windows(run, limit=1)[0][:8]
    stride = run.config["framing"]["stride_frames"]
    frames = np.concatenate([windows[0], *(w[-stride:] for w in windows[1:])])
    g = (frames / np.float32(9.80665)).astype(np.float32)  # the stand-in IMU reports g
    text = "".join(",".join(f"{v:.9g}" for v in f) + "\n" for f in g)
    ran = subprocess.run([str(program)], input=text, capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0
    assert isinstance(parse_line(ran.stdout.splitlines()[0]), ImpulseLine)
    seen = (g * np.float32(9.80665)).astype(np.float32)  # what sensor_read() computes
    seen_windows = np.stack([seen[i:i + len(windows[0])] for i in range(0, len(seen) - len(windows[0]) + 1, stride)])
    expected, step = python_scores(run, seen_windows)
    compare(results(ran.stdout), expected, step, run.config["classes"])


@needs_gxx
def test_nano33ble_microphone_firmware_on_a_host_stand_in(exports, tmp_path):
    run, result = exports("keyword")
    program = host_firmware(result.path, tmp_path)
    windows = np.concatenate(recorded_windows(run, limit=3))[:4]
    samples = np.round(windows[..., 0] * 32768).astype("<i2")
    ran = subprocess.run([str(program)], input=samples.tobytes(), capture_output=True, timeout=60)
    assert ran.returncode == 0
    text = ran.stdout.decode()
    assert not [p for p in map(parse_line, text.splitlines()) if isinstance(p, ErrorLine)]
    expected, step = python_scores(run, windows)  # window == stride: back-to-back windows
    compare(results(text), expected, step, run.config["classes"])


@needs_gxx
def test_nano33ble_capture_firmware_on_a_host_stand_in(gesture_run, keyword_run, tmp_path):
    from studio.devices.forwarder import LineParser
    from studio.devices.framed import FrameDecoder

    imu = export_project(gesture_run.run, "nano33ble", tmp_path / "imu", "capture")
    g = np.random.default_rng(5).normal(0, 1, (300, 3)).astype(np.float32)
    text = "".join(",".join(f"{v:.9g}" for v in row) + "\n" for row in g)
    ran = subprocess.run([str(host_firmware(imu.path, tmp_path / "imu-build"))], input=text.encode(),
                         capture_output=True, timeout=60)
    parser = LineParser()
    got = parser.feed(ran.stdout)
    assert ran.returncode == 0 and parser.names == ["accX", "accY", "accZ"] and parser.stats.garbage == 0
    np.testing.assert_allclose(got, (g * np.float32(9.80665)).astype(np.float32), atol=0.51e-4, rtol=0)

    mic = export_project(keyword_run.run, "nano33ble", tmp_path / "mic", "capture")
    samples = np.random.default_rng(6).integers(-32768, 32768, 2560).astype("<i2")
    ran = subprocess.run([str(host_firmware(mic.path, tmp_path / "mic-build"))], input=samples.tobytes(),
                         capture_output=True, timeout=60)
    decoder = FrameDecoder()
    got = decoder.feed(ran.stdout)
    assert ran.returncode == 0 and decoder.stats.corrupt == decoder.stats.dropped == 0
    np.testing.assert_array_equal(got[:, 0], samples)


# ------------------------------------------------------------------------------------------ placing the files


def test_destination_rules(gesture_run, tmp_path):
    run = gesture_run.run
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(ExportError) as caught:
        export_project(run, "host-native", foreign)
    assert str(caught.value) == (f"{foreign}: folder is not empty and holds no earlier export (export with "
                                 "overwrite to replace it)")
    assert (foreign / "notes.txt").read_text() == "keep me"
    export_project(run, "host-native", foreign, overwrite=True)
    assert not (foreign / "notes.txt").exists() and (foreign / MARKER).is_file()
    (foreign / "stale.c").write_text("")
    again = export_project(run, "nano33ble", foreign)  # an earlier export is replaced whole
    assert not (foreign / "stale.c").exists() and again.envs[0] == "nano33ble"
    broken = dataclasses.replace(run, config={k: v for k, v in run.config.items() if k != "framing"})
    with pytest.raises(ExportError, match="lacks its framing"):
        export_project(broken, "nano33ble", foreign)
    assert (foreign / "src/main.cpp").is_file()  # the old export is untouched
    with pytest.raises(ExportError, match="unknown board 'nope'"):
        export_project(run, "nope", tmp_path / "x")
    with pytest.raises(ExportError, match="unknown export target"):
        export_project(run, "nano33ble", tmp_path / "x", "binary")
    (tmp_path / "file").write_text("")
    with pytest.raises(ExportError, match="exists and is not a folder"):
        export_project(run, "nano33ble", tmp_path / "file")
    assert not list(tmp_path.glob(".tmp-*"))
    assert get_board("nano33ble").has_imu


# ------------------------------------------------------------------------------------------ the line format


def test_result_lines_round_trip():
    labels = [*WEIRD, "", "t", "anomaly", "%", "ümlaut\u2028\x00="]
    scores = [0.5, -0.25, 0.99609, 1e-9, 0.0, 12.345678, float("nan"), float("inf"), -5e9]
    line = format_result_line(1234, 56, 78, 0.12345, list(zip(labels, scores, strict=True)))
    assert line.isascii() and "\n" not in line and all(ord(c) >= 32 for c in line)
    parsed = parse_line(line + "\r\n")
    assert isinstance(parsed, ResultLine)
    assert parsed.labels == tuple(labels) and (parsed.t_ms, parsed.dsp_us, parsed.nn_us) == (1234, 56, 78)
    assert parsed.anomaly == 0.12345 and parsed.scores[:6] == (0.5, -0.25, 0.99609, 0.0, 0.0, 12.34568)
    assert np.isnan(parsed.scores[6]) and parsed.scores[7:] == (float("inf"), float("-inf"))
    assert parsed.top == labels[7]  # inf; NaN never wins
    assert escape_text('say "hi"') == 'say%20"hi"' and escape_text("a=b") == "a%3Db"
    assert escape_text("café") == "caf%C3%A9" and unescape_text("caf%C3%A9") == "café"
    banner = parse_line(format_banner({"project": "a b=c", "hz": 16000.0, "classes": 3}))
    assert isinstance(banner, ImpulseLine) and banner.project == "a b=c" and banner.fields["hz"] == "16000"
    assert parse_line("#error stage=dsp code=-1002") == ErrorLine("dsp", -1002)
    assert parse_line("hello") is None and parse_line("# accX,accY,accZ") is None
    assert parse_line(b"#result t=1 dsp_us=2 nn_us=3 anomaly=- a=0.5").as_dict() == {"a": 0.5}


@pytest.mark.parametrize("line", [
    "#result t=1 dsp_us=2 nn_us=3 anomaly=-", "#result t=x dsp_us=2 nn_us=3 anomaly=- a=1",
    "#result t=1 dsp_us=2 nn_us=3 anomaly=- a=1e5", "#result t=1 dsp_us=2 nn_us=3 anomaly=- a%2=1",
    "#result t=1 dsp_us=2 nn_us=3 anomaly=- %FF=1", "#result t=1 nn_us=3 dsp_us=2 anomaly=- a=1",
    "#result t=1 dsp_us=2 nn_us=3 anomaly=- a", "#error stage=dsp", "#impulse project=x",
])
def test_malformed_lines_are_one_line_errors(line):
    with pytest.raises(ResultLineError) as caught:
        parse_line(line)
    assert "\n" not in str(caught.value)
