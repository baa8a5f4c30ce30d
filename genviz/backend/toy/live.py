"""Live training of a 2-D toy model as a generator: progress (step, loss), a loss curve and, now and then, a
preview of the model being trained (GAN Lab style), for the density panel's engine jobs.

``train_live`` is a plain loop over ``genviz.backend.training.toy.train_steps`` in the caller's thread (the
panel's engine thread): it yields every ``PROGRESS_EVERY`` steps, so the engine can run other tasks between two
values, and closing it stops the training at once. Previews are views of ``TrainStep.snapshot()``, a copy of
the current (EMA) weights: no helper thread, no checkpoint files.
"""
from __future__ import annotations

import time
from typing import Callable, Generator

import numpy as np

PROGRESS_EVERY = 10      # yield progress every 10 optimisation steps (and at the last)
HISTORY_MAX = 2000       # loss-curve points kept (older ones thinned to every other point)


class LossHistory:
    """The loss curve of a run: (step, loss) points, at most ``limit`` of them (when full, every other point
    is dropped and the sampling stride doubles, so the curve keeps its whole range)."""

    def __init__(self, limit: int = HISTORY_MAX):
        if limit < 2:
            raise ValueError(f"limit must be >= 2, got {limit}")
        self.limit = limit
        self.stride = 1
        self._points: list[tuple[int, float]] = []
        self._seen = 0

    def add(self, step: int, loss: float) -> None:
        """Record ``loss`` at ``step`` (kept when it falls on the current stride)."""
        self._seen += 1
        if (self._seen - 1) % self.stride:
            return
        self._points.append((int(step), float(loss)))
        if len(self._points) > self.limit:
            self._points = self._points[::2]
            self.stride *= 2

    def array(self) -> np.ndarray:
        """(K, 2) float64 array of [step, loss] rows (a copy)."""
        return np.asarray(self._points, np.float64).reshape(-1, 2)

    def __len__(self) -> int:
        return len(self._points)


def train_live(dataset: str, family: str, steps: int, *, dataset_obj=None, seed: int = 0,
               view_fn: Callable | None = None, preview_s: float = 1.0,
               **overrides) -> Generator[dict, None, object]:
    """Train a toy model (``training.toy.train_steps``), yielding progress every ``PROGRESS_EVERY`` steps.

    Args:
        dataset: a dataset name (any label with ``dataset_obj``, e.g. ``"user"``); family: ``training.toy.MODELS``.
        steps: optimisation steps (>= 1).
        dataset_obj: the ``ToyDataset`` to train on (default ``make_dataset(dataset)``).
        seed: the recipe's seed (weights, data pool, batches).
        view_fn: ``view_fn(model) -> value`` for previews of the model being trained (e.g. ``compute_views``
            without readouts), called here with ``TrainStep.snapshot()`` (a copy of the current weights); None:
            no previews.
        preview_s: at least this many seconds of training between two previews (more when a preview is slow:
            previews take at most about a third of the time); the first comes after ``preview_s``.
        **overrides: recipe hyper-parameters (``training.toy.RECIPES``), on top of the family's live ones
            (``training.toy.LIVE[family].overrides``, e.g. diffusion's higher learning rate for short runs).
    Yields:
        dicts with ``step``, ``steps``, ``loss`` (running average of the family's training loss, finite),
        ``seconds`` (training time so far), ``history`` ((K, 2) [step, loss] rows), ``preview`` (the latest
        ``view_fn`` value or None) and ``preview_step`` (the step it shows, or None).
    Returns:
        The trained family object (as ``train_steps`` returns it; ``path`` None).
    Raises:
        ValueError: as ``train_steps`` (unknown family or parameter, steps < 1, divergence), from the first
        ``next``. Closing the generator stops the training (nothing runs in the background).
    """
    from ..training.toy import LIVE, train_steps
    live = LIVE[family].overrides if family in LIVE else {}
    gen = train_steps(dataset, family, steps, seed, dataset_obj, **{**live, **overrides})
    history = LossHistory()
    preview, preview_step, next_preview = None, None, time.perf_counter() + preview_s
    try:
        while True:
            try:
                p = next(gen)
            except StopIteration as stop:
                model = stop.value
                model.path = None
                return model
            if p.step % PROGRESS_EVERY and p.step != p.steps:
                continue
            history.add(p.step, p.loss)
            if view_fn is not None and p.step != p.steps and time.perf_counter() >= next_preview:
                t0 = time.perf_counter()
                preview, preview_step = view_fn(p.snapshot()), p.step
                cost = time.perf_counter() - t0
                next_preview = time.perf_counter() + max(preview_s, 2 * cost)
            yield {"step": p.step, "steps": p.steps, "loss": p.loss, "seconds": p.seconds,
                   "history": history.array(), "preview": preview, "preview_step": preview_step}
    finally:
        gen.close()
