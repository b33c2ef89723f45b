"""Every device the app can record from: serial ports, running virtual boards, audio inputs."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from studio.devices.microphone import input_devices
from studio.devices.sources import DeviceError
from studio.devices.virtual_board import registry_dir

IN_PROCESS_VIRTUAL = "virtual"


@dataclass(frozen=True)
class DeviceEntry:
    id: str  # what --device takes
    kind: str  # serial, virtual, audio
    name: str
    detail: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def serial_ports() -> list[DeviceEntry]:
    from serial.tools import list_ports

    out = []
    for p in sorted(list_ports.comports(), key=lambda p: p.device):
        if p.hwid in (None, "", "n/a"):
            continue  # legacy ttyS* entries with no hardware behind them
        out.append(DeviceEntry(p.device, "serial", p.description or p.device, p.hwid))
    return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def virtual_boards() -> list[DeviceEntry]:
    """The in-process virtual board, and boards started with ``tinyml-studio virtual-board``."""
    out = [DeviceEntry(IN_PROCESS_VIRTUAL, "virtual", "Virtual board (in the app)", "3-axis accelerometer")]
    folder = registry_dir()
    if folder.is_dir():
        for f in sorted(folder.glob("*.json")):
            try:
                meta = json.loads(f.read_text())
                pid, path = int(meta["pid"]), str(meta["path"])
            except (OSError, ValueError, KeyError, TypeError):
                continue
            if not _alive(pid) or not Path(path).exists():
                f.unlink(missing_ok=True)
                continue
            out.append(DeviceEntry(path, "virtual", f"Virtual board {meta.get('gesture', '')} "
                                   f"@ {meta.get('rate_hz', '?')} Hz", f"pid {pid}"))
    return out


def audio_inputs() -> list[DeviceEntry]:
    return [DeviceEntry(f"mic:{d['index']}", "audio", d["name"], f"{int(d['default_samplerate'])} Hz default")
            for d in input_devices()]


def list_devices() -> tuple[list[DeviceEntry], list[str]]:
    """All devices, and notes about kinds that could not be listed (e.g. PortAudio missing)."""
    notes = []
    devices = serial_ports() + virtual_boards()
    try:
        devices += audio_inputs()
    except DeviceError as e:
        notes.append(str(e))
    return devices, notes
