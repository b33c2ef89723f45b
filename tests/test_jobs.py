from __future__ import annotations

import threading

import pytest

from studio.jobs import Cancelled, Progress


def test_progress_reports_fraction_status_and_partials_to_listener():
    events = []
    p = Progress(events.append)
    p.update(0.25, "quarter")
    p.partial({"n": 1})
    p.update(2.0)  # clamped
    assert [e.fraction for e in events] == [0.25, 0.25, 1.0]
    assert events[1].partial == {"n": 1}
    assert p.status == "quarter" and p.partials == [{"n": 1}]


def test_span_maps_onto_parent_range_and_nests():
    p = Progress()
    child = p.span(0.5, 1.0)
    child.update(0.5)
    assert p.fraction == pytest.approx(0.75)
    grandchild = child.span(0.0, 0.5)
    grandchild.update(1.0)
    assert p.fraction == pytest.approx(0.75)


def test_cancel_from_another_thread_is_seen_by_check():
    p = Progress()
    seen = threading.Event()

    def job():
        try:
            while True:
                p.check()
        except Cancelled:
            seen.set()

    t = threading.Thread(target=job)
    t.start()
    p.cancel()
    t.join(5)
    assert seen.is_set() and p.cancelled
