"""The engine's generator jobs: latest-value delivery, completion order, cancel, errors, tasks in between."""
import threading
import time

import pytest

from genviz.gui.engine import Engine


@pytest.fixture
def engine(qapp):
    e = Engine()
    e.start()
    yield e
    e.shutdown()


def test_job_delivers_values_then_done_on_the_gui_thread(engine, qtbot):
    seen, done, threads = [], [], []
    gui = threading.get_ident()

    def gen():
        for i in range(5):
            yield i
        return "finished"

    job = engine.submit_job(gen, lambda v: (seen.append(v), threads.append(threading.get_ident())),
                            lambda r: done.append((r, list(seen))))
    qtbot.waitUntil(lambda: bool(done), timeout=5000)
    assert done[0][0] == "finished"
    assert seen[-1] == 4 and seen == sorted(seen)  # newest last; coalesced values may be skipped
    assert done[0][1] == seen  # on_done comes after the last on_yield
    assert set(threads) == {gui} and job.finished and job.latest == 4


def test_slow_gui_gets_only_the_newest_value(engine, qtbot):
    seen = []
    gate = threading.Event()

    def gen():
        for i in range(200):
            yield i
        gate.set()

    engine.submit_job(gen, seen.append)
    assert gate.wait(5)  # the GUI thread has not run its event loop: every value but the newest is coalesced
    qtbot.waitUntil(lambda: bool(seen) and seen[-1] == 199, timeout=5000)
    assert len(seen) <= 3


def test_cancel_stops_before_the_next_value_and_calls_nothing(engine, qtbot):
    produced, done = [], []

    def gen():
        i = 0
        while True:
            produced.append(i)
            i += 1
            time.sleep(0.005)
            yield i

    job = engine.submit_job(gen, on_done=done.append)
    qtbot.waitUntil(lambda: len(produced) > 3, timeout=5000)
    job.cancel()
    n = len(produced)
    qtbot.wait(100)
    assert len(produced) <= n + 1 and not done and not job.active
    assert engine.pending() == 0


def test_job_error_is_one_line_and_tasks_run_between_values(engine, qtbot):
    errors, order = [], []

    def gen():
        for i in range(3):
            order.append(f"job{i}")
            time.sleep(0.1)
            yield i
        raise ValueError("bad thing\nsecond line")

    engine.submit_job(gen, on_error=errors.append)
    qtbot.waitUntil(lambda: bool(order), timeout=5000)
    engine.submit(lambda: order.append("task"))
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert errors == ["bad thing"]
    assert "task" in order and order.index("task") < order.index("job2")  # a task does not wait for the job
