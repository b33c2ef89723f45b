"""What a board's serial port carries when an impulse's frames reach it as data-forwarder text lines (a board
without a driver for the impulse's sensor): the baud rate to use, and how many frames a second arrive.

A board with native USB (USB CDC) ignores the baud rate and carries far more than any impulse needs. A board
behind a USB-UART bridge carries baud / 10 bytes a second (8 data bits, a start and a stop bit); the export
takes the lowest standard rate that carries the frames, up to what the bridge allows.
"""

from __future__ import annotations

from dataclasses import dataclass

from studio.boards.registry import Board

DEFAULT_BAUD = 115200
STANDARD_BAUDS = (115200, 230400, 460800, 921600, 1000000, 2000000, 3000000)
BITS_PER_BYTE = 10
# the widest value as the studio sends it: "-12.3456" (sensor, 4 decimals) or "-32768" (audio); values are
# separated by a comma, and a line ends with "\r\n"
SENSOR_VALUE_BYTES = 8
AUDIO_VALUE_BYTES = 6
LINE_END_BYTES = 2


@dataclass(frozen=True)
class SerialLink:
    baud: int
    frames_per_s: float  # what the impulse needs
    carried_per_s: float | None  # what arrives at that baud (None: native USB, not the limit)
    bridge: str | None

    @property
    def keeps_up(self) -> bool:
        return self.carried_per_s is None or self.carried_per_s >= self.frames_per_s

    def note(self) -> str:
        """One line for the export's notes and the estimate."""
        need = f"{self.frames_per_s:,.0f} frames/s"
        if self.carried_per_s is None:
            return f"frames arrive over native USB serial ({need}; the baud rate does not limit it)"
        said = f"at {self.baud:,} baud the {self.bridge or 'USB-UART bridge'} carries about " \
               f"{self.carried_per_s:,.0f} frames/s of the {need} the impulse needs"
        return said if self.keeps_up else said + ": it cannot keep up (send fewer frames, or use a sensor on the board)"


def bytes_per_frame(axes: int, audio: bool) -> int:
    """The longest data-forwarder line of one frame."""
    value = AUDIO_VALUE_BYTES if audio else SENSOR_VALUE_BYTES
    return axes * value + (axes - 1) + LINE_END_BYTES


def serial_link(board: Board, frames_per_s: float, axes: int, audio: bool) -> SerialLink:
    """The baud rate and throughput of ``board``'s serial port for frames of ``axes`` values at ``frames_per_s``."""
    serial = board.serial or {}
    if board.native_usb or not serial:
        return SerialLink(DEFAULT_BAUD, frames_per_s, None, None)
    per_frame = bytes_per_frame(axes, audio)
    needed = frames_per_s * per_frame * BITS_PER_BYTE
    allowed = serial.get("max_baud") or DEFAULT_BAUD
    usable = [b for b in STANDARD_BAUDS if b <= allowed] or [DEFAULT_BAUD]
    baud = next((b for b in usable if b >= needed), usable[-1])
    return SerialLink(baud, frames_per_s, baud / BITS_PER_BYTE / per_frame, serial.get("bridge"))
