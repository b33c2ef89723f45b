"""Running firmware: its result lines, uploads, serial monitors, the emulated board and the agreement check."""
