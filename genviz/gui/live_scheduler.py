"""Live mode's debounce policy: when to start a new generation while the user draws. No Qt here.

The policy of Krita AI Diffusion's ``LiveScheduler`` (``ai_diffusion/model.py``): the GUI polls
every ``poll_interval`` (0.1 s) and asks ``should_generate(revision)``. A change is generated

- at once when generations are fast (average of the last 10 <= ``delay_threshold`` = 1.5 s);
- else ``grace_period`` (0.25 s) after the last change, so a burst of strokes becomes one request;
- but never later than ``max_wait`` (3 s) after the oldest change not yet generated, so continuous
  drawing still refreshes.

Only one generation runs at a time: while one is running, ``should_generate`` returns False and the
changes made meanwhile are generated after it finishes. The clock is injectable (tests).
"""
from __future__ import annotations

import time
from collections import deque
from typing import Callable, Hashable


class LiveScheduler:
    """Debounce policy for live generation.

    Args:
        clock: returns seconds (monotonic); default ``time.monotonic``.
    Attributes:
        poll_interval: how often the GUI should call ``should_generate`` (s).
        grace_period: wait after the last change when generations are slow (s).
        max_wait: longest delay after the oldest pending change (s).
        delay_threshold: average generation time (s) above which the grace period applies.
    """

    poll_interval = 0.1
    grace_period_slow = 0.25
    max_wait = 3.0
    delay_threshold = 1.5

    def __init__(self, clock: Callable[[], float] | None = None):
        self.clock = clock or time.monotonic
        self._last_input: Hashable = None
        self._last_change = 0.0
        self._oldest_change = 0.0
        self._has_changes = False
        self._running = False
        self._started = 0.0
        self.generation_times: deque = deque(maxlen=10)

    @property
    def average_generation_time(self) -> float:
        """Mean of the last 10 generation times (s); 0 before the first."""
        return sum(self.generation_times) / len(self.generation_times) if self.generation_times else 0.0

    @property
    def grace_period(self) -> float:
        """0 when generations are fast, else ``grace_period_slow``."""
        return self.grace_period_slow if self.average_generation_time > self.delay_threshold else 0.0

    @property
    def running(self) -> bool:
        return self._running

    @property
    def has_changes(self) -> bool:
        """A change is waiting to be generated."""
        return self._has_changes

    def notify_change(self, revision: Hashable) -> None:
        """Record the current input (e.g. the drawing's revision number plus the settings)."""
        if revision == self._last_input:
            return
        now = self.clock()
        self._last_input = revision
        self._last_change = now
        if not self._has_changes:
            self._oldest_change = now
        self._has_changes = True

    def should_generate(self, revision: Hashable | None = None) -> bool:
        """Poll: True when a generation of the current input should start now.

        ``revision``, if given, is passed to ``notify_change`` first.
        """
        if revision is not None:
            self.notify_change(revision)
        if not self._has_changes or self._running:
            return False
        now = self.clock()
        return (now - self._last_change >= self.grace_period) or (now - self._oldest_change >= self.max_wait)

    def notify_started(self) -> None:
        """A generation of the current input started: its changes are taken."""
        self._running = True
        self._has_changes = False
        self._started = self.clock()

    def notify_finished(self, ok: bool = True) -> None:
        """The running generation finished (``ok``: its time counts toward the average)."""
        if self._running and ok:
            self.generation_times.append(self.clock() - self._started)
        self._running = False
