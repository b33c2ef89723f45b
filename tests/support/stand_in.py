"""A stand-in of the Arduino API for building an exported board firmware with the host compilers: Serial and the
sensor fed from stdin, I2C devices as register files whose writes are logged on stderr (``#wire BUS ADDR
REG=VALUE``), and the IMU libraries' calls the sensor code makes, each starting its registers as the real
library does. It checks the firmware's own logic (pacing, data-ready, rates, formats), not the libraries."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ARDUINO_H = """\
#pragma once
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
uint64_t stub_now_us;
int stub_done;
static inline uint32_t micros(void) { return (uint32_t)(stub_now_us += 50u); }
static inline uint32_t millis(void) { return (uint32_t)(stub_now_us / 1000u); }
static inline void delay(unsigned long ms) { stub_now_us += 1000u * ms; }
static inline void noInterrupts(void) {}
static inline void interrupts(void) {}
struct StubSerial {
    void begin(unsigned long) {}
    explicit operator bool() const { return true; }
    int available() { int c = getchar(); if (c == EOF) { stub_done = 1; return 0; } ungetc(c, stdin); return 1; }
    int read() { return getchar(); }
    void print(const char *s) { fputs(s, stdout); }
    void println(const char *s) { fputs(s, stdout); fputs("\\r\\n", stdout); }
    size_t write(const uint8_t *b, size_t n) { return fwrite(b, 1, n, stdout); }
};
StubSerial Serial;
"""
WIRE_H = """\
#pragma once
#include <Arduino.h>
struct TwoWire {  /* devices as register files; a write is logged on stderr */
    const char *name;
    uint8_t regs[128][256];
    uint8_t address = 0, reg = 0;
    int pending = 0;
    bool have_reg = false;
    explicit TwoWire(const char *n) : name(n), regs() {}
    void begin() {}
    void beginTransmission(uint8_t a) { address = a; have_reg = false; }
    size_t write(uint8_t v) {
        if (!have_reg) { reg = v; have_reg = true; return 1; }
        regs[address][reg] = v;
        fprintf(stderr, "#wire %s 0x%02X 0x%02X=0x%02X\\n", name, address, reg, v);
        reg++;
        return 1;
    }
    uint8_t endTransmission(bool stop = true) { (void)stop; return 0; }
    size_t requestFrom(uint8_t a, size_t n) { address = a; pending = (int)n; return n; }
    int available() { return pending; }
    int read() { pending--; return regs[address][reg++]; }
    void poke(uint8_t a, uint8_t r, uint8_t v) { regs[a][r] = v; }  /* what the library's begin() sets */
};
TwoWire Wire("Wire"), Wire1("Wire1");
"""

# an IMU library: begin() sets the registers the real one sets; a new reading is ready on every other call
# (the firmware must wait for it); readings come from stdin, in g
IMU_H = """\
#pragma once
#include <Arduino.h>
#include <Wire.h>
struct StubIMU {
    unsigned calls = 0;
    int begin() { %(begin)s return 1; }
    int accelerationAvailable() { return (calls++ %% 2u) == 1u; }
    int readAcceleration(float &x, float &y, float &z) {
        if (scanf("%%f,%%f,%%f", &x, &y, &z) != 3) { stub_done = 1; return 0; }
        return 1;
    }
    int readGyroscope(float &x, float &y, float &z) { x = y = z = 0.0f; return 1; }
};
StubIMU IMU;
void stub_poll(void) {}
"""
IMU_LIBRARIES = {
    # Arduino_LSM9DS1 1.1.1: CTRL_REG1_G 0x78 (119 Hz, 2000 dps), CTRL_REG6_XL 0x70 (119 Hz, 4 g) on Wire1 at 0x6B
    "Arduino_LSM9DS1.h": "Wire1.poke(0x6B, 0x10, 0x78); Wire1.poke(0x6B, 0x20, 0x70);",
    # Arduino_BMI270_BMM150: ACC_CONF 0x98 (100 Hz), GYR_CONF 0xA8 (100 Hz) on Wire1 at 0x68
    "Arduino_BMI270_BMM150.h": "Wire1.poke(0x68, 0x40, 0x98); Wire1.poke(0x68, 0x42, 0xA8);",
    # Arduino_LSM6DSOX 1.1: CTRL1_XL 0x4A, CTRL2_G 0x4C (104 Hz) on Wire at 0x6A
    "Arduino_LSM6DSOX.h": "Wire.poke(0x6A, 0x10, 0x4A); Wire.poke(0x6A, 0x11, 0x4C);",
}
PDM_H = """\
#pragma once
#include <Arduino.h>
struct StubPDM {  /* int16 samples from stdin, 512 bytes an interrupt */
    void (*callback)(void) = nullptr;
    uint8_t data[512];
    int have = 0;
    void onReceive(void (*f)(void)) { callback = f; }
    int begin(int, long) { return 1; }
    int available() {
        if (have == 0 && (have = (int)fread(data, 1, sizeof data, stdin)) == 0) stub_done = 1;
        return have;
    }
    int read(void *dst, int n) {
        n = n < have ? n : have;
        memcpy(dst, data, (size_t)n);
        memmove(data, data + n, (size_t)(have - n));
        have -= n;
        return n;
    }
};
StubPDM PDM;
void stub_poll(void) { if (PDM.callback) PDM.callback(); }
"""
STUB_MAIN = """\
void setup(); void loop(); void stub_poll(void); extern int stub_done;
int main() { setup(); while (!stub_done) { stub_poll(); loop(); } for (int i = 0; i < 64; i++) loop(); return 0; }
"""


WIRE_LINE = re.compile(r"^#wire (\w+) 0x([0-9A-F]{2}) 0x([0-9A-F]{2})=0x([0-9A-F]{2})$")


def host_firmware(project: Path, folder: Path, extra_stubs: Path | None = None) -> Path:
    """The board firmware (src/main.cpp, src/sensor.h, lib/impulse) built with the host compilers against the
    stand-in, its sensor and Serial fed from stdin; headers in ``extra_stubs`` stand in for more libraries."""
    stubs = folder / "stubs"
    stubs.mkdir(parents=True)
    files = {"Arduino.h": ARDUINO_H, "Wire.h": WIRE_H, "PDM.h": PDM_H, "stub_main.cpp": STUB_MAIN}
    files.update({name: IMU_H % {"begin": begin} for name, begin in IMU_LIBRARIES.items()})
    if extra_stubs is not None:
        files.update({p.name: p.read_text() for p in extra_stubs.iterdir()})
    for name, text in files.items():
        (stubs / name).write_text(text)
    lib = next(d for d in (project / "lib").iterdir() if d.is_dir())  # lib/impulse or lib/capture
    objects = []
    for source in sorted(lib.glob("*.c")):
        obj = folder / (source.stem + ".o")
        subprocess.run(["gcc", "-std=gnu11", "-O2", "-c", str(source), "-o", str(obj)], check=True)
        objects.append(str(obj))
    program = folder / "firmware"
    out = subprocess.run(["g++", "-std=gnu++17", "-O1", "-Wall", "-Wextra", "-Werror", "-Wno-unused-function",
                          f"-I{stubs}", f"-I{lib}", "-o", str(program), str(project / "src/main.cpp"),
                          str(stubs / "stub_main.cpp"), *objects, "-lm"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    return program


def register_writes(stderr: str) -> dict[tuple[str, int, int], int]:
    """The last value the firmware wrote to each (bus, device, register)."""
    writes = {}
    for line in stderr.splitlines():
        m = WIRE_LINE.match(line.strip())
        if m:
            writes[(m[1], int(m[2], 16), int(m[3], 16))] = int(m[4], 16)
    return writes
