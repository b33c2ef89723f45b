"""tinyml-studio deploy: export, build with the offline kit, refuse to upload without a port."""

from __future__ import annotations

import json

from conftest import run_cli


def test_deploy_exports_and_builds(gesture_project, gesture_run, tmp_path, monkeypatch):
    monkeypatch.setenv("TINYML_STUDIO_PIO_CORE", str(tmp_path / "core"))
    out = tmp_path / "nano"
    done = run_cli("deploy", str(gesture_project), "--board", "nano33ble", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert (out / "platformio.ini").is_file() and "wrote" in done.stdout and "env" in done.stdout
    assert run_cli("deploy", str(gesture_project), "--board", "nano33ble", "--out", str(out)).returncode == 0
    mine = tmp_path / "mine"
    (mine / "notes.txt").parent.mkdir()
    (mine / "notes.txt").write_text("my own files")
    refused = run_cli("deploy", str(gesture_project), "--board", "nano33ble", "--out", str(mine))
    assert refused.returncode == 1 and f"{mine}: folder is not empty" in refused.stderr
    assert (mine / "notes.txt").read_text() == "my own files"
    done = run_cli("deploy", str(gesture_project), "--board", "virtual-cortex-m4", "--out", str(tmp_path / "virtual"),
                   "--build", "--json", timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["envs"][0] == "virtual-cortex-m4" and report["build"]["env"] == "virtual-cortex-m4"
    assert report["build"]["flash"]["used"] > 10_000 and report["build"]["ram"]["used"] > 1_000
    assert (tmp_path / "virtual" / ".pio" / "build" / "virtual-cortex-m4" / "firmware.elf").is_file()
    done = run_cli("deploy", str(gesture_project), "--board", "nano33ble", "--out", str(tmp_path / "n2"),
                   "--env", "native", "--build")
    assert done.returncode == 0, done.stderr
    assert "built native" in done.stdout


def test_deploy_refuses_an_upload_without_a_port_and_unknown_boards(gesture_project, gesture_run, tmp_path):
    done = run_cli("deploy", str(gesture_project), "--board", "nano33ble", "--out", str(tmp_path / "x"), "--upload")
    assert done.returncode == 1 and "--upload needs --port" in done.stderr and not (tmp_path / "x").exists()
    done = run_cli("deploy", str(gesture_project), "--board", "no-such-board", "--out", str(tmp_path / "y"))
    assert done.returncode == 1 and "no-such-board" in done.stderr


def test_a_board_framework_env_offline_fails_at_once(gesture_project, gesture_run, tmp_path, monkeypatch):
    """nano33ble's own env needs nordicnrf52 from the registry; offline (here a proxy that refuses every
    connection, so the test does not depend on this machine's network) the build fails at once."""
    import time

    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("TINYML_STUDIO_PIO_CORE", str(tmp_path / "core"))
    start = time.monotonic()
    done = run_cli("deploy", str(gesture_project), "--board", "nano33ble", "--out", str(tmp_path / "n"), "--build")
    assert done.returncode == 1 and "needs the nordicnrf52 platform from the PlatformIO registry" in done.stderr
    assert time.monotonic() - start < 30  # not pio's 60 s of retries


def path_without(tmp_path, prefix: str) -> str:
    """A PATH of links to every program on this one but those whose name starts with ``prefix``."""
    import os
    from pathlib import Path

    path = tmp_path / "path"
    path.mkdir()
    for folder in os.environ["PATH"].split(os.pathsep):
        for tool in Path(folder).glob("*") if Path(folder).is_dir() else ():
            if not tool.name.startswith(prefix) and not (path / tool.name).exists():
                (path / tool.name).symlink_to(tool)
    return str(path)


def test_without_the_arm_compiler_the_message_says_so(gesture_project, gesture_run, tmp_path, monkeypatch):
    """tinyml-cortexm is the app's own platform, installed with the offline kit only when arm-none-eabi-gcc is
    there: without the compiler a Cortex-M environment names the compiler, not the registry, and points at the
    environments that build (never at itself, nor at the generic Cortex-M one, which needs the compiler too)."""
    monkeypatch.setenv("PATH", path_without(tmp_path, "arm-none-eabi-"))
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # offline, whatever this machine's network
    monkeypatch.setenv("TINYML_STUDIO_PIO_CORE", str(tmp_path / "core"))
    arm = ("cannot be built: arm-none-eabi-gcc is not installed (Debian packages: gcc-arm-none-eabi "
           "libnewlib-arm-none-eabi); build [env:native] instead")
    for board, env in (("virtual-cortex-m4", "virtual-cortex-m4"), ("nano33ble", "cortex-m4-generic")):
        out = tmp_path / board
        done = run_cli("deploy", str(gesture_project), "--board", board, "--out", str(out), "--env", env, "--build")
        assert done.returncode == 1, done.stderr
        assert done.stderr.splitlines()[-1] == f"tinyml-studio: error: [env:{env}] {arm}", done.stderr
        assert "Cortex-M builds are not available" in done.stderr  # the kit's note, before
    done = run_cli("deploy", str(gesture_project), "--board", "nano33ble", "--out", str(tmp_path / "nano33ble"),
                   "--overwrite", "--build")
    assert done.returncode == 1 and done.stderr.splitlines()[-1] == (
        "tinyml-studio: error: [env:nano33ble] needs the nordicnrf52 platform from the PlatformIO registry, which is "
        "unreachable (offline): install nordicnrf52 on a connected machine first; build [env:native] instead")
    done = run_cli("deploy", str(gesture_project), "--board", "nano33ble", "--out", str(tmp_path / "native"),
                   "--env", "native", "--build")
    assert done.returncode == 0 and "built native" in done.stdout, done.stderr
