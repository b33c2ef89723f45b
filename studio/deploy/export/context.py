"""What goes into each exported target: PlatformIO environments, the impulse's numbers, the sensor, and text
made safe for INI files and Markdown. The deploy targets (``targets.py``) render the templates with these."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from studio.boards import CORTEXM_PLATFORM, HOST_PLATFORM
from studio.boards.drivers import (
    IMU_AXES,
    IMU_UNITS,
    SERIAL,
    Driver,
    RateError,
    SensorRate,
    capture_driver,
    pick_driver,
    sensor_rate,
)
from studio.boards.registry import Board
from studio.boards.serial_link import serial_link
from studio.c_literals import c_comment
from studio.deploy.export.errors import ExportError
from studio.deploy.pio.kit import CORE_BOARDS, board_for_core
from studio.deploy.running import result_line
from studio.errors import StudioError
from studio.learn.runs import Run

MODEL_PREFIX = "model"
BAUD = 115200
AUDIO_BAUD = 921600
FRAME_SAMPLES = 256  # int16 samples per framed-binary frame of the capture firmware
BOARD_FILTER = "+<*> -<native/> -<generic/> -<virtual/>"
_INI_UNSAFE = set(";#$%{}\\\"'")
_MD_SPECIAL = set("\\`*_{}[]()#+-.!|<>~&")


@dataclass
class Env:
    """One ``[env:NAME]`` section: options in order; a list value is written one item a line."""

    name: str
    comment: str
    options: list[tuple[str, str | list[str]]] = field(default_factory=list)


# --------------------------------------------------------------------------------------------- safe text


def ini_text(text: str) -> str:
    """``text`` for a value or comment of platformio.ini: printable ASCII on one line; characters that start
    comments or interpolation (``; # $ % { }``), quotes and backslashes become ``_``, others ``?``."""
    out = []
    for ch in str(text):
        if ch in _INI_UNSAFE:
            out.append("_")
        elif 0x20 <= ord(ch) < 0x7F:
            out.append(ch)
        else:
            out.append("?")
    return "".join(out).strip() or "_"


def md_text(text: str) -> str:
    """``text`` for Markdown: control characters shown as ``\\n``-style escapes, Markdown punctuation escaped."""
    shown = "".join(ch.encode("unicode_escape").decode("ascii") if ord(ch) < 0x20 or ord(ch) == 0x7F else ch
                    for ch in str(text))
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in shown)


# --------------------------------------------------------------------------------------------- environments


def generic_env(board: Board) -> Env | None:
    """``[env:<core>-generic]`` on the offline kit's generic board for the board's core (Cortex-M only)."""
    if not board.core.startswith("cortex-m"):
        return None
    generic = board_for_core(board.core)
    core = next(name for name, b in CORE_BOARDS.items() if b == generic)
    return Env(f"{core}-generic", f"the same core ({core}) with the offline generic toolchain, runs under QEMU",
               [("platform", CORTEXM_PLATFORM), ("board", generic), ("build_src_filter", "-<*> +<generic/>")])


def native_env(comment: str) -> Env:
    return Env("native", comment, [("platform", HOST_PLATFORM), ("build_src_filter", "-<*> +<native/>")])


def board_env(board: Board, driver: Driver, baud: int, source_filter: str = BOARD_FILTER) -> Env | None:
    """``[env:<board id>]`` with the board's own platform, board and framework (None for the host)."""
    pio = board.platformio
    if board.kind == "host":
        return None
    options: list[tuple[str, str | list[str]]] = [("platform", str(pio["platform"]))]
    if pio.get("board"):
        options.append(("board", str(pio["board"])))
    if pio.get("framework"):
        options.append(("framework", str(pio["framework"])))
    if driver.lib_deps:
        options.append(("lib_deps", list(driver.lib_deps)))
    if board.on_generic_platform:
        source_filter = "-<*> +<virtual/>"
    options += [("build_src_filter", source_filter), ("monitor_speed", str(baud))]
    return Env(board.id, ini_text(f"{board.name}: {driver.title}"), options)


# --------------------------------------------------------------------------------------------- the impulse


def run_framing(run: Run) -> dict[str, Any]:
    """The run's classes and framing, checked, as the templates name them; ``ExportError`` for a run without them."""
    try:
        framing, axes, classes = run.framing, run.axes, run.labels
    except (StudioError, KeyError, TypeError, ValueError) as e:
        raise ExportError(f"{run.path}: the run's config lacks its framing or classes ({e}); train again") from None
    fs, window, stride = framing.frequency_hz, framing.window_frames, framing.stride_frames
    if not (fs > 0 and window > 0 and axes > 0 and stride > 0 and classes):
        raise ExportError(f"{run.path}: the run's framing is empty (frequency {fs:g} Hz, window {window} frames)")
    return {"fs": fs, "window_frames": window, "stride_frames": stride, "axes": axes, "classes": classes,
            "audio": framing.kind == "audio", "period_us": max(1, round(1e6 / fs))}


def line_max(labels: list[str]) -> int:
    """Bytes of the longest ``#result`` line (and its NUL) for these labels."""
    number = len("-4294967295.") + result_line.DECIMALS
    head = len("#result t= dsp_us= nn_us= anomaly=") + 3 * 10 + number
    return head + sum(2 + len(result_line.escape_text(label)) + number for label in labels) + 1


def window_context(window: np.ndarray | None, framing: dict[str, Any]) -> dict[str, Any]:
    """The generic firmware's built-in window: int16 values when it is audio that int16 / 32768 gives."""
    count = framing["window_frames"] * framing["axes"]
    x = np.zeros(count, np.float32) if window is None else np.asarray(window, np.float32).reshape(-1)
    if x.size != count or not np.isfinite(x).all():
        raise ExportError(f"the test window has {x.size} values, the impulse takes {count} finite values")
    q = x.astype(np.float64) * 32768.0
    as_int16 = framing["audio"] and bool((q == np.round(q)).all() and np.abs(q).max(initial=0) <= 32767)
    return {"test_window": q.astype(np.int32) if as_int16 else x, "test_window_int16": as_int16}


def rate_for(driver: Driver, board: Board, fs: float) -> SensorRate | None:
    """The sensor's output rate for ``fs`` (ExportError, with both rates, when the sensor is too slow)."""
    try:
        return sensor_rate(driver, fs)
    except RateError as e:
        raise ExportError(f"board {board.id}: {e}") from None


def sensing(board: Board, driver: Driver, framing: dict[str, Any], note: str | None) -> dict[str, Any]:
    """The sensor's rate, the baud rate, and the notes about them, for an impulse (or capture) on ``board``."""
    notes = [note] if note else []
    rate, baud = None, BAUD
    if board.kind != "real":
        notes = []  # the emulated board reads its UART, the host reads files: by design
    elif driver is SERIAL:
        link = serial_link(board, framing["fs"], framing["axes"], framing["audio"])
        baud = link.baud
        notes.append(link.note())
    else:
        rate = rate_for(driver, board, framing["fs"])
        if rate is not None and rate.note:
            notes.append(rate.note)
    return {"sensor_rate": rate, "baud": baud, "notes": notes,
            "sensor_rate_text": format(rate.hz, "g") if rate is not None else ""}


def impulse_context(run: Run, board: Board, project_name: str, window: np.ndarray | None) -> dict[str, Any]:
    """Everything the firmware, native and library templates need about the impulse and the board."""
    framing = run_framing(run)
    driver, note = pick_driver(board, framing["audio"], framing["axes"])
    labels = framing["classes"]
    banner = result_line.format_banner({
        "project": project_name, "board": board.id, "hz": framing["fs"], "window": framing["window_frames"],
        "stride": framing["stride_frames"], "axes": framing["axes"], "classes": len(labels),
        "anomaly": int(run.anomaly is not None)})
    imu = not framing["audio"] and framing["axes"] in (3, 6)
    axes = list(IMU_AXES[:framing["axes"]]) if imu else [f"value{i + 1}" for i in range(framing["axes"])]
    units = list(IMU_UNITS[:framing["axes"]]) if imu else [""] * framing["axes"]
    return {
        **framing, **window_context(window, framing), "prefix": MODEL_PREFIX, "PREFIX": MODEL_PREFIX.upper(),
        "labels": labels, "label_fields": [result_line.escape_text(s) for s in labels],
        "labels_md": [md_text(s) for s in labels], "banner": banner, "line_max": line_max(labels),
        "driver": driver, "board": board, "board_name_md": md_text(board.name),
        "project_md": md_text(project_name), "project_comment": c_comment(project_name),
        "has_anomaly": run.anomaly is not None, "axis_names": axes, "axis_units": units,
        "run_number": run.number, **sensing(board, driver, framing, note),
        "driver_note": note if board.kind == "real" else None,
        "fs_text": format(framing["fs"], "g"), "window_ms": framing["window_frames"] * 1000.0 / framing["fs"],
        "stride_ms": framing["stride_frames"] * 1000.0 / framing["fs"], "decimals": result_line.DECIMALS,
    }


def firmware_envs(board: Board, driver: Driver, baud: int = BAUD) -> list[Env]:
    envs = [board_env(board, driver, baud),
            native_env("this computer: runs the impulse on recorded data (see README.md)"), generic_env(board)]
    return [e for e in envs if e is not None]


# --------------------------------------------------------------------------------------------- capture


def capture_context(run: Run | None, board: Board, project_name: str) -> dict[str, Any]:
    """The data-capture firmware: the IMU at the impulse's rate and axes (100 Hz, 3 axes without a run) as
    data-forwarder text, or the microphone at 16 kHz as framed binary."""
    framing = run_framing(run) if run is not None else None
    audio = framing["audio"] if framing else None
    driver = capture_driver(board, audio)
    if driver is None:
        what = {None: "IMU or microphone", True: "microphone", False: "IMU"}[audio]
        raise ExportError(f"board {board.id}: no {what} with a capture driver (sensors: "
                          f"{', '.join(board.sensors.get('imu', []) + board.sensors.get('microphone', [])) or 'none'})")
    mic = driver.kind == "microphone"
    axes = 1 if mic else (framing["axes"] if framing and framing["axes"] in (3, 6) else 3)
    fs = framing["fs"] if framing and framing["audio"] == mic else (16000.0 if mic else 100.0)
    if mic and (fs != round(fs) or not 1000 <= fs <= 48000):
        raise ExportError(f"board {board.id}: the microphone code records at whole rates of 1-48 kHz, not {fs:g} Hz")
    names = ["audio"] if mic else list(IMU_AXES[:axes])
    rate = None if mic else rate_for(driver, board, fs)
    return {"driver": driver, "mic": mic, "axes": axes, "fs": fs, "fs_text": format(fs, "g"), "sensor_rate": rate,
            "sensor_rate_text": format(rate.hz, "g") if rate is not None else "",
            "notes": [rate.note] if rate is not None and rate.note else [],
            "period_us": max(1, round(1e6 / fs)), "axis_names": names,
            "axis_units": ["int16"] if mic else list(IMU_UNITS[:axes]), "header": "# " + ",".join(names),
            "frame_samples": FRAME_SAMPLES, "baud": AUDIO_BAUD if mic else BAUD, "board": board,
            "board_name_md": md_text(board.name), "project_md": md_text(project_name), "audio": mic,
            "project_comment": c_comment(project_name), "window_frames": 1, "decimals": 4}


def capture_envs(board: Board, driver: Driver, baud: int) -> list[Env]:
    env = board_env(board, driver, baud, "+<*> -<native/>")
    native = native_env("this computer: the firmware encoder on values read from stdin (see README.md)")
    return [e for e in (env, native) if e is not None]


def slug(name: str) -> str:
    """A file-name-safe ASCII name (letters, digits, ``-``, ``_``)."""
    text = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "-" for ch in name)
    text = "-".join(p for p in text.split("-") if p)
    return text[:60] or "impulse"


__all__ = ["SERIAL", "Env", "ExportError", "capture_context", "capture_envs", "firmware_envs", "impulse_context",
           "ini_text", "md_text", "slug"]
