"""The flash and monitor controls of the Deploy page: a port chosen by the user, never guessed; flashing a real
board or the emulated one (fed from the stream picker); the serial monitor at the export's baud rate."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.deploy.pio import default_core_dir
from studio.deploy.pio.build import firmware_elf, native_program
from studio.deploy.running import emulated, flash, monitor
from studio.devices.listing import serial_ports
from studio.errors import StudioError
from studio.learn.runs import Run
from studio.project import Project
from studio.ui.pages.deploy.live_results import LiveResults, StreamPicker, _plain

BAUDS = ("115200", "9600", "57600", "230400", "460800", "921600", "1000000", "2000000")
RELEASE_WAIT = 3.0  # seconds an upload waits for the app's own monitor to let go of the port
NO_PORT = "no port chosen: pick the board's serial port (ports are never guessed)"
ON_HOST = ("This computer is not flashed and has no serial port: build the native environment, then run the "
           "program in a terminal, {program} [FILE] (frames one a line, from FILE or standard input), or "
           "pio run -e native -t exec in the export folder.")


class Host(Protocol):
    """What the flash panel needs from the deploy view around it."""

    project: Project | None

    def board(self) -> str: ...

    def emulated_board(self) -> bool: ...

    def host_board(self) -> bool: ...

    def export_folder(self) -> Path: ...

    def env(self) -> str: ...

    def chosen_run(self) -> Run | None: ...

    def say(self, text: str, error: bool = False) -> None: ...

    def start_job(self, name: str, job: Callable, params: Any, done: Callable[[Any], None]) -> None: ...


def _row(*widgets: QWidget) -> QWidget:
    row = QWidget()
    box = QHBoxLayout(row)
    box.setContentsMargins(0, 0, 0, 0)
    for i, w in enumerate(widgets):
        box.addWidget(w, 1 if i == 0 else 0)
    return row


class FlashPanel(QWidget):
    """Port, stream, Flash (or run on the emulated board) and the monitor, above the live results."""

    def __init__(self, host: Host, runner: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.host, self.runner = host, runner
        self.monitor_job: Any = None
        self.monitor_port = ""
        self.port_combo = QComboBox()
        self.port_combo.setEditable(True)
        self.port_combo.lineEdit().setPlaceholderText("choose or type the board's port, e.g. /dev/ttyACM0")
        self.port_combo.setToolTip("The board's serial port: never guessed, choose it")
        self.ports_button = QPushButton("Refresh")
        self.ports_button.setToolTip("List the serial ports again")
        self.ports_button.clicked.connect(lambda _c=False: self.refresh_ports())
        self.stream = StreamPicker()
        self.flash_button = QPushButton("Flash")
        self.flash_button.clicked.connect(lambda _c=False: self.flash())
        self.baud_combo = QComboBox()
        self.baud_combo.addItems(BAUDS)
        self.baud_combo.setToolTip("The serial monitor's baud rate: the export's (its README says which)")
        self.monitor_button = QPushButton("Start monitor")
        self.monitor_button.setToolTip("Read the board's result lines on the port")
        self.monitor_button.clicked.connect(lambda _c=False: self.toggle_monitor())
        self.live = LiveResults()
        self.host_note = _plain("")
        self.host_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.form = QFormLayout()
        self.rows = {"Port": _row(self.port_combo, self.ports_button), "Stream": _row(self.stream),
                     "Flash": _row(self.flash_button), "Monitor": _row(self.baud_combo, self.monitor_button),
                     "Run": _row(self.host_note)}
        for name, row in self.rows.items():
            self.form.addRow(name, row)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.form)
        layout.addWidget(self.live, 1)

    def port(self) -> str:
        return self.port_combo.currentText().strip()

    def update_state(self, idle: bool, library: bool) -> None:
        """Rows and buttons for the host's board and target; ``idle``: no export, build or flash running."""
        virtual, on_host = self.host.emulated_board(), self.host.host_board()
        if on_host:
            self.host_note.setText(self.on_host())
        for name, shown in (("Port", not virtual and not on_host), ("Monitor", not virtual and not on_host),
                            ("Stream", virtual), ("Flash", not on_host), ("Run", on_host and not library)):
            self.form.setRowVisible(self.rows[name], shown)
        self.flash_button.setText("Run on the emulated board" if virtual else "Flash")
        self.flash_button.setToolTip("Start the firmware under QEMU and stream the sensor data to it" if virtual else
                                     "Upload the built environment to the chosen port")
        self.flash_button.setEnabled(idle and self.host.project is not None and not library and not on_host)
        self.monitor_button.setEnabled(self.host.project is not None and not on_host)

    def on_host(self) -> str:
        """How the program for this computer is run (it is not flashed)."""
        return ON_HOST.format(program=native_program(self.host.export_folder()))

    def refresh_ports(self) -> None:
        keep = self.port()
        self.port_combo.clear()
        try:
            ports = serial_ports()
        except Exception:  # noqa: BLE001 - listing is best effort; a port can still be typed
            ports = []
        for p in ports:
            self.port_combo.addItem(p.id, p.id)
            self.port_combo.setItemData(self.port_combo.count() - 1, f"{p.name} ({p.detail})",
                                        Qt.ItemDataRole.ToolTipRole)
        self.port_combo.setCurrentIndex(-1)  # never a guessed port
        self.port_combo.setEditText(keep)

    # ------------------------------------------------------------------ flash

    def flash(self) -> None:
        host = self.host
        if host.project is None:
            return
        if host.host_board():
            host.say(self.on_host())
            return
        if host.emulated_board():
            self._run_emulated()
            return
        port = self.port()
        if not port:
            host.say(NO_PORT, error=True)
            return
        if not host.env():
            host.say("Export and build first: there is no environment to flash.", error=True)
            return
        params = flash.UploadParams(host.export_folder(), host.env(), port, default_core_dir(), self._release)
        host.start_job(f"Flash {port}", flash.run, params,
                       lambda _r: host.say(f"Flashed {port}: start the monitor to see its results."))

    def _release(self, port: str) -> None:
        """Close the app's own monitor on ``port`` before an upload (called from the flash job's thread)."""
        job = self.monitor_job
        if job is not None and self.monitor_port == port:
            job.cancel()
            deadline = time.monotonic() + RELEASE_WAIT
            while not job.done and time.monotonic() < deadline:
                time.sleep(0.02)

    def _run_emulated(self) -> None:
        host = self.host
        if host.chosen_run() is None or self.stream.combo.currentData() is None:
            host.say("Nothing to stream: the run's impulse needs 3 or 6 sensor axes or fitting samples.", error=True)
            return
        try:
            frames, what = self.stream.frames(host.project)
        except StudioError as e:
            host.say(str(e), error=True)
            return
        elf = firmware_elf(host.export_folder(), host.board())
        params = emulated.EmulatedParams(elf, frames, self.stream.frequency_hz, self.stream.realtime.isChecked())
        self.live.clear(f"Streaming {what} to the emulated board …")
        host.start_job("Emulated board", emulated.run, params, self._emulated_done)

    def _emulated_done(self, report: emulated.EmulatedReport) -> None:
        expected = "?" if report.windows_expected is None else report.windows_expected
        end = "." if report.complete else "; it fell silent before the end."
        self.host.say(f"The emulated board classified {report.windows_done} of {expected} windows of "
                      f"{report.lines_sent} frames in {report.seconds:.1f} s{end}", error=not report.complete)

    # ------------------------------------------------------------------ monitor

    def set_baud(self, baud: object) -> None:
        """Monitor at the baud rate the export chose (boards behind a USB-UART bridge may get more than 115200)."""
        if isinstance(baud, int) and baud > 0:
            if self.baud_combo.findText(str(baud)) < 0:
                self.baud_combo.addItem(str(baud))
            self.baud_combo.setCurrentText(str(baud))

    def toggle_monitor(self) -> None:
        if self.monitor_job is not None:
            self.stop_monitor()
            return
        if not self.port():
            self.host.say(NO_PORT, error=True)
            return
        self.monitor_port = self.port()
        self.live.clear(f"Listening on {self.monitor_port} …")
        params = monitor.MonitorParams(self.monitor_port, int(self.baud_combo.currentText()))
        handle = self.monitor_job = self.runner.start(f"Monitor {self.monitor_port}", monitor.run, params)
        handle.partial.connect(self.live.show_line)
        handle.failed.connect(lambda msg: self.host.say(msg.splitlines()[0], error=True))
        for sig in (handle.finished, handle.failed, handle.cancelled):
            sig.connect(lambda *_a, h=handle: self._monitor_ended(h))
        self.monitor_button.setText("Stop monitor")

    def stop_monitor(self) -> None:
        if self.monitor_job is not None:
            self.monitor_job.cancel()

    def _monitor_ended(self, handle: Any) -> None:
        if self.monitor_job is handle:
            self.monitor_job = None
            self.monitor_button.setText("Start monitor")
        self.live.flush()
