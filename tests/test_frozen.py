"""The frozen app's executable as a Python interpreter (studio/frozen.py), checked with the normal Python: the
command-line dispatch in a subprocess, and how find_pio, pio's environment and the data paths behave frozen."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from studio import paths
from studio.deploy.pio import kit as pio_kit
from studio.deploy.pio.runner import find_pio, pio_command, pio_environment
from studio.frozen import InterpreterCall, parse_interpreter_args

# what the frozen executable does with its command line, run by the normal Python
ENTRY = "import sys; from studio.frozen import main; sys.exit(main(sys.argv))"


def frozen_like(*args: str, stdin: str = "", cwd: Path | str = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", ENTRY, *args], input=stdin, capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=120)


@pytest.mark.parametrize(("args", "expected"), [
    (["scons.py", "-Q", "--jobs", "2"], InterpreterCall("script", "scons.py", ["-Q", "--jobs", "2"])),
    (["-u", "-B", "/x/scons.py", "a"], InterpreterCall("script", "/x/scons.py", ["a"], ["u", "B"])),
    (["-uBEs", "tool.py"], InterpreterCall("script", "tool.py", [], ["u", "B", "E", "s"])),
    (["-I", "-OO", "-m", "platformio", "run", "-e", "x"],
     InterpreterCall("module", "platformio", ["run", "-e", "x"], ["I", "O", "O"])),
    (["-mplatformio", "--version"], InterpreterCall("module", "platformio", ["--version"])),
    (["-c", "print(1)", "a", "-m", "b"], InterpreterCall("code", "print(1)", ["a", "-m", "b"])),
    (["-Bc", "print(1)"], InterpreterCall("code", "print(1)", [], ["B"])),
    (["-W", "ignore", "-Xutf8", "-c", "pass"], InterpreterCall("code", "pass", [], [], ["ignore"], ["utf8"])),
    (["-", "x"], InterpreterCall("stdin", "-", ["x"])),
    (["-E", "--", "script", "y"], InterpreterCall("script", "script", ["y"], ["E"])),
])
def test_python_command_lines_are_recognised(args, expected):
    assert parse_interpreter_args(args) == expected


@pytest.mark.parametrize("args", [
    [], ["--version"], ["-h"], ["--help"], ["boards", "--json"], ["new", "proj.py"], ["import", "p", "a.py"],
    ["capture", "p", "--device", "virtual"], ["-c"], ["-m"], ["-x", "s.py"], ["-u"], ["-v", "--json"],
])
def test_the_apps_own_command_lines_are_left_alone(args):
    assert parse_interpreter_args(args) is None


def test_a_script_runs_as_main_with_its_arguments_and_exit_status(tmp_path):
    script = tmp_path / "tool.py"
    script.write_text("import sys, os\nprint(__name__, sys.argv[1:], os.path.dirname(sys.path[0]) != None)\n"
                      "import helper\nsys.exit(helper.CODE)\n")
    (tmp_path / "helper.py").write_text("CODE = 7\n")  # the script's folder is on sys.path, as with python
    out = frozen_like("-u", "-B", str(script), "a", "--b")
    assert out.returncode == 7, out.stderr
    assert out.stdout.split("\n")[0] == "__main__ ['a', '--b'] True"


def test_module_code_and_stdin_runs():
    out = frozen_like("-m", "json.tool", "--sort-keys", stdin='{"b": 1, "a": 2}')
    assert out.returncode == 0, out.stderr
    assert out.stdout.index('"a"') < out.stdout.index('"b"')
    out = frozen_like("-E", "-s", "-c", "import sys; print(__name__, sys.argv)", "x", "y")
    assert (out.returncode, out.stdout.strip()) == (0, "__main__ ['-c', 'x', 'y']")
    out = frozen_like("-", "z", stdin="import sys\nprint(sys.argv)\n")
    assert (out.returncode, out.stdout.strip()) == (0, "['-', 'z']")


def test_an_uncaught_exception_prints_its_traceback_and_exits_1(tmp_path):
    out = frozen_like("-c", "def f():\n    raise ValueError('boom')\nf()")
    assert out.returncode == 1
    assert out.stderr.strip().endswith("ValueError: boom")
    assert "studio/frozen.py" not in out.stderr
    missing = frozen_like(str(tmp_path / "nowhere.py"))
    assert missing.returncode == 2 and "can't open file" in missing.stderr


def test_other_command_lines_go_to_the_app():
    out = frozen_like("--version")
    assert out.returncode == 0 and out.stdout.startswith("tinyml-studio ")


def test_platformio_and_the_offline_kits_scons_launcher_run_through_it(tmp_path):
    out = frozen_like("-m", "platformio", "--version")
    assert out.returncode == 0, out.stderr
    assert "PlatformIO Core" in out.stdout
    import SCons

    launcher = tmp_path / "scons.py"
    launcher.write_text(pio_kit._LAUNCHER.format(scons=SCons.__version__,
                                                 path=str(Path(SCons.__file__).parent.parent)))
    out = frozen_like("-u", str(launcher), "--version")
    assert out.returncode == 0, out.stderr
    assert f"SCons: v{SCons.__version__}" in out.stdout.replace("\n", " ")


def test_not_frozen_nothing_changes(tmp_path):
    assert not getattr(sys, "frozen", False)
    assert pio_command("/some/pio") == ["/some/pio"]
    assert pio_command(sys.executable) == [sys.executable]
    assert "PYTHONEXEPATH" not in pio_environment(tmp_path, base={})
    assert paths.resources_dir() == ROOT / "resources"


def test_frozen_pio_is_the_app_itself(monkeypatch, tmp_path):
    exe = tmp_path / "tinyml-studio"
    internal = tmp_path / "_internal"
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(internal), raising=False)
    monkeypatch.setattr(sys, "executable", str(exe))
    monkeypatch.delenv("TINYML_STUDIO_RESOURCES", raising=False)
    monkeypatch.delenv("TINYML_STUDIO_TEMPLATES", raising=False)
    assert find_pio() == str(exe)
    assert pio_command(find_pio()) == [str(exe), "-m", "platformio"]
    assert pio_command("/usr/bin/pio") == ["/usr/bin/pio"]
    assert pio_environment(tmp_path / "core", base={})["PYTHONEXEPATH"] == str(exe)
    assert pio_kit._pio_python(str(exe)) == str(exe)
    assert paths.resources_dir() == internal / "resources"
    assert paths.boards_dir() == internal / "resources" / "boards"
    assert paths.project_templates_dir() == internal / "project_templates"


def test_the_desktop_entry_opens_the_window_with_the_app_s_icon():
    import configparser

    from conftest import ROOT

    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(ROOT / "installer" / "tinyml-studio.desktop")
    desktop = entry["Desktop Entry"]
    assert desktop["Type"] == "Application" and desktop["Terminal"] == "false"
    assert desktop["Exec"].split()[:2] == ["tinyml-studio", "gui"]  # a folder given to it opens as a project
    assert (ROOT / "resources" / "icons" / f"{desktop['Icon']}.svg").is_file()
