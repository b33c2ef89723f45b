"""TinyML Studio's offline Cortex-M platform: the system arm-none-eabi-gcc through a local toolchain package."""

from platformio.public import PlatformBase


class TinymlcortexmPlatform(PlatformBase):
    """Generic Cortex-M boards; ``pio run -t exec`` runs the firmware on the matching QEMU mps2 board."""

    def is_embedded(self):
        return True
