"""The demo: the whole product on its embedded default, without hardware.

``flow.run(DemoParams(workdir), progress)`` creates a project, records labeled gestures from virtual boards
(real pseudo-terminals, the capture job the Capture page uses), designs a spectral impulse, trains and
quantizes, tests, estimates for the Arduino Nano 33 BLE Sense, exports firmware, builds it for the host and
for the emulated Cortex-M4 with the offline PlatformIO kit, runs the host program on the testing windows and
flashes the emulated board to classify live gestures, comparing every result with Python. ``report`` turns
the outcome into the short text the command prints.
"""
