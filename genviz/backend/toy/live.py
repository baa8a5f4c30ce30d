"""Live training of a 2-D toy model as a generator: progress (step, loss), a loss curve and, now and then, a
preview of the model being trained (GAN Lab style), for the density panel's engine jobs.

``genviz.backend.training.toy.train`` is one blocking loop with callbacks (``progress`` every 10 steps,
``should_stop`` every step). ``train_live`` runs it on a helper thread in strict turns with the caller: the
helper trains while the caller waits in ``next()``, and waits while the caller works, so torch never runs on
both at once and the caller's thread can do other work between two values. Previews come from the checkpoint
the recipe writes every 10 steps (``out`` / ``save_every``) into a temporary folder, loaded as a separate model.
"""
from __future__ import annotations

import queue
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Generator

import numpy as np

PROGRESS_EVERY = 10      # the recipe reports progress (and here saves a preview checkpoint) every 10 steps
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
    """Train a toy model (``training.toy.train``), yielding progress every 10 steps.

    Args:
        dataset: a dataset name (any label with ``dataset_obj``, e.g. ``"user"``); family: ``training.toy.MODELS``.
        steps: optimisation steps (>= 1).
        dataset_obj: the ``ToyDataset`` to train on (default ``make_dataset(dataset)``).
        view_fn: ``view_fn(model) -> value`` for previews of the model being trained (e.g. ``compute_views``
            without readouts), run in the caller's thread; None: no previews (and no checkpoint files).
        preview_s: at least this many seconds of training between two previews (more when a preview is slow:
            previews take at most about a third of the time).
        **overrides: recipe hyper-parameters (``training.toy.RECIPES``).
    Yields:
        dicts with ``step``, ``steps``, ``loss`` (running average of the family's training loss), ``history``
        ((K, 2) [step, loss] rows), ``preview`` (the latest ``view_fn`` value or None) and ``preview_step``.
    Returns:
        The trained family object (as ``train`` returns it; ``path`` None).
    Raises:
        ValueError: as ``train`` (unknown family or parameter, steps < 1, divergence). Closing the generator
        cancels the training (the helper thread stops within one step and is joined).
    """
    from ..checkpoints import load_checkpoint
    from ..training.toy import train
    tmp = Path(tempfile.mkdtemp(prefix="genviz-live-")) if view_fn is not None else None
    out = tmp / "live.safetensors" if tmp is not None else None
    inbox: queue.Queue = queue.Queue()
    turn = threading.Semaphore(0)       # released by the caller: the helper may train on
    stop = threading.Event()

    def progress(i, n, loss):
        inbox.put(("progress", (i, n, loss)))
        turn.acquire()

    def run():
        try:
            model = train(dataset, family, steps, out, seed, dataset_obj=dataset_obj, log=None, progress=progress,
                          should_stop=stop.is_set, save_every=PROGRESS_EVERY, **overrides)
            inbox.put(("done", model))
        except BaseException as e:  # noqa: BLE001 (handed to the caller)
            inbox.put(("error", e))

    helper = threading.Thread(target=run, name="genviz-toy-train", daemon=True)
    history = LossHistory()
    preview, preview_step, next_preview = None, None, time.perf_counter() + preview_s
    helper.start()
    try:
        while True:
            kind, payload = inbox.get()
            if kind == "error":
                raise payload
            if kind == "done":
                payload.path = None
                return payload
            i, n, loss = payload
            history.add(i, loss)
            saved = (i - 1) // PROGRESS_EVERY * PROGRESS_EVERY   # last checkpoint written (step i's comes after)
            if view_fn is not None and saved > 0 and time.perf_counter() >= next_preview and out is not None and out.exists():
                t0 = time.perf_counter()
                preview, preview_step = view_fn(load_checkpoint(out, device="cpu")), saved
                cost = time.perf_counter() - t0
                next_preview = time.perf_counter() + max(preview_s, 2 * cost)
            yield {"step": i, "steps": n, "loss": loss, "history": history.array(), "preview": preview,
                   "preview_step": preview_step}
            turn.release()
    finally:
        stop.set()
        turn.release()
        helper.join(60)
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
