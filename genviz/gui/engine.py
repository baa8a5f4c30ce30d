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


class Engine(QThread):
    """Worker thread with a task queue and an optional chain stepper.

    ``submit(fn, on_done, on_error)`` runs ``fn()`` on this thread; ``on_done(result)`` or
    ``on_error(message)`` is then called on the GUI thread. When no task is waiting and
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

    def wake(self) -> None:
        """Re-check the stepper now (after the GUI changed the chain state)."""
        with self._cv:
            self._cv.notify_all()

    def pending(self) -> int:
        """Number of queued tasks plus the one running."""
        with self._cv:
            return len(self._tasks) + (1 if self.busy else 0)

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Stop after the current task or step, drop queued tasks and join the thread."""
        with self._cv:
            self._stop = True
            self._tasks.clear()
            self._cv.notify_all()
        self._closed = True
        if self.isRunning():
            return self.wait(timeout_ms)
        return True

    def _on_deliver(self, callback, payload) -> None:
        if self._closed or callback is None:
            return
        callback(payload)

    # ---- engine thread ---------------------------------------------------------------------------
    def _want_step(self) -> bool:
        s = self.stepper
        return s is not None and s.wants_step()

    def _has_idle_work(self) -> bool:
        s = self.stepper
        return s is not None and callable(getattr(s, "has_idle_work", None)) and s.has_idle_work()

    def run(self) -> None:  # noqa: D401 (Qt override)
        while True:
            with self._cv:
                idle = False
                while not self._stop and not self._tasks and not self._want_step():
                    idle = self._has_idle_work()
                    if idle:
                        break
                    self._cv.wait(0.05)
                if self._stop:
                    break
                task = self._tasks.popleft() if self._tasks else None
                if task is not None or self._want_step():
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
