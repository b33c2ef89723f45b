"""TinyML Studio's offline native platform: the host gcc, no packages from the registry."""

from platformio.public import PlatformBase


class NativePlatform(PlatformBase):
    """Programs for this computer; ``pio run -t exec`` (or ``-t upload``) runs the program."""

    def is_embedded(self):
        return False
