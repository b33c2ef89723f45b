"""Serial ingest: lines per second and CPU of the reader, over a real pseudo-terminal.

    .venv/bin/python benchmarks/bench_serial_ingest.py

A writer process sends data-forwarder lines of 6 values (paced at 20,000 lines/s, then as fast
as the pty takes them); this process reads them in chunks and parses them into numpy, as the
app does. Every line carries its index, so loss is checked, not assumed. CPU is this process's
CPU time over wall time, in % of one core. Prints a table and writes
benchmarks/results/serial_ingest.json.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
from results_file import write_results

from studio.devices.serial_source import SerialTextSource

WRITER = r"""
import os, sys, time
fd = int(sys.argv[1]); total = int(sys.argv[2]); rate = float(sys.argv[3])
batch = 500
lines = [f"{i},{(i * 7) % 1000 / 100:.2f},-{(i * 3) % 500 / 10:.1f},{i % 97},0.0125,{i % 5}\n".encode()
         for i in range(total)]
time.sleep(0.3)
os.write(fd, b"0.5,1\n")  # the cut first line a joining reader drops
start = time.monotonic()
for b in range(0, total, batch):
    if rate > 0:
        wait = start + b / rate - time.monotonic()
        if wait > 0:
            time.sleep(wait)
    data = b"".join(lines[b:b + batch])
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
print(time.monotonic() - start)
"""


def run_case(total: int, rate: float) -> dict:
    master, slave = os.openpty()
    path = os.ttyname(slave)
    src = SerialTextSource(path, baud=115200, frequency_hz=rate or 1.0, axis_names=list("abcdef"))
    src.open()
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(master), str(total), str(rate)],
                              pass_fds=(master,), stdout=subprocess.PIPE, text=True)
    got, n = [], 0
    cpu0 = None
    deadline = time.monotonic() + 120
    while n < total and time.monotonic() < deadline:
        chunk = src.read()
        if len(chunk):
            if cpu0 is None:
                cpu0, t0 = time.process_time(), time.monotonic()
            got.append(chunk)
            n += len(chunk)
    wall = time.monotonic() - t0
    cpu = time.process_time() - cpu0
    writer_seconds = float(writer.communicate(timeout=30)[0])
    src.close()
    os.close(master)
    os.close(slave)
    data = np.concatenate(got)
    lost = total - len(data)
    in_order = bool(len(data) == total and np.array_equal(data[:, 0], np.arange(total)))
    return {"paced_at": rate or "max", "lines": total, "received": len(data), "lost": lost, "in_order": in_order,
            "lines_per_s": round(len(data) / wall), "writer_seconds": round(writer_seconds, 3),
            "cpu_percent_of_one_core": round(100 * cpu / wall, 1)}


def main() -> int:
    results = [run_case(200_000, 20_000.0), run_case(400_000, 0.0)]
    print(f"{'paced at':>10} {'lines':>8} {'lost':>5} {'in order':>9} {'lines/s':>9} {'CPU % (1 core)':>15}")
    for r in results:
        print(f"{r['paced_at']!s:>10} {r['lines']:>8} {r['lost']:>5} {r['in_order']!s:>9} {r['lines_per_s']:>9} "
              f"{r['cpu_percent_of_one_core']:>15}")
    write_results("serial_ingest", {"results": results})
    return 0 if all(r["lost"] == 0 and r["in_order"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
