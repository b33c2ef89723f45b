"""Which sensor code an exported Arduino firmware gets for a board (templates in
``project_templates/firmware/sensors/<id>.h.j2``), and at which output rate the sensor runs.

A driver is chosen by the sensor part names of the board catalogue (``sensors.imu``, ``sensors.microphone``),
the board's PlatformIO platform and the number of axes the impulse needs. When none fits, the firmware reads
its frames as data-forwarder text lines on the serial port instead (driver ``serial``), so any board runs
the impulse on data sent to it, and the README says where to plug in another sensor.

An IMU runs at the lowest of its output data rates at or above the impulse's frequency, so that every
reading the firmware takes (one per 1 / frequency, when the sensor says a new one is ready) is a fresh one.
An impulse faster than the sensor's highest rate is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from studio.boards.registry import Board
from studio.errors import StudioError

IMU_AXES = ("accX", "accY", "accZ", "gyrX", "gyrY", "gyrZ")
IMU_UNITS = ("m/s2", "m/s2", "m/s2", "dps", "dps", "dps")
RATE_TOLERANCE = 0.005  # a rate within 0.5% below the impulse's counts as the impulse's (104 vs 104.2 Hz)


class RateError(StudioError):
    """The impulse samples faster than the sensor can; ``str()`` gives both rates."""


@dataclass(frozen=True)
class Driver:
    id: str
    kind: str  # "imu", "microphone" or "serial"
    title: str
    parts: tuple[str, ...] = ()  # prefixes of the part names in the board catalogue
    platforms: tuple[str, ...] = ()  # PlatformIO platforms the code is written for (empty: any)
    boards: tuple[str, ...] = ()  # board ids it is limited to (pins, revisions), empty: any
    lib_deps: tuple[str, ...] = ()
    axes: tuple[int, ...] = (3, 6)  # frame sizes it fills: acceleration, then angular rate
    rates: tuple[float, ...] = ()  # output data rates it sets, ascending (Hz)
    codes: tuple[int, ...] = ()  # the register value of each rate, when the template writes registers
    max_rate: float | None = None  # a sensor told a rate picks its own at or above it, up to this
    rate_how: str = ""  # how the rate is set, for the README and docs

    def fits(self, board: Board, kind: str, axes: int) -> bool:
        parts = board.sensors.get(kind, [])
        return (self.kind == kind and axes in self.axes
                and any(p.upper().startswith(q.upper()) for p in parts for q in self.parts)
                and (not self.platforms or board.platformio.get("platform") in self.platforms)
                and (not self.boards or board.id in self.boards))

    @property
    def highest_rate(self) -> float | None:
        return self.rates[-1] if self.rates else self.max_rate


@dataclass(frozen=True)
class SensorRate:
    hz: float  # what the sensor is set to
    code: int | None  # its register value (None: the library takes the rate itself)
    note: str | None  # said in the export's notes when it differs from the impulse's frequency


def sensor_rate(driver: Driver, fs: float) -> SensorRate | None:
    """The rate ``driver``'s sensor runs at for an impulse sampling at ``fs`` Hz (None: not an IMU that
    sets one). Raises RateError when the sensor cannot give ``fs``."""
    top = driver.highest_rate
    if top is None:
        return None
    if fs > top * (1 + RATE_TOLERANCE):
        raise RateError(f"the impulse samples at {fs:g} Hz; the {driver.title} gives at most {top:g} Hz "
                        f"(design the impulse at {top:g} Hz or less)")
    if not driver.rates:
        return SensorRate(fs, None, None)
    i = next(i for i, r in enumerate(driver.rates) if r >= fs * (1 - RATE_TOLERANCE))
    rate = driver.rates[i]
    note = None if abs(rate - fs) <= RATE_TOLERANCE * fs else (
        f"the {driver.title.split(' (')[0]} runs at {rate:g} Hz, the lowest of its rates at or above the impulse's "
        f"{fs:g} Hz; the firmware takes its newest reading every {1000 / fs:.4g} ms")
    return SensorRate(rate, driver.codes[i] if driver.codes else None, note)


DRIVERS = (
    Driver("lsm9ds1", "imu", "LSM9DS1 (Arduino_LSM9DS1)", ("LSM9DS1",), ("nordicnrf52",),
           lib_deps=("arduino-libraries/Arduino_LSM9DS1@^1.1.1",),
           rates=(14.9, 59.5, 119.0, 238.0, 476.0, 952.0), codes=(1, 2, 3, 4, 5, 6),
           rate_how="ODR_G in CTRL_REG1_G and ODR_XL in CTRL_REG6_XL (the library starts both at 119 Hz)"),
    Driver("bmi270", "imu", "BMI270 (Arduino_BMI270_BMM150)", ("BMI270",), ("nordicnrf52",),
           lib_deps=("arduino-libraries/Arduino_BMI270_BMM150@^1.1.1",),
           rates=(25.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1600.0), codes=(6, 7, 8, 9, 10, 11, 12),
           rate_how="the odr fields of ACC_CONF and GYR_CONF (the library starts both at 100 Hz)"),
    Driver("lsm6dsox", "imu", "LSM6DSOX (Arduino_LSM6DSOX)", ("LSM6DSOX",), ("raspberrypi",),
           lib_deps=("arduino-libraries/Arduino_LSM6DSOX@^1.1.1",),
           rates=(12.5, 26.0, 52.0, 104.0, 208.0, 416.0, 833.0, 1660.0, 3330.0, 6660.0), codes=tuple(range(1, 11)),
           rate_how="ODR_XL in CTRL1_XL and ODR_G in CTRL2_G (the library starts both at 104 Hz)"),
    Driver("lsm6dsl", "imu", "LSM6DSL on I2C2 (STM32duino LSM6DSL)", ("LSM6DSL",), ("ststm32",),
           ("disco_l475vg_iot01a",), lib_deps=("stm32duino/STM32duino LSM6DSL@^1.0.4",),
           rates=(12.5, 26.0, 52.0, 104.0, 208.0, 416.0, 833.0, 1660.0, 3330.0, 6660.0),
           rate_how="Set_X_ODR and Set_G_ODR (the library starts at 104 Hz)"),
    Driver("bhy2", "imu", "BHI260AP (Arduino_BHY2)", ("BHI260AP",), ("nordicnrf52",), ("nicla_sense_me",),
           # Arduino_BHY2's BLEHandler.h includes ArduinoBLE.h without declaring the dependency
           lib_deps=("arduino-libraries/Arduino_BHY2@^1.0.0", "arduino-libraries/ArduinoBLE@^1.3.0"),
           max_rate=400.0, rate_how="the rate given to SensorXYZ::begin (the sensor hub runs the nearest rate it "
                                    "has at or above it; its default firmware goes up to 400 Hz)"),
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
