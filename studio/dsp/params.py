"""DSP blocks share the registry parameter schema; their errors are parameter errors."""

from studio.params import Param, next_pow2, resolve
from studio.params import ParamError as DspError

__all__ = ["DspError", "Param", "next_pow2", "resolve"]
