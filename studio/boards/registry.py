"""Load and validate board files. No board facts live in code: only the schema does.

Every key is required. ``null`` is allowed for clock, memory sizes, currents, supply voltage,
URL and upload protocol only on virtual boards (a host computer has no datasheet).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from studio.errors import StudioError
from studio.paths import boards_dir

CORES = (
    "cortex-m0plus", "cortex-m3", "cortex-m4", "cortex-m4f", "cortex-m7", "cortex-m33",
    "xtensa-lx6", "xtensa-lx7", "riscv32", "host",
)
FPUS = ("none", "single", "double")
SENSOR_KINDS = ("imu", "microphone", "other")
# The platforms of the offline kit: the host computer's and TinyML Studio's own generic Cortex-M one (QEMU).
HOST_PLATFORM = "native"
CORTEXM_PLATFORM = "tinyml-cortexm"
KINDS = ("real", "generic-cortexm", "emulated", "host")
_ID = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")
_NULLABLE_WHEN_VIRTUAL = {
    "clock_mhz", "flash_kb", "ram_kb", "supply_voltage_v", "active_current_ma", "sleep_current_ua", "url",
    "upload_protocol",
}
_NUMBERS = {"clock_mhz", "flash_kb", "ram_kb", "supply_voltage_v", "active_current_ma", "sleep_current_ua"}
_TEXTS = {"id", "name", "vendor", "mcu", "core", "fpu", "upload_protocol", "url"}


class BoardError(StudioError, ValueError):
    """A board file is missing or invalid; ``str(err)`` names the file and the reason."""


@dataclass(frozen=True)
class Board:
    id: str
    name: str
    vendor: str
    mcu: str
    core: str
    clock_mhz: float | None
    flash_kb: int | None
    ram_kb: int | None
    fpu: str
    dsp_simd: bool
    sensors: dict[str, list[str]]
    platformio: dict[str, str | None]
    upload_protocol: str | None
    supply_voltage_v: float | None
    active_current_ma: float | None
    sleep_current_ua: float | None
    url: str | None
    # what a program may really take (PlatformIO's upload limits, or the app partition): the verdicts' bounds
    program: dict[str, Any] | None = None
    # how the board's serial port reaches the computer: {"usb": "native"|"bridge", "bridge", "max_baud", "note"}
    serial: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    virtual: bool = False

    @property
    def program_flash_bytes(self) -> int | None:
        return self.program["flash_bytes"] if self.program else (self.flash_kb * 1024 if self.flash_kb else None)

    @property
    def program_ram_bytes(self) -> int | None:
        return self.program["ram_bytes"] if self.program else (self.ram_kb * 1024 if self.ram_kb else None)

    @property
    def kind(self) -> str:
        """``host`` (this computer, native platform), ``emulated`` (the virtual board under QEMU),
        ``generic-cortexm`` (a board file on the generic Cortex-M platform) or ``real`` (its vendor's platform)."""
        platform = self.platformio.get("platform")
        if platform == HOST_PLATFORM:
            return "host"
        if platform == CORTEXM_PLATFORM:
            return "emulated" if self.virtual else "generic-cortexm"
        return "real"

    @property
    def on_generic_platform(self) -> bool:
        """Built with the offline kit's generic Cortex-M platform (emulated or a generic board)."""
        return self.kind in ("emulated", "generic-cortexm")

    @property
    def native_usb(self) -> bool:
        return bool(self.serial) and self.serial.get("usb") == "native"

    @property
    def has_imu(self) -> bool:
        return bool(self.sensors.get("imu"))

    @property
    def has_microphone(self) -> bool:
        return bool(self.sensors.get("microphone"))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check(data: Any, source: str) -> Board:
    def bad(msg: str) -> BoardError:
        return BoardError(f"{source}: {msg}")

    if not isinstance(data, dict):
        raise bad("not a JSON object")
    expected = {f for f in Board.__dataclass_fields__}
    missing = sorted(expected - data.keys())
    unknown = sorted(data.keys() - expected)
    if missing:
        raise bad(f"missing {', '.join(missing)}")
    if unknown:
        raise bad(f"unknown key(s) {', '.join(unknown)}")
    virtual = data["virtual"]
    if not isinstance(virtual, bool) or not isinstance(data["dsp_simd"], bool):
        raise bad("'virtual' and 'dsp_simd' must be true or false")
    for key in _NUMBERS | _TEXTS:
        v = data[key]
        if v is None:
            if virtual and key in _NULLABLE_WHEN_VIRTUAL:
                continue
            raise bad(f"{key} is null (only virtual boards may leave it empty)")
        if key in _NUMBERS and (isinstance(v, bool) or not isinstance(v, int | float) or v <= 0):
            raise bad(f"{key} must be a positive number")
        if key in _TEXTS and (not isinstance(v, str) or not v.strip()):
            raise bad(f"{key} must be non-empty text")
    for key in ("flash_kb", "ram_kb"):
        if data[key] is not None and not isinstance(data[key], int):
            raise bad(f"{key} must be a whole number of KiB")
    if not _ID.match(data["id"]):
        raise bad(f"id {data['id']!r} must be lowercase letters, digits, '_' or '-'")
    if data["core"] not in CORES:
        raise bad(f"core {data['core']!r} is not one of {', '.join(CORES)}")
    if data["fpu"] not in FPUS:
        raise bad(f"fpu {data['fpu']!r} is not one of {', '.join(FPUS)}")
    sensors = data["sensors"]
    if not isinstance(sensors, dict) or set(sensors) != set(SENSOR_KINDS) or not all(
        isinstance(v, list) and all(isinstance(s, str) and s for s in v) for v in sensors.values()
    ):
        raise bad("sensors must map imu, microphone and other to lists of part names")
    pio = data["platformio"]
    if not isinstance(pio, dict) or set(pio) != {"platform", "board", "framework"} or not isinstance(
        pio["platform"], str
    ):
        raise bad("platformio must hold platform (text), board and framework")
    if not virtual and not all(isinstance(pio[k], str) and pio[k] for k in ("board", "framework")):
        raise bad("platformio.board and platformio.framework are required for real boards")
    if not isinstance(data["extra"], dict) or not isinstance(data["sources"], list) or not data["sources"]:
        raise bad("extra must be an object and sources a non-empty list")
    problem = _program_problem(data["program"], virtual) or _serial_problem(data["serial"], virtual)
    if problem:
        raise bad(problem)
    return Board(**data)


def _program_problem(program: Any, virtual: bool) -> str | None:
    if program is None:
        return None if virtual else "program (flash_bytes, ram_bytes, note) is required for real boards"
    if not isinstance(program, dict) or set(program) != {"flash_bytes", "ram_bytes", "note"}:
        return "program must hold flash_bytes, ram_bytes and note"
    if not all(isinstance(program[k], int) and not isinstance(program[k], bool) and program[k] > 0
               for k in ("flash_bytes", "ram_bytes")):
        return "program.flash_bytes and program.ram_bytes must be positive whole numbers"
    if not isinstance(program["note"], str) or not program["note"].strip():
        return "program.note must say where the limits come from"
    return None


def _serial_problem(serial: Any, virtual: bool) -> str | None:
    if serial is None:
        return None if virtual else "serial (usb, bridge, max_baud, note) is required for real boards"
    if not isinstance(serial, dict) or set(serial) != {"usb", "bridge", "max_baud", "note"}:
        return "serial must hold usb, bridge, max_baud and note"
    if serial["usb"] not in ("native", "bridge"):
        return "serial.usb must be 'native' or 'bridge'"
    if serial["max_baud"] is not None and not (isinstance(serial["max_baud"], int) and serial["max_baud"] > 0):
        return "serial.max_baud must be a positive whole number or null"
    return None


def load_board_file(path: Path) -> Board:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise BoardError(f"{path}: cannot read ({e})") from None
    except ValueError as e:
        raise BoardError(f"{path}: not valid JSON ({e})") from None
    board = _check(data, str(path))
    if path.stem != board.id:
        raise BoardError(f"{path}: file name must be the board id ({board.id}.json)")
    return board


@lru_cache(maxsize=4)
def _load(folder: str) -> tuple[Board, ...]:
    files = sorted(Path(folder).glob("*.json"))
    if not files:
        raise BoardError(f"{folder}: no board files")
    boards = [load_board_file(f) for f in files]
    return tuple(sorted(boards, key=lambda b: (b.virtual, b.vendor.lower(), b.name.lower())))


def load_boards(folder: Path | None = None) -> list[Board]:
    """All boards, real ones first, by vendor and name."""
    return list(_load(str(folder or boards_dir())))


def get_board(board_id: str, folder: Path | None = None) -> Board:
    for b in load_boards(folder):
        if b.id == board_id:
            return b
    raise BoardError(f"unknown board {board_id!r} (see 'tinyml-studio boards')")
