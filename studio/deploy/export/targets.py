"""The deploy targets, one registry entry each: what the target is called, whether it needs a trained run,
whether it is one zip rather than a folder, its default destination, and the module that renders it.

The module (``firmware``, ``capture``, ``library`` here) has ``context(run, board, project_name,
test_window)``, building what its templates see, and ``stage(writer, run, board)``, rendering its files into
the staging folder and returning its PlatformIO environments. The registry names the module rather than
importing it, so the CLI can list the targets for ``--help`` without loading the model compiler. Adding a
target is one entry here, its module, and its templates under ``project_templates/firmware/``; the CLI's
``--target`` choices and the Deploy page's list come from ``TARGETS``."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

from studio.deploy.export.errors import ExportError
from studio.params import Entry

if TYPE_CHECKING:  # the types only: importing them would load the compiler (see above)
    import numpy as np

    from studio.boards.registry import Board
    from studio.deploy.export.context import Env
    from studio.deploy.export.writer import Writer
    from studio.learn.runs import Run


@dataclass(frozen=True)
class DeployTarget(Entry):
    needs_run: bool
    archive: bool  # one zip file (its name gets ``.zip``), not a PlatformIO project folder
    suffix: str  # of the default destination, after the board's id
    module: str  # the module rendering it: ``context`` and ``stage``

    def default_name(self, board_id: str) -> str:
        """The export's default folder (or zip) name for ``board_id``."""
        return board_id + self.suffix

    def implementation(self) -> ModuleType:
        return importlib.import_module(self.module)

    def context(self, run: Run | None, board: Board, project_name: str,
                test_window: np.ndarray | None) -> dict[str, Any]:
        return self.implementation().context(run, board, project_name, test_window)

    def stage(self, writer: Writer, run: Run | None, board: Board) -> list[Env]:
        return self.implementation().stage(writer, run, board)


TARGETS: dict[str, DeployTarget] = {t.name: t for t in (
    DeployTarget("firmware", "Firmware project", 1, (),
                 "a PlatformIO project: the board's sensor feeding the impulse, results on its serial port",
                 needs_run=True, archive=False, suffix="", module="studio.deploy.export.firmware"),
    DeployTarget("capture", "Data-capture firmware", 1, (),
                 "a PlatformIO project streaming the board's IMU or microphone to the app's capture",
                 needs_run=False, archive=False, suffix="-capture", module="studio.deploy.export.capture"),
    DeployTarget("library", "C library (zip)", 1, (),
                 "the impulse as portable C (DSP, model, output lines) with a Makefile and an example",
                 needs_run=True, archive=True, suffix="-library.zip", module="studio.deploy.export.library"),
)}


def get_target(name: str) -> DeployTarget:
    try:
        return TARGETS[name]
    except KeyError:
        raise ExportError(f"unknown export target {name!r} (one of {', '.join(TARGETS)})") from None
