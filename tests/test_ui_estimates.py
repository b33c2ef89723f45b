"""The Deploy step's on-device estimates: picking boards through the filter, estimating a trained
gesture impulse on two boards (one modelled), what the cards and the layer table show, TFLM's
arena, the virtual board's counted instructions, and the messages when there is nothing to do."""

from __future__ import annotations

import os

from PySide6.QtCore import QSettings, Qt

from studio.boards import load_boards
from studio.learn import runs
from studio.project import Project
from studio.ui import theme
from studio.ui.main_window import MainWindow
from studio.ui.pages.deploy.estimate_cards import MemoryBar
from studio.ui.pages.deploy.estimates_view import HINT, MAX_BOARDS, NO_PROJECT, NO_RUN, EstimatesView, board_matches
from studio.ui.worker import JobRunner


def make_view(qtbot) -> EstimatesView:
    view = EstimatesView(JobRunner())
    qtbot.addWidget(view)
    view.resize(1400, 900)
    view.show()
    return view


def pick(qtbot, view: EstimatesView, text: str, board_id: str) -> None:
    view.filter.clear()
    qtbot.keyClicks(view.filter, text)
    assert board_id in view.visible_boards()
    items = view.board_list.findItems("*", Qt.MatchFlag.MatchWildcard)
    view.board_list.setCurrentItem(next(i for i in items if i.data(Qt.ItemDataRole.UserRole) == board_id))
    view.add_button.click()


def wait_idle(qtbot, view: EstimatesView, timeout: int = 180_000) -> None:
    qtbot.waitUntil(lambda: view.job is None and not view.queue, timeout=timeout)


def test_estimates_on_two_boards_and_the_virtual_board(qtbot, gesture_project, gesture_run, tmp_path,
                                                       monkeypatch):
    project = Project.open(gesture_project)
    try:
        view = make_view(qtbot)
        view.set_project(project)
        assert view.estimate_button.isEnabled() and view.run_combo.count() == len(runs.numbers(project))
        assert view.message.text() == HINT

        # the filter matches every word: "nano 33" is the Nano 33 BLE Sense, both revisions
        qtbot.keyClicks(view.filter, "nano 33")
        assert view.visible_boards() == ["nano33ble", "nano33ble_rev2"]
        qtbot.keyClick(view.filter, Qt.Key.Key_Return)  # Enter adds the first match
        pick(qtbot, view, "esp32 devkit", "esp32dev")
        assert view.chosen == ["nano33ble", "esp32dev"]

        view.tflm_check.setChecked(True)
        view.estimate_button.click()
        assert view.job is not None and not view.estimate_button.isEnabled() and view.cancel_button.isEnabled()
        wait_idle(qtbot, view)
        assert view.message.text() == "", view.message.text()
        estimates = view.estimates()
        assert list(estimates) == ["nano33ble", "esp32dev"]
        for board_id, e in estimates.items():
            card = view.cards[board_id]
            assert card.flash_bar.value() == e.flash["total"] and card.ram_bar.value() == e.ram["total"]
            assert card.flash_bar.maximum() == e.limits["flash_bytes"] == e.board["program"]["flash_bytes"]
            assert card.ram_bar.maximum() == e.limits["ram_bytes"]
            assert e.verdicts == {"flash": "fits", "ram": "fits"}  # a small dense network
            assert card.verdict.text() == "<b>Fits</b>: flash fits, RAM fits"
            assert "#2e9d4a" in card.flash_bar.styleSheet()  # green
            assert "weights" in card.flash_bar.toolTip() and "arena" in card.ram_bar.toolTip()
            assert f"{e.latency['total']:.3f} ms" in card.latency.text() and "DSP" in card.latency.text()
            assert f"{e.energy_uj:,.1f} µJ" in card.energy.text()
            assert e.tflm_arena and f"TFLM's minimum arena: {e.tflm_arena:,} B" in card.arena.text()
            hours = e.battery_hours(1000, 1.0)
            assert hours and f"{hours:,.0f} h" in card.battery.text()
            assert card.isVisible() and card.verdict.isVisible() and card.flash_bar.isVisible()
        nano, esp = view.cards["nano33ble"], view.cards["esp32dev"]
        assert estimates["nano33ble"].modelled is None and not nano.modelled.isVisible()
        assert estimates["esp32dev"].modelled and esp.modelled.isVisible()
        assert esp.modelled.text().replace("\n", " ") == f"modelled: {estimates['esp32dev'].modelled}"
        assert "Xtensa" in esp.modelled.text()

        # the per-layer table shows the chosen board's layers
        assert view.layers.combo.count() == 2 and view.layers.combo.currentData() == "nano33ble"
        layers = estimates["nano33ble"].layers
        assert view.layers.table.rowCount() == len(layers) > 0
        assert view.layers.table.item(0, 1).text() == layers[0].op
        assert view.layers.table.item(0, 3).text() == f"{layers[0].macs:,}"
        view.layers.combo.setCurrentIndex(1)
        assert view.layers.table.rowCount() == len(estimates["esp32dev"].layers)
        assert view.layers.table.item(0, 6).text() == f"{estimates['esp32dev'].layers[0].cycles:,}"

        # battery: a higher rate shortens it, and a rate the board cannot keep up with says so
        view.rate.setValue(1000 / estimates["nano33ble"].latency["total"] + 1)
        assert "cannot keep up" in nano.battery.text()
        view.rate.setValue(1.0)

        # the virtual board: instructions counted under QEMU beside the modelled ones
        view.virtual_box.measure_button.click()
        wait_idle(qtbot, view)
        v = view.virtual
        assert v is not None and v.board["id"] == "virtual-cortex-m4" and v.measured["network"] > 0
        assert view.virtual_box.table.rowCount() == 2
        assert view.virtual_box.table.item(0, 1).text() == f"{v.instructions['network']:,}"
        assert view.virtual_box.table.item(0, 2).text() == f"{v.measured['network']:,}"
        assert view.virtual_box.table.item(1, 2).text() == f"{v.measured['dsp']:,}"
        expected = (v.instructions["network"] - v.measured["network"]) / v.measured["network"] * 100
        assert view.virtual_box.table.item(0, 3).text() == f"{expected:+.1f}%"
        assert view.cards["nano33ble"].estimate is estimates["nano33ble"]  # the boards' results stay

        # the host computer has no latency model: it is not offered, and asking for it says which boards are
        view.filter.clear()
        qtbot.keyClicks(view.filter, "this computer")
        assert view.visible_boards() == []
        view.filter.clear()
        assert "host-native" not in view.visible_boards() and len(view.visible_boards()) == len(load_boards()) - 1
        assert "Not listed, as there is no latency model for it: This computer (native)" in view.board_list.toolTip()
        assert not view.add_board("host-native") and view.chosen == ["nano33ble", "esp32dev"]
        assert view.message.text().startswith("host-native: no latency model for core 'host'; boards that can be "
                                              "estimated: nano33ble, ")
        assert view.message.property(theme.TONE) == "error"

        # estimates that fail (here: no GNU Arm compiler on PATH): each card and the view say why, a line a board
        pick(qtbot, view, "pico", "pico")
        assert not view.add_board("nicla_sense_me") and f"At most {MAX_BOARDS}" in view.message.text()
        view.tflm_check.setChecked(False)
        path = os.environ["PATH"]
        monkeypatch.setenv("PATH", str(tmp_path))
        view.estimate_button.click()
        wait_idle(qtbot, view)
        monkeypatch.setenv("PATH", path)
        missing = "arm-none-eabi-gcc is not installed (Debian packages: gcc-arm-none-eabi libnewlib-arm-none-eabi)"
        lines = view.message.text().split("\n")
        assert [line.split(":")[0] for line in lines] == ["nano33ble", "esp32dev", "pico"], lines
        assert all(line.endswith(missing) for line in lines), lines
        pico = view.cards["pico"]
        assert "".join(pico.status.text().split()).endswith("".join(missing.split()))  # the card wraps it
        assert not pico.flash_bar.isVisible()
        assert not view.estimates()

        # cancelling stops the queue
        view.estimate_button.click()
        view.cancel_button.click()
        wait_idle(qtbot, view)
        assert view.message.text() == "Estimate cancelled." and view.estimate_button.isEnabled()
        assert {c.status.text() for c in view.cards.values()} == {"cancelled"} and not view.estimates()
    finally:
        project.close()


def test_without_a_project_or_a_run_the_view_says_so(qtbot, tmp_path):
    view = make_view(qtbot)
    assert view.message.text() == NO_PROJECT and not view.estimate_button.isEnabled()
    view.estimate()
    assert view.job is None and view.message.text() == NO_PROJECT
    with Project.create(tmp_path / "empty", "empty") as project:
        view.add_board("nano33ble")
        view.set_project(project)
        assert view.message.text() == NO_RUN and not view.estimate_button.isEnabled()
        assert not view.virtual_box.measure_button.isEnabled()
        view.estimate()
        view.measure_virtual()
        assert view.job is None and view.message.text() == NO_RUN and not view.cards


def test_the_deploy_page_hosts_the_estimates(qtbot, tmp_path):
    w = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.show()
    w.create_project(str(tmp_path / "p"))
    w.show_step(4)
    deploy = w.pages[4]
    assert w.stack.currentWidget() is deploy and deploy.estimates.isVisible()
    assert deploy.estimates.message.text() == NO_RUN
    assert deploy.estimates.project is w.project
    w.close()


def test_memory_bars_are_coloured_by_verdict(qtbot):
    bar = MemoryBar()
    qtbot.addWidget(bar)
    for used, limit, verdict, colour, maximum in ((500, 1000, "fits", "#2e9d4a", 1000),
                                                  (900, 1000, "tight", "#e0a020", 1000),
                                                  (1500, 1000, "does not fit", "#d03b3b", 1500),
                                                  (1500, None, "no limit", "#8a8a8a", 1500)):
        bar.show_usage("RAM", {"arena": used - 100, "stack": 100, "total": used}, limit, verdict)
        assert bar.value() == used and bar.maximum() == maximum and colour in bar.styleSheet()
        assert verdict in bar.text() and "arena: " in bar.toolTip() and f"total: {used:,} B" in bar.toolTip()
    bar.show_usage("RAM", {"total": 900}, 1000, "tight")
    assert bar.text() == "0.9 KB of 1.0 KB (90%) — tight"


def test_board_filter_matches_every_word():
    boards = {b.id: b for b in load_boards()}
    assert board_matches(boards["nano33ble"], "nano 33")
    assert not board_matches(boards["nanorp2040connect"], "nano 33")
    assert board_matches(boards["esp32dev"], "XTENSA")
    assert board_matches(boards["pico"], "")
