"""The main window: welcome, wizard navigation, persistence, jobs with a progress bar."""

from __future__ import annotations

from PySide6.QtCore import QSettings
from test_import_export import write_csv

from studio.ui.main_window import MainWindow
from studio.ui.step_bar import STEPS


def make(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    w = MainWindow(settings)
    qtbot.addWidget(w)
    w.show()
    return w, settings


def test_welcome_then_project_enables_the_wizard(qtbot, tmp_path):
    w, _ = make(qtbot, tmp_path)
    assert w.stack.currentWidget() is w.welcome and not w.nav.isEnabled()
    assert w.create_project(str(tmp_path / "proj"))
    assert w.nav.isEnabled() and w.stack.currentWidget() is w.capture
    for i in range(len(STEPS)):
        w.show_step(i)
        assert w.stack.currentWidget() is w.pages[i] and w.nav.group.checkedId() == i
    assert not w.create_project(str(tmp_path / "proj"))  # exists: an error, not a crash
    assert "already exists" in w.log_view.toPlainText()


def test_recent_projects_and_geometry_persist(qtbot, tmp_path):
    w, settings = make(qtbot, tmp_path)
    w.create_project(str(tmp_path / "a"))
    w.create_project(str(tmp_path / "b"))
    w.resize(1100, 700)
    size = w.size()
    w.close()
    w2, _ = make(qtbot, tmp_path)
    assert w2.recent_projects()[:2] == [str(tmp_path / "b"), str(tmp_path / "a")]
    assert w2.welcome.recent.count() == 2
    # the offscreen platform's small virtual screen clamps the width; the height shows the restore
    assert w2.size().height() == size.height() == 700 != MainWindow.DEFAULT_SIZE[1]


def test_about_names_the_versions(qtbot, tmp_path):
    w, _ = make(qtbot, tmp_path)
    text = w.about_text()
    assert "TinyML Studio" in text and "Qt 6.11" in text and "PySide6" in text


def test_import_runs_as_a_job_with_progress_and_lists_samples(qtbot, tmp_path):
    w, _ = make(qtbot, tmp_path)
    w.create_project(str(tmp_path / "p"))
    files = [write_csv(tmp_path / f"wave.{i}.csv", rows=2000 + i) for i in range(5)]  # distinct: not duplicates
    handle = w.run_import(files)
    assert w.job_bar.isVisibleTo(w) and w.cancel_button.isVisibleTo(w)
    with qtbot.waitSignal(handle.finished, timeout=30_000):
        pass
    qtbot.waitUntil(lambda: w.capture.dataset.table.rowCount() == 5, timeout=5000)
    assert not w.job_bar.isVisibleTo(w)
    assert "imported 5 file(s)" in w.log_view.toPlainText()
