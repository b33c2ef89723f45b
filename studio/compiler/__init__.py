"""Ahead-of-time compiler from int8 TFLite models to dependency-free C99 (no TensorFlow, no Qt)."""

from studio.compiler.compile import CompileResult, compile_model
from studio.compiler.errors import CompileError

__all__ = ["CompileError", "CompileResult", "compile_model"]
