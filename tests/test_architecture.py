"""The core stays Qt-free, and neither the CLI's help nor the core imports TensorFlow."""

from __future__ import annotations

import ast
import subprocess
import sys

from conftest import ROOT

GUI_MODULES = {"PySide6", "pyqtgraph", "shiboken6", "PyQt5", "PyQt6"}
HEAVY = {"tensorflow", "tf_keras", "tensorflow_model_optimization", "keras"}


def core_files():
    for path in sorted((ROOT / "studio").rglob("*.py")):
        rel = path.relative_to(ROOT / "studio")
        if rel.parts[0] != "ui":
            yield path


def imported_roots(path):
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module.split(".")[0]


def test_core_modules_never_import_qt():
    offenders = [(str(p.relative_to(ROOT)), m) for p in core_files() for m in imported_roots(p) if m in GUI_MODULES]
    assert offenders == []


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys\nprint('\\n'.join(sys.modules))"],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return {m.split(".")[0] for m in out.stdout.split()}


def test_importing_every_core_module_loads_no_qt_and_no_tensorflow():
    names = []
    for p in core_files():
        rel = p.relative_to(ROOT).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        if parts[-1] != "__main__":
            names.append(".".join(parts))
    loaded = _modules_after("\n".join(f"import {n}" for n in names))
    assert not loaded & GUI_MODULES
    assert not loaded & HEAVY


def test_help_does_not_import_tensorflow():
    code = (
        "from studio.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "for c in ('import', 'new', 'boards', 'export-data'):\n"
        "    try:\n        main([c, '--help'])\n    except SystemExit:\n        pass\n"
    )
    loaded = _modules_after(code)
    assert not loaded & HEAVY
    assert not loaded & GUI_MODULES


def test_console_script_and_module_entry_point_work():
    venv_script = ROOT / ".venv" / "bin" / "tinyml-studio"
    out = subprocess.run([sys.executable, "-m", "studio", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("tinyml-studio ")
    if venv_script.exists():
        out2 = subprocess.run([str(venv_script), "--help"], capture_output=True, text=True)
        assert out2.returncode == 0 and "import" in out2.stdout


def test_first_window_does_not_import_tensorflow():
    code = (
        "import os\nos.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
        "from PySide6.QtCore import QSettings\n"
        "from studio.ui.app import make_app\nfrom studio.ui.main_window import MainWindow\n"
        "app = make_app([])\nw = MainWindow(QSettings('/dev/null', QSettings.Format.IniFormat))\n"
        "w.show()\napp.processEvents()\n"
    )
    loaded = _modules_after(code)
    assert not loaded & HEAVY
    assert "sklearn" not in loaded and "ai_edge_litert" not in loaded
