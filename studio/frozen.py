"""The frozen app (PyInstaller) also stands in for the Python interpreter.

PlatformIO runs SCons as ``<python> <tool-scons>/scons.py ARGS`` with ``PYTHONEXEPATH`` (else
``sys.executable``) as the interpreter, and Studio itself runs helpers as ``<python> -c CODE`` (the TFLM
arena probe, the offline kit's SCons probe). A frozen app has no Python beside it, so its executable answers
those calls itself: ``main`` looks at the command line first and, when it reads like a Python one, runs it
the way ``python`` would, with the modules bundled in the app:

- ``EXE [FLAGS] SCRIPT.py ARGS...``  runs the script as ``__main__`` (``runpy.run_path``)
- ``EXE [FLAGS] -m MODULE ARGS...``  runs the module as ``__main__`` (``runpy.run_module``)
- ``EXE [FLAGS] -c CODE ARGS...``    runs the code in a fresh ``__main__``
- ``EXE [FLAGS] - ARGS...``          runs the code read from standard input

FLAGS are the interpreter's options that may come first: ``-u`` (unbuffered output) and ``-B`` (no
bytecode) take effect, ``-W ARG`` adds a warnings filter, and ``-E -s -S -I -O -OO -q -b -bb -d -v -R -P
-X OPT`` are accepted and ignored. Anything else, flags without a script, ``-c``, ``-m`` or ``-`` included, is
the ``tinyml-studio`` command line: no command of the app ends in ``.py``, so the two never meet.

Importing this module is cheap (the standard library and ``studio.paths``); the app's CLI is imported only
when it runs, since a Python command line never needs it.
"""

from __future__ import annotations

import builtins
import contextlib
import os
import runpy
import sys
import traceback
import types
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

from studio.paths import is_frozen

# one-letter options of python that take no argument (accepted; -u and -B take effect)
_NO_ARG_FLAGS = frozenset("uBEsSIOqbdvRP")
# options whose argument follows, attached (-Wignore) or as the next word (-W ignore)
_ARG_FLAGS = frozenset("WX")
_SCRIPT_SUFFIXES = (".py", ".pyw", ".pyc")


@dataclass
class InterpreterCall:
    """A Python command line: what to run (``script``, ``module``, ``code`` or stdin), its arguments, and the
    interpreter flags given before it."""

    kind: str  # "script", "module", "code" or "stdin"
    target: str  # the script's path, the module's name, the code; "-" for stdin
    args: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)  # one letter each: "u", "B", ...
    warnoptions: list[str] = field(default_factory=list)
    xoptions: list[str] = field(default_factory=list)


def parse_interpreter_args(args: Sequence[str]) -> InterpreterCall | None:
    """``args`` (the command line after the executable) as a Python call, or None when it is not one (then
    it is the app's own command line). A Python flag that needs an argument and lacks it is not a call."""
    args = list(args)
    flags: list[str] = []
    warnoptions: list[str] = []
    xoptions: list[str] = []
    i = 0
    dashes = False  # after ``--`` the next word is the script, whatever its name
    while i < len(args):
        word = args[i]
        if word == "-":
            return InterpreterCall("stdin", "-", args[i + 1:], flags, warnoptions, xoptions)
        if word == "--":
            i, dashes = i + 1, True
            break
        if not word.startswith("-") or word.startswith("--"):
            break
        letters = word[1:]
        j = 0
        while j < len(letters):
            letter = letters[j]
            if letter in _NO_ARG_FLAGS:
                flags.append(letter)
                j += 1
                continue
            if letter not in _ARG_FLAGS and letter not in "cm":
                return None  # not a Python option (-h, -x, ...): the app's command line
            value = letters[j + 1:]
            if not value:
                i += 1
                if i >= len(args):
                    return None
                value = args[i]
            if letter == "c":
                return InterpreterCall("code", value, args[i + 1:], flags, warnoptions, xoptions)
            if letter == "m":
                return InterpreterCall("module", value, args[i + 1:], flags, warnoptions, xoptions)
            (warnoptions if letter == "W" else xoptions).append(value)
            break
        i += 1
    if i < len(args) and (dashes or args[i].endswith(_SCRIPT_SUFFIXES)):
        return InterpreterCall("script", args[i], args[i + 1:], flags, warnoptions, xoptions)
    return None  # flags alone (``EXE -v``) would start python's REPL: left to the app, which refuses them


def _apply_flags(call: InterpreterCall) -> None:
    if "B" in call.flags:
        sys.dont_write_bytecode = True
    if "u" in call.flags:
        _unbuffered()
    for option in call.warnoptions:
        sys.warnoptions.append(option)
        try:
            warnings._setoption(option)  # type: ignore[attr-defined]  # what python does for -W
        except warnings._OptionError as e:  # type: ignore[attr-defined]
            print(f"Invalid -W option ignored: {e}", file=sys.stderr)


def _unbuffered() -> None:
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(write_through=True)


def _fresh_main() -> types.ModuleType:
    module = types.ModuleType("__main__")
    module.__builtins__ = builtins  # type: ignore[attr-defined]
    sys.modules["__main__"] = module
    return module


def run_interpreter_call(call: InterpreterCall) -> int:
    """Run ``call`` as ``python`` would; the exit status (an uncaught exception prints its traceback: 1)."""
    _apply_flags(call)
    try:
        if call.kind == "script":
            script = os.path.abspath(call.target)
            if not os.path.exists(script):
                print(f"{sys.executable}: can't open file {script!r}: [Errno 2] No such file or directory",
                      file=sys.stderr)
                return 2
            sys.argv = [call.target, *call.args]
            sys.path.insert(0, os.path.dirname(script))
            runpy.run_path(script, run_name="__main__")
        elif call.kind == "module":
            sys.argv = ["-m", *call.args]  # run_module puts the module's file in argv[0]
            sys.path.insert(0, os.getcwd())
            runpy.run_module(call.target, run_name="__main__", alter_sys=True)
        else:
            if call.kind == "code":
                sys.argv, source, name = ["-c", *call.args], call.target, "<string>"
            else:
                sys.argv, source, name = ["-", *call.args], sys.stdin.read(), "<stdin>"
            sys.path.insert(0, "")
            exec(compile(source, name, "exec"), _fresh_main().__dict__)
    except SystemExit:
        raise
    except BaseException:  # as python does: the traceback (from the caller's code on), status 1
        kind, value, tb = sys.exc_info()
        traceback.print_exception(kind, value, tb.tb_next if tb is not None else None)
        return 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
    return 0


def _environment_for_children() -> None:
    """Undo what PyInstaller's bootloader did to the environment, so that the programs the app runs (gcc,
    QEMU, a shell) load the system's libraries, not the app's: it prepends its folder to ``LD_LIBRARY_PATH``
    and keeps the original in ``LD_LIBRARY_PATH_ORIG``. This process is not affected (the loader read the
    variable at start-up); the app's own executable, run again, gets it set anew by its bootloader."""
    original = os.environ.pop("LD_LIBRARY_PATH_ORIG", None)
    if original is not None:
        os.environ["LD_LIBRARY_PATH"] = original
    else:
        os.environ.pop("LD_LIBRARY_PATH", None)


def _honour_python_environment() -> None:
    """The frozen interpreter ignores ``PYTHON*`` variables; honour the two that pio's runs set."""
    encoding = os.environ.get("PYTHONIOENCODING")
    if encoding:
        name, _, errors = encoding.partition(":")
        for stream in (sys.stdout, sys.stderr):
            reconfigure = getattr(stream, "reconfigure", None)
            if reconfigure is not None:
                with contextlib.suppress(LookupError, ValueError):
                    reconfigure(**({"encoding": name} if name else {}), **({"errors": errors} if errors else {}))
    if os.environ.get("PYTHONUNBUFFERED"):
        _unbuffered()


def main(argv: Sequence[str] | None = None) -> int:
    """The frozen app's entry point: a Python command line runs as Python, anything else is ``tinyml-studio``."""
    argv = list(sys.argv if argv is None else argv)
    if is_frozen():
        import multiprocessing

        multiprocessing.freeze_support()  # a worker of the feature pool (spawn) runs here and exits
        _environment_for_children()
        _honour_python_environment()
    call = parse_interpreter_args(argv[1:])
    if call is not None:
        return run_interpreter_call(call)
    # here, not at the top: an interpreter call (a feature-pool worker, python -c) must not load the CLI
    from studio.cli import main as cli_main

    return cli_main(argv[1:])
