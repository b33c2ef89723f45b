"""Deploying to boards with PlatformIO, offline.

``pio_kit`` installs what PlatformIO needs to build without its registry (a local SCons package, a host
platform, a generic Cortex-M platform and a toolchain package linking to the system arm-none-eabi-gcc) into a
PlatformIO core dir; ``platformio`` runs ``pio`` on a project with that core, streaming its log.
"""
