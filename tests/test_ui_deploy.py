"""The Deploy page end to end: export the gesture run for the emulated board, build it with PlatformIO (offline
kit, in a core of the test's own), "flash" it with a known stream of sensor data, and the live bars and timeline
equal Python's int8 predictions on the same windows; a broken toolchain and a flash without a port are one
readable line each."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from conftest import have
from support.expected import python_scores

from studio.cortexm import available
from studio.cortexm.serial_board import _live
from studio.deploy.pio import kit as pio_kit
from studio.deploy.pio.runner import PioNotFound, find_pio, pio_environment
from studio.deploy.running import emulated
from studio.project import Project
from studio.ui.pages.deploy import DeployPage
from studio.ui.pages.deploy.flash_panel import NO_PORT
from studio.ui.worker import JobRunner

BOARD = "virtual-cortex-m4"
BUILD_MS = 300_000


def tools_missing() -> str | None:
    try:
        find_pio()
    except PioNotFound as e:
        return str(e)
    return available() or (None if have("qemu-system-arm") else "qemu-system-arm is not installed")


needs_tools = pytest.mark.skipif(tools_missing() is not None, reason=str(tools_missing()))
needs_pio = pytest.mark.skipif(tools_missing() is not None and "PlatformIO" in str(tools_missing()),
                               reason=str(tools_missing()))


@pytest.fixture
def page(qtbot, gesture_project, gesture_run, tmp_path, monkeypatch):
    """The Deploy page on the trained gesture project, its run chosen, PlatformIO's core in tmp_path."""
    monkeypatch.setenv("TINYML_STUDIO_PIO_CORE", str(tmp_path / "pio-core"))
    project = Project.open(gesture_project)
    runner = JobRunner()
    page = DeployPage(runner)
    qtbot.addWidget(page)
    page.resize(1400, 1000)
    page.show()
    page.set_project(project)
    combo = page.estimates.run_combo
    combo.setCurrentIndex(combo.findData(gesture_run.run.number))
    yield page
    page.deploy.cancel()
    page.deploy.panel.stop_monitor()
    runner.wait(20_000)
    project.close()


def wait_idle(qtbot, page: DeployPage, timeout: int = BUILD_MS) -> None:
    qtbot.waitUntil(lambda: page.deploy.job is None, timeout=timeout)


def export_to(qtbot, page: DeployPage, folder: Path) -> None:
    view = page.deploy
    view.folder.clear()
    qtbot.keyClicks(view.folder, str(folder))  # typed: the folder is the user's
    view.export_button.click()
    wait_idle(qtbot, page, 120_000)
    assert view.message.text().startswith(f"Exported to {folder}"), view.message.text()


@needs_tools
def test_export_build_and_flash_the_emulated_board_shows_python_predictions(qtbot, page, gesture_run, tmp_path):
    view, panel = page.deploy, page.deploy.panel
    run = gesture_run.run
    assert view.board() == BOARD and view.target() == "firmware" and view.emulated_board()
    assert view.folder.text() == str(view.project.path / "deploy" / BOARD)  # the default, under the project
    assert panel.rows["Stream"].isVisible() and not panel.rows["Port"].isVisible()
    assert panel.flash_button.text() == "Run on the emulated board" and not view.build_button.isEnabled()

    # the board's estimate first: PlatformIO's sizes are shown beside it
    assert view.estimate_label.text().startswith("none for this board yet")
    assert page.estimates.add_board(BOARD)
    page.estimates.estimate_button.click()
    qtbot.waitUntil(lambda: page.estimates.job is None and not page.estimates.queue, timeout=180_000)
    estimate = page.estimates.estimates()[BOARD]

    export_to(qtbot, page, tmp_path / "fw")
    envs = [view.env_combo.itemText(i) for i in range(view.env_combo.count())]
    assert envs == [BOARD, "native", "cortex-m4-generic"] and view.env() == BOARD

    view.build_button.click()
    assert view.job is not None and view.cancel_button.isEnabled() and not view.export_button.isEnabled()
    wait_idle(qtbot, page)
    built = view.built
    assert built is not None and built.ok, view.message.text()
    assert view.message.text().startswith(f"Built {BOARD} in ")
    log = view.log.toPlainText()
    assert "Linking" in log and "RAM:" in log and "Flash:" in log  # pio's log, streamed
    assert view.sizes.text().startswith(f"PlatformIO: flash {built.flash.used:,} B of {built.flash.total:,} B")
    estimated = f"flash {estimate.flash['total']:,} B, RAM {estimate.ram['total']:,} B"
    assert view.estimate_label.text() == estimated
    assert view.sizes.text().endswith(f"RAM {built.ram.used:,} B of {built.ram.total:,} B ({built.ram.fraction:.1%}) "
                                      f"(estimated: {estimated})")
    assert (Path(os.environ["TINYML_STUDIO_PIO_CORE"]) / "packages" / "tool-scons").is_dir()

    # a known stream: the first testing sample, as fast as the emulated UART takes it
    project = view.project
    sample = project.samples(category="testing")[0]
    combo = panel.stream.combo
    assert panel.stream.choose("sample", sample.id), [combo.itemText(i) for i in range(combo.count())]
    panel.stream.realtime.setChecked(False)
    panel.flash_button.click()
    assert view.job is not None
    wait_idle(qtbot, page, 120_000)
    f = run.config["framing"]
    _, sent = emulated.encode(project.read(sample))
    windows = emulated.stream_windows(sent, f["window_frames"], f["stride_frames"])
    assert view.message.text().startswith(f"The emulated board classified {len(windows)} of {len(windows)} windows"), \
        view.message.text()
    expected, step = python_scores(run, windows)
    classes = run.config["classes"]
    live = panel.live
    live.flush()
    assert live.count == len(windows) == len(live.results) and live.labels == tuple(classes)
    assert live.title.text().startswith(f"gestures on {BOARD}: {len(classes)} classes")

    # the timeline: the top class of every window, as Python's argmax
    times, tops = live.timeline()
    assert tops == [classes[i] for i in expected.argmax(1)]
    window_s, stride_s = f["window_frames"] / f["frequency_hz"], f["stride_frames"] / f["frequency_hz"]
    np.testing.assert_allclose(times, window_s + stride_s * np.arange(len(windows)), atol=1e-3)
    x, y = live.curve.getData()
    np.testing.assert_array_equal(y, expected.argmax(1))
    np.testing.assert_allclose(x, times)
    # the scores of every window within one output step; the bars show the last in thousandths
    got = np.array([r.scores for r in live.results])
    assert np.abs(got - expected).max() <= step + 1e-5
    bars = live.bar_scores()
    assert list(bars) == classes
    np.testing.assert_allclose([bars[c] for c in classes], expected[-1], atol=step + 5e-4)
    assert live.bars[classes[0]].format() == f"{live.results[-1].scores[0]:.3f}"
    assert live.top.text().startswith(classes[int(expected[-1].argmax())])

    # the virtual sensor in real time, cancelled: QEMU stops and the results so far stay
    assert panel.stream.choose("gesture", "shake")
    panel.stream.realtime.setChecked(True)
    panel.flash_button.click()
    qtbot.waitUntil(lambda: live.count >= 2, timeout=30_000)
    view.cancel_button.click()
    wait_idle(qtbot, page, 30_000)
    assert view.message.text() == "Emulated board cancelled." and live.count >= 2
    assert not any(b.running for b in list(_live)) and panel.flash_button.isEnabled()


@needs_tools
def test_a_broken_toolchain_is_one_readable_line(qtbot, page, tmp_path, monkeypatch):
    """The kit's toolchain links point nowhere and the system's GNU Arm toolchain is gone (not on PATH), so the
    kit cannot repair them: the build fails with one line saying so, and the log is kept."""
    core = tmp_path / "broken-core"
    pio_kit.install_kit(core)
    bin_dir = core / "packages" / pio_kit.TOOLCHAIN / "bin"
    for link in bin_dir.iterdir():
        link.unlink()
        link.symlink_to(tmp_path / "nowhere" / link.name)
    path = tmp_path / "path"  # PATH without arm-none-eabi-*
    path.mkdir()
    for folder in os.environ["PATH"].split(os.pathsep):
        for tool in Path(folder).glob("*") if Path(folder).is_dir() else ():
            if not tool.name.startswith("arm-none-eabi-") and not (path / tool.name).exists():
                (path / tool.name).symlink_to(tool)
    monkeypatch.setenv("PATH", str(path))
    monkeypatch.setenv("TINYML_STUDIO_PIO_CORE", str(core))
    view = page.deploy
    export_to(qtbot, page, tmp_path / "fw")
    view.build_button.click()
    wait_idle(qtbot, page)
    message = view.message.text()
    assert message.startswith(f"toolchain not found: {bin_dir / 'arm-none-eabi-'}"), message
    assert "\n" not in message and "arm-none-eabi-gcc is not installed" in message
    assert "color: #d03b3b" in view.message.styleSheet() and view.built is None
    log = view.log.toPlainText()
    assert f"Build {BOARD} failed: toolchain not found" in log and "[FAILED]" in log  # the whole log kept
    assert view.sizes.text() == "Build to see PlatformIO's sizes." and view.build_button.isEnabled()


def test_flashing_a_real_board_without_a_port_says_so(qtbot, page):
    view, panel = page.deploy, page.deploy.panel
    view.board_combo.setCurrentIndex(view.board_combo.findData("nano33ble"))
    assert panel.rows["Port"].isVisible() and not panel.rows["Stream"].isVisible()
    assert panel.flash_button.text() == "Flash" and panel.port_combo.currentIndex() == -1 and panel.port() == ""
    assert view.folder.text() == str(view.project.path / "deploy" / "nano33ble")
    panel.flash_button.click()
    assert view.message.text() == NO_PORT and view.job is None
    panel.monitor_button.click()
    assert view.message.text() == NO_PORT and panel.monitor_job is None
    view.target_combo.setCurrentIndex(view.target_combo.findData("library"))
    assert view.folder.text().endswith("nano33ble-library.zip") and not panel.flash_button.isEnabled()


def pty() -> tuple[int, int, str]:
    """A pseudo-terminal in raw mode: (master, slave, the slave's path)."""
    import termios

    master, slave = os.openpty()
    attrs = termios.tcgetattr(slave)
    attrs[3] &= ~(termios.ECHO | termios.ICANON)
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    return master, slave, os.ttyname(slave)


def test_flashing_to_a_busy_port_closes_the_own_monitor_and_says_busy(qtbot, page, tmp_path):
    import serial

    view, panel = page.deploy, page.deploy.panel
    view.board_combo.setCurrentIndex(view.board_combo.findData("nano33ble"))
    export_to(qtbot, page, tmp_path / "nano")
    assert view.env() == "nano33ble"
    master, slave, port = pty()
    try:
        qtbot.keyClicks(panel.port_combo.lineEdit(), port)
        panel.monitor_button.click()
        qtbot.waitUntil(lambda: panel.monitor_job is not None, timeout=5_000)
        holder = serial.Serial(port, 115200, exclusive=True)  # another program has the port
        try:
            panel.flash_button.click()
            wait_idle(qtbot, page, 30_000)
        finally:
            holder.close()
        assert view.message.text() == f"{port}: busy: another program has it open (close its serial monitor)"
        qtbot.waitUntil(lambda: panel.monitor_job is None, timeout=5_000)  # the app let go of it first
    finally:
        os.close(master)
        os.close(slave)


def test_monitor_shows_a_boards_result_lines(qtbot, page, tmp_path):
    """A stand-in board on a pseudo-terminal prints result lines; the monitor on its port shows them live."""
    from studio.deploy.running.result_line import format_banner, format_result_line

    master, slave, port = pty()
    view, panel = page.deploy, page.deploy.panel
    try:
        view.board_combo.setCurrentIndex(view.board_combo.findData("nano33ble"))
        qtbot.keyClicks(panel.port_combo.lineEdit(), port)
        panel.monitor_button.click()
        assert panel.monitor_job is not None and panel.monitor_button.text() == "Stop monitor"
        qtbot.wait(300)
        lines = ["cut tail of a line", format_banner({"project": "demo", "board": "nano33ble", "classes": 2}),
                 format_result_line(1000, 50, 20, None, {"idle": 0.25, 'say "hi"': 0.75}),
                 format_result_line(1200, 50, 20, None, {"idle": 0.9, 'say "hi"': 0.1})]
        os.write(master, ("\r\n".join(lines) + "\r\n").encode())
        qtbot.waitUntil(lambda: panel.live.count == 2, timeout=10_000)
        panel.live.flush()
        assert panel.live.timeline()[1] == ['say "hi"', "idle"]
        assert panel.live.bar_scores() == {"idle": 0.9, 'say "hi"': 0.1}
        assert panel.live.title.text().startswith("demo on nano33ble")
        panel.monitor_button.click()
        qtbot.waitUntil(lambda: panel.monitor_job is None, timeout=10_000)
        assert panel.monitor_button.text() == "Start monitor"
    finally:
        os.close(master)
        os.close(slave)


@needs_pio
def test_this_computer_has_no_port_flash_or_monitor_and_says_how_to_run_it(qtbot, page, gesture_run, tmp_path):
    """host-native is a program for this computer: Port, Flash and Monitor give way to a note on running it, and
    what the note says works: the built program classifies frames from standard input."""
    import subprocess

    view, panel = page.deploy, page.deploy.panel
    view.board_combo.setCurrentIndex(view.board_combo.findData("host-native"))
    assert view.host_board() and not view.emulated_board()
    assert not any(panel.rows[name].isVisible() for name in ("Port", "Flash", "Monitor", "Stream"))
    assert panel.rows["Run"].isVisible() and not panel.flash_button.isEnabled()
    assert view.estimate_label.text() == "none: there is no latency model for this board"
    panel.flash()  # however it is reached, nothing is flashed
    assert view.job is None and view.message.text() == panel.host_note.text()
    view.target_combo.setCurrentIndex(view.target_combo.findData("library"))  # nothing to run: a zip of C
    assert not any(row.isVisible() for row in panel.rows.values())
    view.target_combo.setCurrentIndex(view.target_combo.findData("firmware"))

    export_to(qtbot, page, tmp_path / "host")
    assert [view.env_combo.itemText(i) for i in range(view.env_combo.count())] == ["native"]
    program = tmp_path / "host" / ".pio" / "build" / "native" / "program"
    assert panel.host_note.text() == (
        "This computer is not flashed and has no serial port: build the native environment, then run the program "
        f"in a terminal, {program} [FILE] (frames one a line, from FILE or standard input), or pio run -e native "
        "-t exec in the export folder.")
    view.build_button.click()
    wait_idle(qtbot, page)
    assert view.built is not None and view.built.ok, view.message.text()
    f = gesture_run.run.config["framing"]
    frames = "".join(f"{0.01 * i:.2f},0.5,9.81\n" for i in range(f["window_frames"]))
    ran = subprocess.run([str(program)], input=frames, capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith("#impulse") and ran.stdout.count("#result") == 1
    env = pio_environment(os.environ["TINYML_STUDIO_PIO_CORE"])  # pio with the app's core, as the Build used
    ran = subprocess.run([find_pio(), "run", "-e", "native", "-t", "exec"], cwd=tmp_path / "host", input=frames,
                         capture_output=True, text=True, timeout=120, env=env)
    assert ran.returncode == 0 and ran.stdout.count("#result") == 1, ran.stdout + ran.stderr

    view.board_combo.setCurrentIndex(view.board_combo.findData("nano33ble"))  # a real board: the controls are back
    assert all(panel.rows[name].isVisible() for name in ("Port", "Flash", "Monitor"))
    assert not panel.rows["Run"].isVisible()
    assert panel.flash_button.isEnabled() and panel.monitor_button.isEnabled()


def test_exporting_over_an_earlier_export_or_other_files_asks_first(qtbot, page, tmp_path, monkeypatch):
    """The page replaces what is in the export folder only when the user agrees: an earlier export, a folder of
    other files (refused before, as the page had no overwrite), or the library's zip."""
    from PySide6.QtWidgets import QMessageBox

    yes, no = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No
    asked: list[str] = []
    answer = [no]

    def question(parent, title, text, buttons, default):
        assert default == no  # replacing is never the default
        asked.append(text)
        return answer[0]

    monkeypatch.setattr(QMessageBox, "question", question)
    view = page.deploy

    def export_again(expect_asked: str) -> None:
        before = len(asked)
        view.export_button.click()
        assert asked[before:] == [expect_asked]
        wait_idle(qtbot, page, 120_000)

    folder = tmp_path / "fw"
    export_to(qtbot, page, folder)  # a new folder: nothing to ask
    assert asked == []
    (folder / "src" / "mine.c").write_text("my change")
    export_again(f"Replace the earlier export in {folder}? Changes made to its files are lost, and it is built again.")
    assert view.message.text() == f"Not exported: {folder} is left as it was." and (folder / "src" / "mine.c").exists()
    answer[0] = yes
    export_again(f"Replace the earlier export in {folder}? Changes made to its files are lost, and it is built again.")
    assert view.message.text().startswith(f"Exported to {folder}") and not (folder / "src" / "mine.c").exists()

    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    view.folder.clear()
    qtbot.keyClicks(view.folder, str(other))
    answer[0] = no
    export_again(f"{other} is not empty and holds no earlier export. Delete everything in it and export there?")
    assert (other / "notes.txt").read_text() == "keep me" and view.message.text().startswith("Not exported")
    answer[0] = yes
    export_again(f"{other} is not empty and holds no earlier export. Delete everything in it and export there?")
    assert view.message.text().startswith(f"Exported to {other}"), view.message.text()
    assert not (other / "notes.txt").exists() and (other / "platformio.ini").is_file()

    view.target_combo.setCurrentIndex(view.target_combo.findData("library"))
    library = tmp_path / "impulse"  # .zip added
    export_to(qtbot, page, library)
    zipped = tmp_path / "impulse.zip"
    assert zipped.is_file() and len(asked) == 4
    zipped.write_bytes(b"not the export")
    export_again(f"Replace {zipped}?")
    assert view.message.text().startswith(f"Exported to {zipped}") and zipped.read_bytes().startswith(b"PK")
