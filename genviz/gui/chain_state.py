"""The chain panel's state as plain Python objects (model/view split): no Qt, no torch import.

The engine thread appends ``Record`` objects to a ``Branch``; the view reads them on a timer. All
mutation goes through ``ChainState`` methods, which hold one lock, so the two threads never see a
half-updated state. Tests drive and inspect this object directly.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# per-sample figures a sampler may put in ``ChainStep.stats`` for its ``plot_keys``, kept in ``Record.extra``
# (the autoregressive sampler's p(next pixel = 1) and running −log p); ``widgets.plots.SERIES`` titles them
EXTRA_KEYS = frozenset(("p_next", "nll"))


@dataclass
class Record:
    """One recorded chain step, stored compactly.

    Attributes:
        index: step index within the whole chain (0 = the initial noise; a branch's first record has
            the index of the step it was branched from).
        t: timestep the network was evaluated at (for record 0, the timestep of the initial state).
        t_next: timestep of the state ``x`` (-1 = clean data).
        sigma: noise level of ``x``.
        x: (N, *data_shape) float32 CPU tensor, the exact state (needed to branch from this record), kept at
            keyframes only (``history.keyframe_every``; always a branch's first record); None elsewhere, where
            ``ChainRunner.exact_x`` rebuilds it by replaying from the nearest keyframe.
        x_u8: (N, C, H, W) uint8 preview of ``x`` in [0, 255].
        x0_u8: (N, C, H, W) uint8 preview of the predicted clean sample, or None (record 0).
        x_norm: mean over the batch of ||x_t||.
        eps_norm: mean over the batch of ||eps_hat|| (None for record 0).
        probs: (N, K) classifier probabilities of x0_hat (of x for samplers without a prediction), or None.
        energy: mean over the batch of E(x) for energy models (None otherwise).
        grad_norm: mean over the batch of ||grad E(x)|| (or ||score||) at this step's input (Langevin-type).
        accept: MALA's acceptance rate over the batch at this step (None for other samplers).
        level: annealed Langevin's noise-level index (0-based), else None.
        drift_u8, noise_u8: (N, C, H, W) uint8 previews of the step's drift term and noise term (Langevin-type
            samplers; None otherwise), mapped so that 128 is zero and, per sample, the larger of the two
            terms' max |value| reaches 0 or 255 -- the two are drawn on one scale and compare by eye.
        drift_norms, noise_norms: (N,) float arrays, ||drift|| and ||noise|| of every sample.
        state: the backend record's ``state`` (a diffusers scheduler's history), what a branch from here resumes.
        rng: at a keyframe, the chain's generator state right after this record (what a replay continues from).
        extra: per-sample figures of a sampler's own ``plot_keys`` (the autoregressive ``p_next``, ``nll``):
            key -> (N,) float array; the plots show the selected sample's value.
    """

    index: int
    t: Any
    t_next: Any
    sigma: float
    x: Any
    x_u8: np.ndarray
    x0_u8: np.ndarray | None = None
    x_norm: float = float("nan")
    eps_norm: float | None = None
    probs: np.ndarray | None = None
    energy: float | None = None
    grad_norm: float | None = None
    accept: float | None = None
    level: int | None = None
    drift_u8: np.ndarray | None = None
    noise_u8: np.ndarray | None = None
    drift_norms: np.ndarray | None = None
    noise_norms: np.ndarray | None = None
    state: Any = None
    rng: Any = None
    extra: dict = field(default_factory=dict)


@dataclass
class Branch:
    """One chain (the first run, or a branch from a record of another branch).

    ``prefix`` holds the parent's records before the branch point ``start`` (shared, not copied), so
    ``history()`` is indexed by the global step index, like the parent's, and branches compare step
    by step. ``records`` are this branch's own records; ``records[0]`` is the branch point's state.
    ``timesteps`` is the whole chain's timestep grid (the same for every branch of a chain): global
    record i (i >= 1) is the state after the step at ``timesteps[i - 1]``, so a branch from record k
    runs ``timesteps[k:]``.
    """

    number: int
    sampler: str
    params: dict
    seed: int
    n: int
    timesteps: list
    grid: str = "timesteps"
    steps: int | None = None  # the steps it was started with, where records differ (a Heun scheduler: 2·steps − 1)
    start: int = 0
    parent: int | None = None
    prefix: list = field(default_factory=list)
    records: list = field(default_factory=list)
    done: bool = False
    stopped: bool = False
    gen: Any = None  # the backend chain generator; touched by the engine thread only
    rng: Any = None  # the chain's torch.Generator (keyframes save its state); engine thread only
    revision: int = 0  # bumped when records already shown change (the classifier filled in skipped steps)

    @property
    def total_steps(self) -> int:
        """Index of the last record this branch will have (the chain's full step count)."""
        return len(self.timesteps)

    def history(self) -> list:
        """Records 0..current, by global step index (parent prefix + own records)."""
        return self.prefix + self.records

    def __len__(self) -> int:
        return len(self.prefix) + len(self.records)

    @property
    def label(self) -> str:
        """Short human description, e.g. ``"Branch 2 (ddpm, seed 3) from step 12"``."""
        s = f"Branch {self.number}: {self.sampler}, seed {self.seed}"
        if self.parent is not None:
            s += f", from step {self.start} of branch {self.parent}"
        return s


class ChainState:
    """Everything the chain panel shows, shared between the GUI thread and the engine thread.

    Attributes:
        branches: list of ``Branch``; ``active`` indexes the one shown and stepped.
        running: the engine keeps stepping the active branch while True.
        pending_steps: single steps requested by the Step button, not yet done.
        position: the shown record (global step index) of the active branch.
        follow: the view jumps to the newest record as it arrives (False once the user scrubs back).
        selected: the selected sample (tile) index.
        step_interval: slow motion, in seconds: a running chain takes at most one step per interval (0 = as
            fast as the model allows; Step is never delayed).
        steps_per_s: measured speed of the running chain.
        error: last error message from the engine (None when fine).
        version: increases on every change, so the view redraws only when needed.
    """

    def __init__(self):
        self.lock = threading.RLock()
        self.branches: list[Branch] = []
        self.active = -1
        self.running = False
        self.pending_steps = 0
        self.position = 0
        self.follow = True
        self.selected = 0
        self.steps_per_s = 0.0
        self.error: str | None = None
        self.version = 0
        self.step_interval = 0.0  # slow motion: at least this many seconds between running steps
        self._last_step_time: float | None = None
        self._undo: tuple | None = None  # (branches, active, position) kept by the last clear(keep_undo=True)

    # ---- queries -------------------------------------------------------------------------------
    @property
    def branch(self) -> Branch | None:
        """The active branch, or None before the first chain."""
        with self.lock:
            return self.branches[self.active] if 0 <= self.active < len(self.branches) else None

    def history(self) -> list:
        """The active branch's records by global step index (empty list when there is none)."""
        b = self.branch
        return b.history() if b is not None else []

    def shown_record(self) -> Record | None:
        """The record at ``position`` of the active branch."""
        with self.lock:
            h = self.history()
            if not h:
                return None
            return h[max(0, min(self.position, len(h) - 1))]

    def wants_step(self) -> bool:
        """True when the engine should compute the next step of the active branch now."""
        with self.lock:
            b = self.branch
            if b is None or b.gen is None or b.done or b.stopped:
                return False
            if self.pending_steps > 0:
                return True
            if not self.running:
                return False
            # slow motion: a running chain waits until step_interval has passed since its last step
            return (self.step_interval <= 0 or self._last_step_time is None
                    or time.perf_counter() - self._last_step_time >= self.step_interval)

    @property
    def status(self) -> str:
        """``"empty"``, ``"running"``, ``"paused"``, ``"done"`` or ``"stopped"``."""
        with self.lock:
            b = self.branch
            if b is None:
                return "empty"
            if b.done:
                return "done"
            if b.stopped:
                return "stopped"
            return "running" if self.running else "paused"

    # ---- mutations -----------------------------------------------------------------------------
    def touch(self) -> None:
        """Mark the state changed (the view redraws)."""
        with self.lock:
            self.version += 1

    @property
    def can_undo(self) -> bool:
        """True when the last Reset's branches can be brought back (``undo_reset``)."""
        return self._undo is not None

    def clear(self, keep_undo: bool = False) -> None:
        """Forget every branch (Reset, or a new model). With ``keep_undo`` the branches are kept for one
        ``undo_reset`` (a Reset); without it (a new model) any kept ones are dropped too."""
        with self.lock:
            self._undo = (self.branches, self.active, self.position) if keep_undo and self.branches else None
            self.branches = []
            self.active = -1
            self.running = False
            self.pending_steps = 0
            self.position = 0
            self.follow = True
            self.steps_per_s = 0.0
            self.error = None
            self.version += 1

    def undo_reset(self) -> bool:
        """Bring back the branches the last Reset forgot (paused, as they were); False when there are none."""
        with self.lock:
            if self._undo is None:
                return False
            self.branches, self.active, self.position = self._undo
            self._undo = None
            self.running = False
            self.pending_steps = 0
            self.follow = self.branch is not None and self.position >= len(self.branch) - 1
            self.error = None
            self.version += 1
            return True

    def add_branch(self, branch: Branch) -> None:
        """Append ``branch`` (holding its first record) and make it the active one, paused."""
        with self.lock:
            self.running = False
            self.pending_steps = 0
            self.branches.append(branch)
            self.active = len(self.branches) - 1
            self.position = len(branch) - 1
            self.follow = True
            self.version += 1

    def set_active(self, i: int) -> None:
        """Show branch ``i`` (stops stepping the previous one)."""
        with self.lock:
            if 0 <= i < len(self.branches) and i != self.active:
                self.running = False
                self.pending_steps = 0
                self.active = i
                self.position = min(self.position, len(self.branches[i]) - 1)
                self.follow = self.position == len(self.branches[i]) - 1
                self.version += 1

    def append(self, branch: Branch, rec: Record, last: bool) -> None:
        """Engine side: ``rec`` is the next record of ``branch``; ``last`` marks the chain's end."""
        now = time.perf_counter()
        with self.lock:
            branch.records.append(rec)
            if last:
                branch.done = True
                if branch is self.branch:
                    self.running = False
            if self.pending_steps > 0 and branch is self.branch:
                self.pending_steps -= 1
            if self._last_step_time is not None and self.running:
                dt = max(now - self._last_step_time, 1e-6)
                self.steps_per_s = 1.0 / dt if self.steps_per_s == 0 else 0.8 * self.steps_per_s + 0.2 / dt
            self._last_step_time = now
            if branch is self.branch and self.follow:
                self.position = len(branch) - 1
            self.version += 1

    def finish(self, branch: Branch) -> None:
        """Engine side: ``branch``'s generator is exhausted: mark it done and stop running."""
        with self.lock:
            branch.done = True
            self.running = False
            self.pending_steps = 0
            self.version += 1

    def fail(self, message: str) -> None:
        """Engine side: a step failed; stop running and keep the message for the view."""
        with self.lock:
            self.error = message
            self.running = False
            self.pending_steps = 0
            b = self.branch
            if b is not None:
                b.stopped = True
            self.version += 1

    def scrub(self, position: int) -> None:
        """Show record ``position``; the view follows new records only when it is the newest."""
        with self.lock:
            n = len(self.history())
            self.position = max(0, min(int(position), max(n - 1, 0)))
            self.follow = self.position >= n - 1
            self.version += 1

    def request_step(self) -> bool:
        """Ask for exactly one more step (False when the chain cannot go on)."""
        with self.lock:
            b = self.branch
            if b is None or b.done or b.stopped or b.gen is None:
                return False
            self.pending_steps += 1
            self.follow = True
            self.position = len(b) - 1
            self._last_step_time = None
            self.version += 1
            return True

    def restore_view(self, active=None, position=None, selected=None) -> None:
        """Show branch ``active``, record ``position`` and sample ``selected`` (a restored session; values out of
        range are clamped, None keeps the current one)."""
        with self.lock:
            if active is not None and 0 <= int(active) < len(self.branches):
                self.active = int(active)
            hist = self.history()
            if position is not None:
                self.position = max(0, min(int(position), len(hist) - 1))
                self.follow = self.position >= len(hist) - 1
            elif self.branch is not None:
                self.position = len(hist) - 1
                self.follow = True
            if selected is not None:
                self.selected = max(0, int(selected))
            self.version += 1

    def set_running(self, running: bool) -> bool:
        """Run or pause the active branch (False when it cannot run)."""
        with self.lock:
            b = self.branch
            if running and (b is None or b.done or b.stopped or b.gen is None):
                return False
            self.running = running
            if running:
                self.follow = True
                self.position = len(b) - 1
                self._last_step_time = None
            else:
                self.pending_steps = 0
                self.steps_per_s = 0.0
            self.version += 1
            return True

    def stop(self) -> None:
        """Stop the active branch for good (its generator is dropped by the engine)."""
        with self.lock:
            self.running = False
            self.pending_steps = 0
            self.steps_per_s = 0.0
            b = self.branch
            if b is not None and not b.done:
                b.stopped = True
            self.version += 1
