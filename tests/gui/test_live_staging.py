"""The canvas's Qt-free parts: live mode's debounce policy (injected clock) and the staging area."""
import numpy as np
import pytest

from genviz.gui.live_scheduler import LiveScheduler
from genviz.gui.staging import StagingArea


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def test_live_module_has_no_qt():
    import genviz.gui.live_scheduler as ls
    import genviz.gui.staging as st
    for mod in (ls, st):
        src = open(mod.__file__).read()
        assert "PySide6" not in src and "QtCore" not in src


def test_fast_generations_start_at_once():
    c = Clock()
    s = LiveScheduler(clock=c)
    assert not s.should_generate()  # nothing drawn yet
    assert s.should_generate(1)  # no history: no grace period
    s.notify_started()
    assert not s.should_generate(1)
    c.t += 0.5
    s.notify_finished()
    assert s.average_generation_time == pytest.approx(0.5)
    assert not s.should_generate(1)  # same input: nothing to do
    assert s.should_generate(2)


def test_slow_generations_wait_the_grace_period_after_the_last_change():
    c = Clock()
    s = LiveScheduler(clock=c)
    s.generation_times.extend([2.0, 2.0])  # average 2 s > 1.5 s threshold
    assert s.grace_period == 0.25
    s.notify_change(1)
    c.t += 0.2
    assert not s.should_generate(1)
    c.t += 0.1  # 0.3 s after the last change
    assert s.should_generate(1)
    # a new stroke restarts the wait
    s.notify_change(2)
    c.t += 0.24
    assert not s.should_generate(2)
    c.t += 0.02
    assert s.should_generate(2)


def test_never_delayed_more_than_three_seconds():
    c = Clock()
    s = LiveScheduler(clock=c)
    s.generation_times.append(4.0)
    rev = 0
    started_at = None
    while c.t < 110:  # a change every 0.1 s: the grace period never passes
        rev += 1
        if s.should_generate(rev):
            started_at = c.t
            break
        c.t += 0.1
    assert started_at is not None
    assert started_at - 100.0 == pytest.approx(3.0, abs=0.11)


def test_no_overlapping_generations_and_changes_during_one_are_kept():
    c = Clock()
    s = LiveScheduler(clock=c)
    assert s.should_generate(1)
    s.notify_started()
    c.t += 0.3
    assert not s.should_generate(2)  # running
    assert s.has_changes
    c.t += 0.3
    s.notify_finished()
    assert s.should_generate(2)
    s.notify_started()
    s.notify_finished(ok=False)  # a failed/cancelled run does not count toward the average
    assert len(s.generation_times) == 1


def _imgs(n, v=0.0):
    return [np.full((1, 4, 4), v + i / 10, np.float32) for i in range(n)]


def test_staging_navigation_accept_discard_history():
    st = StagingArea()
    assert st.current is None
    with pytest.raises(LookupError):
        st.accept()
    b1 = st.add_batch(_imgs(4), {"t0": 0.5})
    assert (b1, len(st), st.index) == (1, 4, 0)
    b2 = st.add_batch(_imgs(2, 1.0))
    assert (b2, len(st), st.index) == (2, 6, 4)  # new batches are appended, the cursor goes to them
    assert st.next().k == 1
    assert st.next().batch == 1 and st.index == 0  # wraps around
    assert st.prev().batch == 2
    st.select(2)
    c = st.accept()
    assert (c.batch, c.k) == (1, 2)
    assert st.history == [c]
    assert len(st) == 6 and st.index == 2 and st.current is c and c.accepted  # nothing leaves, the cursor stays
    assert st.accept() is c and st.history == [c]  # accepting it again does not repeat it in the history
    assert st.discard() == 4
    assert len(st) == 2 and all(x.batch == 2 for x in st.candidates)
    assert st.discard() == 2
    assert len(st) == 0 and st.current is None
    assert st.discard() == 0
    assert np.allclose(st.history[0].image, 0.2)


def test_staging_drops_oldest_batches_and_counts_them():
    st = StagingArea(max_batches=2)
    for i in range(3):
        st.add_batch(_imgs(1, float(i)))
    assert st.dropped == 1
    assert [b[0].batch for b in st.batches] == [2, 3]
    with pytest.raises(ValueError):
        st.add_batch([])
