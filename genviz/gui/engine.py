"""The one background thread that does all torch work for a window.

Loading checkpoints, moving the model between devices, starting chains and computing chain steps
all run on this thread, one after the other, so the model is never used by two threads at once and
the GUI thread never imports or runs torch. Tasks have priority over chain steps: a device switch or
a new load happens between two steps. Results come back to the GUI thread through a queued signal.
"""
from __future__ import annotations

import sys
import threading
import traceback
from collections import deque
from typing import Any, Callable

from PySide6.QtCore import QThread, Signal


def error_text(e: BaseException) -> str:
    """One line describing ``e`` for the status bar (backend errors already name file and reason)."""
    name = type(e).__name__
    msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
    if name in ("CheckpointError", "ValueError"):
        return msg or name
    return f"{name}: {msg}" if msg else name


_GC = None
SWITCH_INTERVAL_S = 5e-5  # how long a thread may hold the GIL while another waits (Python's default: 5 ms)


def collect_garbage_on_gui_thread():
    """Turn Python's automatic garbage collection off and collect on a GUI-thread timer instead (pyqtgraph's
    ``GarbageCollector``, every 0.5 s). Otherwise a collection triggered by an allocation on the engine thread
    can free Qt wrappers there and deadlock against the GUI thread (seen: the engine stuck in a torch
    ``Module.__init__``, the GUI thread waiting in a timer slot). Idempotent; call on the GUI thread."""
    global _GC
    if _GC is None:
        from pyqtgraph.util.garbage_collector import GarbageCollector
        _GC = GarbageCollector(interval=0.5)
    return _GC


class Job:
    """A generator running on the engine thread, one ``next()`` at a time (superqt's ``GeneratorWorker``
    pattern, with "latest value" delivery).

    Each value the generator yields replaces ``latest``; the GUI thread gets ``on_yield(value)`` for the
    newest value only (values yielded while a delivery is still queued are coalesced, so a slow GUI never
    builds a backlog). When the generator returns, ``on_done(return value)`` runs on the GUI thread
    (after the last ``on_yield``); an exception becomes ``on_error(one-line message)``. ``cancel()`` (any
    thread) stops it before its next ``next()``; a cancelled job calls neither ``on_done`` nor ``on_error``.
    This is the only way engine-thread work hands data to the GUI thread besides ``Engine.submit``'s
    single result and the chain stepper's ``ChainState``.
    """

    def __init__(self, gen_fn: Callable[[], Any], on_yield=None, on_done=None, on_error=None):
        self._gen_fn = gen_fn
        self._gen = None
        self.on_yield, self.on_done, self.on_error = on_yield, on_done, on_error
        self._lock = threading.Lock()
        self._latest: Any = None
        self._has_latest = False
        self._queued = False  # a delivery of the latest value is on its way to the GUI thread
        self.cancelled = False
        self.finished = False

    def cancel(self) -> None:
        """Stop the job before its next step (its generator is closed on the engine thread)."""
        self.cancelled = True

    @property
    def latest(self) -> Any:
        """The newest value yielded so far (None before the first)."""
        with self._lock:
            return self._latest

    @property
    def active(self) -> bool:
        """True until the job finished, failed or was cancelled."""
        return not (self.finished or self.cancelled)

    def _take(self):  # GUI thread: the value to deliver now
        with self._lock:
            self._queued = False
            return self._latest

    def _offer(self, value) -> bool:  # engine thread: True when a delivery must be queued
        with self._lock:
            self._latest, self._has_latest = value, True
            if self._queued:
                return False
            self._queued = True
            return True


class Engine(QThread):
    """Worker thread with a task queue, generator jobs and an optional chain stepper.

    ``submit(fn, on_done, on_error)`` runs ``fn()`` on this thread; ``on_done(result)`` or
    ``on_error(message)`` is then called on the GUI thread. ``submit_job(gen_fn, on_yield, on_done,
    on_error)`` runs a generator one value at a time between tasks (see ``Job``): a load or a device
    switch submitted meanwhile runs between two of its values. When no task is waiting and
    ``stepper.wants_step()`` is true, the engine calls ``stepper.step()``; the stepper reports its
    own errors (as data in its state). When there is neither, and ``stepper.has_idle_work()`` (optional) is
    true, it calls ``stepper.idle_work()`` (one short unit of deferred work, e.g. classifying a step that was
    skipped while running). ``shutdown()`` stops the thread within one step or task.
    """

    _deliver = Signal(object, object)

    def __init__(self, parent=None):
        super().__init__(parent)
        collect_garbage_on_gui_thread()
        # Painting holds the GIL; with Python's 5 ms switch interval the engine thread waited behind it between
        # torch ops. 0.2 ms raised the chain panel's throughput from 0.77 to 0.91 of headless (genviz bench); with the
        # network traced (one GIL-free call), 0.05 ms gave 0.93-0.97 against 0.78-0.87 at 0.2 ms (two pairs of runs).
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        self._cv = threading.Condition()
        self._tasks: deque = deque()
        self._jobs: deque = deque()
        self._stop = False
        self._closed = False
        self.busy = False
        self.stepper = None
        self._deliver.connect(self._on_deliver)

    # ---- GUI thread ------------------------------------------------------------------------------
    def submit(self, fn: Callable[[], Any], on_done: Callable[[Any], None] | None = None,
               on_error: Callable[[str], None] | None = None) -> None:
        """Queue ``fn`` to run on the engine thread."""
        with self._cv:
            if self._stop:
                return
            self._tasks.append((fn, on_done, on_error))
            self._cv.notify_all()

    def submit_job(self, gen_fn: Callable[[], Any], on_yield: Callable[[Any], None] | None = None,
                   on_done: Callable[[Any], None] | None = None,
                   on_error: Callable[[str], None] | None = None) -> Job:
        """Run the generator ``gen_fn()`` on the engine thread (created there), delivering its newest
        yielded value to ``on_yield`` on the GUI thread. Returns the ``Job`` (``cancel()``, ``latest``)."""
        job = Job(gen_fn, on_yield, on_done, on_error)
        with self._cv:
            if self._stop:
                job.cancelled = True
                return job
            self._jobs.append(job)
            self._cv.notify_all()
        return job

    def wake(self) -> None:
        """Re-check the stepper now (after the GUI changed the chain state)."""
        with self._cv:
            self._cv.notify_all()

    def pending(self) -> int:
        """Number of queued tasks plus the one running."""
        with self._cv:
            return len(self._tasks) + len(self._jobs) + (1 if self.busy else 0)

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Stop after the current task or step, drop queued tasks and join the thread."""
        with self._cv:
            self._stop = True
            self._tasks.clear()
            for job in self._jobs:
                job.cancelled = True
            self._cv.notify_all()
        self._closed = True
        if self.isRunning():
            return self.wait(timeout_ms)
        return True

    def _on_deliver(self, callback, payload) -> None:
        if self._closed or callback is None:
            return
        callback(payload)

    def _on_job_value(self, job: Job, _payload) -> None:
        value = job._take()
        if not self._closed and not job.cancelled and job.on_yield is not None:
            job.on_yield(value)

    def _advance(self, job: Job) -> None:
        """One ``next()`` of ``job`` (engine thread); finishes, fails or re-queues it."""
        if job.cancelled:
            if job._gen is not None:
                job._gen.close()
            return
        try:
            if job._gen is None:
                job._gen = job._gen_fn()
            value = next(job._gen)
        except StopIteration as stop:
            job.finished = True
            self._deliver.emit(lambda v, job=job: job.on_done(v) if job.on_done and not job.cancelled else None,
                               stop.value)
            return
        except Exception as e:  # errors come back as data
            job.finished = True
            if job.on_error is None:
                traceback.print_exc()
            self._deliver.emit(lambda m, job=job: job.on_error(m) if job.on_error and not job.cancelled else None,
                               error_text(e))
            return
        if job._offer(value):
            self._deliver.emit(lambda p, job=job: self._on_job_value(job, p), None)
        with self._cv:
            self._jobs.append(job)

    # ---- engine thread ---------------------------------------------------------------------------
    def _want_step(self) -> bool:
        s = self.stepper
        return s is not None and s.wants_step()

    def _has_idle_work(self) -> bool:
        s = self.stepper
        return s is not None and callable(getattr(s, "has_idle_work", None)) and s.has_idle_work()

    def run(self) -> None:  # the thread body (QThread.run)
        while True:
            with self._cv:
                idle = False
                while not self._stop and not self._tasks and not self._jobs and not self._want_step():
                    idle = self._has_idle_work()
                    if idle:
                        break
                    self._cv.wait(0.05)
                if self._stop:
                    break
                task = self._tasks.popleft() if self._tasks else None
                job = self._jobs.popleft() if task is None and self._jobs else None
                if task is not None or job is not None or self._want_step():
                    idle = False
                self.busy = not idle
            try:
                if task is not None:
                    fn, on_done, on_error = task
                    try:
                        result = fn()
                    except Exception as e:  # errors come back as data
                        if on_error is None:
                            traceback.print_exc()
                        self._deliver.emit(on_error, error_text(e))
                    else:
                        self._deliver.emit(on_done, result)
                elif job is not None:
                    self._advance(job)
                elif idle:
                    try:
                        self.stepper.idle_work()
                    except Exception:  # idle work is optional: drop it, keep the thread
                        traceback.print_exc()
                else:
                    try:
                        self.stepper.step()
                    except Exception:  # a stepper must not kill the thread
                        traceback.print_exc()
            finally:
                self.busy = False
