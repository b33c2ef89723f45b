"""The worker adapter: jobs run off the GUI thread, progress arrives as signals."""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer

from studio.ui.worker import JobRunner


def slow_job(params, progress):
    for i in range(params["steps"]):
        progress.check()
        time.sleep(0.05)
        progress.update((i + 1) / params["steps"], f"step {i + 1}")
        progress.partial(i)
    return "done"


def test_event_loop_keeps_turning_while_a_job_runs(qtbot):
    runner = JobRunner()
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(10)
    fractions, partials = [], []
    handle = runner.start("slow", slow_job, {"steps": 20})
    handle.progressed.connect(lambda f, s: fractions.append(f))
    handle.partial.connect(partials.append)
    with qtbot.waitSignal(handle.finished, timeout=10_000) as blocker:
        pass
    timer.stop()
    assert blocker.args == ["done"]
    assert len(ticks) >= 40  # about 1 s of job: the GUI thread ticked all along
    assert max(b - a for a, b in zip(ticks, ticks[1:], strict=False)) < 0.2
    assert fractions[-1] == 1.0 and partials == list(range(20))


def test_cancel_stops_the_job_and_says_so(qtbot):
    runner = JobRunner()
    handle = runner.start("slow", slow_job, {"steps": 200})
    QTimer.singleShot(150, handle.cancel)
    with qtbot.waitSignal(handle.cancelled, timeout=10_000):
        pass
    assert runner.wait(2000) and not runner.active


def test_errors_arrive_as_one_line_messages(qtbot, tmp_path):
    from studio.dataset import importer

    runner = JobRunner()
    handle = runner.start("import", importer.run, importer.ImportParams(tmp_path / "missing", []))
    with qtbot.waitSignal(handle.failed, timeout=10_000) as blocker:
        pass
    assert blocker.args[0].endswith("no such project folder") and "\n" not in blocker.args[0]


def test_a_quick_job_waits_for_its_caller_to_connect(qtbot):
    """The job starts from the event loop, so a caller that connects after ``start`` returns
    (even a slow one) never misses the result of a job that takes no time."""
    runner = JobRunner()
    handle = runner.start("instant", lambda params, progress: params * 2, 21)
    time.sleep(0.3)  # the GUI thread is busy: a job started at once would have finished by now
    with qtbot.waitSignal(handle.finished, timeout=5_000) as blocker:
        pass
    assert blocker.args == [42]


def test_shutdown_runs_pending_jobs_cancelled_and_silenced(qtbot):
    """Closing the window: a job queued but not started yet still runs, sees the cancellation,
    and none of its signals reach views that are being torn down."""
    runner = JobRunner()
    seen, heard = [], []
    handle = runner.start("queued", lambda params, progress: seen.append(progress.cancelled), None)
    for sig in (handle.finished, handle.cancelled, handle.failed):
        sig.connect(lambda *a: heard.append(a))
    assert runner.shutdown(5000) and seen == [True]
    qtbot.wait(200)
    assert heard == []
