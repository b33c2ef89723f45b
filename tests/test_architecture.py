"""The shape of the code: the core stays Qt-free and neither the CLI's help nor the core imports TensorFlow;
packages import only downward through the layers of docs/architecture.md, nothing imports in a circle (lazy and
type-checking imports count), and no module is over 400 lines."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

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


# ------------------------------------------------------------------------------------------- layers and circles

# lowest first; a package may import from its own package and from lower layers only (docs/architecture.md)
LAYERS = (
    {"studio", "errors", "text", "paths"},  # ``studio`` is the package itself (its version)
    {"fsutil", "jobs", "c_literals", "params"},
    {"code_templates"},
    {"formats", "boards", "cortexm"},
    {"project"},
    {"devices", "dsp", "compiler"},
    {"learn", "dataset"},
    {"impulse_c"},
    {"deploy", "estimate"},
    {"demo"},
    {"ui"},
    {"cli"},
    {"frozen", "__main__"},  # the entry points
)
# inside a package, sub-packages in order, lowest first
SUB_LAYERS = {"deploy": ("pio", "running", "export")}
MAX_LINES = 400


def studio_modules() -> dict[str, Path]:
    out = {}
    for path in sorted((ROOT / "studio").rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        out[".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)] = path
    return out


def import_graph() -> dict[str, set[str]]:
    """Module -> the studio modules it imports anywhere (top level, in functions, under TYPE_CHECKING)."""
    modules = studio_modules()
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets |= {a.name for a in node.names if a.name.split(".")[0] == "studio"}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([base] if base else []))
                if base.split(".")[0] == "studio":
                    targets |= {f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names}
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def _part(module: str, depth: int = 1) -> str:
    parts = module.split(".")
    return parts[depth] if len(parts) > depth else "studio" if depth == 1 else ""


def _layer(part: str) -> int:
    return next(i for i, names in enumerate(LAYERS) if part in names)


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Every import that goes up (or sideways) through the layers, or up through a package's sub-layers."""
    bad = []
    for source, targets in graph.items():
        for target in targets:
            a, b = _part(source), _part(target)
            if a != b and _layer(b) >= _layer(a):
                bad.append(f"{source} imports {target} (layer {_layer(b)} from layer {_layer(a)})")
            order = SUB_LAYERS.get(a)
            if a == b and order and _part(source, 2) in order and _part(target, 2) in order \
                    and order.index(_part(target, 2)) > order.index(_part(source, 2)):
                bad.append(f"{source} imports {target} ({' < '.join(order)})")
            if a == b == "ui" and _ui_upward(source, target):
                bad.append(f"{source} imports {target} (pages use shared widgets, never the window or each other)")
    return sorted(bad)


def _ui_upward(source: str, target: str) -> bool:
    shell = {"studio.ui.main_window", "studio.ui.app"}
    in_pages = [m.startswith("studio.ui.pages.") for m in (source, target)]
    if target in shell:
        return source not in shell
    if in_pages[1] and not in_pages[0]:
        return source not in shell
    return all(in_pages) and _part(source, 3) != _part(target, 3)


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_every_package_has_a_layer():
    parts = {_part(m) for m in studio_modules()}
    placed = set().union(*LAYERS)
    assert parts - placed == set(), "add the new package to LAYERS (and to docs/architecture.md)"


def test_packages_import_only_downward():
    assert upward_imports(import_graph()) == []


def test_no_module_imports_in_a_circle():
    assert circles(import_graph()) == []


def test_the_guards_catch_what_they_guard():
    graph = import_graph()
    graph["studio.project.store"] = graph["studio.project.store"] | {"studio.learn.runs"}
    graph["studio.deploy.pio.build"] = graph["studio.deploy.pio.build"] | {"studio.deploy.export.project"}
    graph["studio.ui.run_picker"] = graph["studio.ui.run_picker"] | {"studio.ui.pages.test"}
    bad = upward_imports(graph)
    assert any(b.startswith("studio.project.store imports studio.learn.runs") for b in bad)
    assert any(b.startswith("studio.deploy.pio.build imports studio.deploy.export.project") for b in bad)
    assert any(b.startswith("studio.ui.run_picker imports studio.ui.pages.test") for b in bad)
    graph["studio.errors"] = graph["studio.errors"] | {"studio.paths"}
    graph["studio.paths"] = graph["studio.paths"] | {"studio.errors"}
    assert ["studio.errors", "studio.paths"] in circles(graph)


def test_no_module_is_over_400_lines():
    long = {str(p.relative_to(ROOT)): n for p in studio_modules().values()
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}
