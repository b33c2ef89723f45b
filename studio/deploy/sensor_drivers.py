"""Which sensor code an exported Arduino firmware gets for a board (templates in
``project_templates/firmware/sensors/<id>.h.j2``).

A driver is chosen by the sensor part names of the board catalogue (``sensors.imu``, ``sensors.microphone``),
the board's PlatformIO platform and the number of axes the impulse needs. When none fits, the firmware reads
its frames as data-forwarder text lines on the serial port instead (driver ``serial``), so any board runs
the impulse on data sent to it, and the README says where to plug in another sensor.
"""

from __future__ import annotations

from dataclasses import dataclass

from studio.boards.registry import Board

IMU_AXES = ("accX", "accY", "accZ", "gyrX", "gyrY", "gyrZ")
IMU_UNITS = ("m/s2", "m/s2", "m/s2", "dps", "dps", "dps")


@dataclass(frozen=True)
class Driver:
    id: str
    kind: str  # "imu", "microphone" or "serial"
    title: str
    parts: tuple[str, ...] = ()  # prefixes of the part names in the board catalogue
    platforms: tuple[str, ...] = ()  # PlatformIO platforms the code is written for (empty: any)
    boards: tuple[str, ...] = ()  # board ids it is limited to (pins), empty: any
    lib_deps: tuple[str, ...] = ()
    axes: tuple[int, ...] = (3, 6)  # frame sizes it fills: acceleration, then angular rate

    def fits(self, board: Board, kind: str, axes: int) -> bool:
        parts = board.sensors.get(kind, [])
        return (self.kind == kind and axes in self.axes
                and any(p.upper().startswith(q.upper()) for p in parts for q in self.parts)
                and (not self.platforms or board.platformio.get("platform") in self.platforms)
                and (not self.boards or board.id in self.boards))


DRIVERS = (
    Driver("lsm9ds1", "imu", "LSM9DS1 (Arduino_LSM9DS1)", ("LSM9DS1",), ("nordicnrf52",),
           lib_deps=("arduino-libraries/Arduino_LSM9DS1@^1.1.1",)),
    Driver("lsm6dsox", "imu", "LSM6DSOX (Arduino_LSM6DSOX)", ("LSM6DSOX",), ("raspberrypi",),
           lib_deps=("arduino-libraries/Arduino_LSM6DSOX@^1.1.1",)),
    Driver("lsm6ds3", "imu", "LSM6DS3TR-C (Seeed Arduino LSM6DS3)", ("LSM6DS3",), ("nordicnrf52",),
           lib_deps=("seeed-studio/Seeed Arduino LSM6DS3@^2.0.3",)),
    Driver("lsm6dsl", "imu", "LSM6DSL on I2C2 (STM32duino LSM6DSL)", ("LSM6DSL",), ("ststm32",),
           ("disco_l475vg_iot01a",), lib_deps=("stm32duino/STM32duino LSM6DSL@^1.0.4",)),
    Driver("bhy2", "imu", "BHI260AP (Arduino_BHY2)", ("BHI260AP",), ("nordicnrf52",), ("nicla_sense_me",),
           lib_deps=("arduino-libraries/Arduino_BHY2@^1.0.0",)),
    Driver("pdm_mbed", "microphone", "PDM microphone (PDM library of the Arduino mbed core)",
           ("MP34DT05", "MP34DT06", "MSM261D3526H1CPM"), ("nordicnrf52", "raspberrypi"), axes=(1,)),
    Driver("i2s_pdm_esp32", "microphone", "PDM microphone on I2S (arduino-esp32 2.x I2S library)",
           ("MSM261D3526H1CPM",), ("espressif32",), ("seeed_xiao_esp32s3",), axes=(1,)),
)
SERIAL = Driver("serial", "serial", "frames sent over the serial port as data-forwarder text lines",
                axes=tuple(range(1, 65)))


def pick_driver(board: Board, audio: bool, axes: int) -> tuple[Driver, str | None]:
    """The driver for an impulse on ``board``, and a note saying why when it falls back to ``serial``."""
    kind = "microphone" if audio else "imu"
    for driver in DRIVERS:
        if driver.fits(board, kind, axes):
            return driver, None
    parts = board.sensors.get(kind, [])
    if not parts:
        why = f"{board.id} has no {kind} in the board catalogue"
    elif not audio and axes not in (3, 6):
        why = f"the impulse takes {axes} axes per frame; the IMU code fills 3 (acceleration) or 6 (and rotation)"
    else:
        why = f"no driver for {', '.join(parts)} on {board.platformio.get('platform')} is included"
    return SERIAL, f"{why}: the firmware reads its frames from the serial port"


def capture_driver(board: Board, audio: bool | None) -> Driver | None:
    """The driver of a data-capture firmware: the microphone for audio, the IMU otherwise (``None``: either,
    the IMU first). ``None`` when the board has no sensor of that kind with a driver."""
    kinds = ["microphone"] if audio else ["imu"] if audio is False else ["imu", "microphone"]
    for kind in kinds:
        for driver in DRIVERS:
            if driver.fits(board, kind, 1 if kind == "microphone" else 3):
                return driver
    return None
