"""Errors of building and running bare-metal programs; each ``str()`` is one line."""

from __future__ import annotations

from studio.errors import StudioError


class CortexMError(StudioError):
    pass


class ToolMissingError(CortexMError):
    """A compiler, binutils tool or QEMU is not installed."""


class BuildError(CortexMError):
    """Compiling or linking failed. ``str()`` names the tool and the first error; ``log`` has everything."""

    def __init__(self, message: str, log: str = "", command: list[str] | None = None) -> None:
        super().__init__(message)
        self.log = log
        self.command = command or []


class QemuError(CortexMError):
    """QEMU could not run the program (bad machine, plugin not loaded, ...) or timed out."""

    def __init__(self, message: str, stdout: str = "", stderr: str = "") -> None:
        super().__init__(message)
        self.stdout = stdout
        self.stderr = stderr


class QemuTimeout(QemuError):
    """The program did not exit in time; QEMU was killed."""
