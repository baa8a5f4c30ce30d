"""The interpolation panel's engine work: the walk, the slider's live frame and the picker's samples.

``PanelJobs`` lives on the GUI thread and only hands functions to the window's ``Engine``: the walk and the
picker run as generator jobs (``Engine.submit_job``: the latest value reaches the GUI, ``cancel()`` stops
them between two frames), the live frame as a task (one at a time; the newest slider position waits).
Torch is imported on the engine thread only. Each callback is called on the GUI thread, and only for the
newest request of its kind: answers about a superseded walk, model or picker page are dropped here.
"""
from __future__ import annotations

from typing import Callable

from ...engine import Engine


class PanelJobs:
    """Starts, supersedes and cancels the panel's engine work (GUI thread only).

    Attributes:
        walk: the decoded walk (a backend ``WalkResult``: opaque here, handed back to the engine for live
            frames), or None.
        live_busy: a live frame is being decoded.
    """

    def __init__(self, engine: Engine):
        self.engine = engine
        self.walk = None
        self.live_busy = False
        self._walk_job = None
        self._live_pending: float | None = None
        self._picker_job = None
        self.picker_key = None  # the key of the samples shown or on their way

    # ---- the walk ----------------------------------------------------------------------------------
    @property
    def walking(self) -> bool:
        """A walk is running."""
        return self._walk_job is not None

    def start_walk(self, model, request: dict, on_progress: Callable, on_done: Callable, on_error: Callable) -> None:
        """Run ``genviz.backend.walk.walk(model, **request)``; a running walk is cancelled first.
        ``on_progress(WalkProgress)`` gets the latest frames, then ``on_done(WalkResult)`` or ``on_error(msg)``."""
        self.cancel_walk()
        self.walk, self._live_pending = None, None

        def gen():  # on the engine thread
            from genviz.backend.walk import walk
            return walk(model, **request)

        def done(result) -> None:
            if job is self._walk_job:
                self._walk_job, self.walk = None, result
                on_done(result)

        def failed(msg: str) -> None:
            if job is self._walk_job:
                self._walk_job = None
                on_error(msg)

        job = self.engine.submit_job(gen, lambda p: job is self._walk_job and on_progress(p), done, failed)
        self._walk_job = job

    def cancel_walk(self) -> bool:
        """Cancel the running walk; True when one was running."""
        job, self._walk_job = self._walk_job, None
        if job is None:
            return False
        job.cancel()
        return True

    def forget_walk(self) -> None:
        """Drop the decoded walk (a new model); a live frame on its way is dropped too."""
        self.cancel_walk()
        self.walk, self._live_pending = None, None

    # ---- the live frame ------------------------------------------------------------------------------
    def decode_live(self, t: float, on_frame: Callable, on_error: Callable) -> None:
        """Decode the decoded walk's frame at t: ``on_frame(t, image (1, C, H, W) in [0, 1], ‖z‖)``. While one
        is being decoded, only the newest t waits."""
        if self.walk is None:
            return
        if self.live_busy:
            self._live_pending = t
            return
        self.live_busy = True
        walk = self.walk

        def task():  # on the engine thread
            from genviz.backend.walk import decode_point
            return decode_point(walk.space, walk.corners[0], walk.corners[1], walk.method, t)

        def after() -> None:
            self.live_busy = False
            nxt, self._live_pending = self._live_pending, None
            if nxt is not None and walk is self.walk and abs(nxt - t) > 1e-9:
                self.decode_live(nxt, on_frame, on_error)

        def done(res) -> None:
            if walk is self.walk:
                on_frame(t, *res)
            after()

        def failed(msg: str) -> None:
            if walk is self.walk:
                on_error(msg)
            after()

        self.engine.submit(task, done, failed)

    # ---- the picker ----------------------------------------------------------------------------------
    def picker_samples(self, key, model, seeds: list[int], steps: int | None, on_images: Callable,
                       on_error: Callable) -> None:
        """Decode z_s for ``seeds`` (``genviz.backend.walk.seed_samples``): ``on_images((k, C, H, W) in [0, 1])``
        as they arrive. Nothing happens when ``key`` is the key of the samples shown or on their way."""
        if key == self.picker_key:
            return
        self.cancel_picker()
        self.picker_key = key

        def gen():  # on the engine thread
            from genviz.backend.walk import seed_samples
            return seed_samples(model, seeds, steps)

        def show(imgs) -> None:
            if job is self._picker_job and len(imgs):
                on_images(imgs)

        def failed(msg: str) -> None:
            if job is self._picker_job:
                self._picker_job, self.picker_key = None, None
                on_error(msg)

        job = self.engine.submit_job(gen, show, show, failed)
        self._picker_job = job

    def cancel_picker(self) -> None:
        """Cancel the picker's samples on their way (they will be decoded again when asked)."""
        if self._picker_job is not None:
            self._picker_job.cancel()
        self._picker_job, self.picker_key = None, None

    def stop(self) -> None:
        """Cancel everything (a new model, or the window closes)."""
        self.forget_walk()
        self.cancel_picker()
