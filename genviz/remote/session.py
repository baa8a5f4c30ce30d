"""A chain session on the server: one loaded model, its chains and branches, stepped in a thread (Ray-free).

``ChainSession`` wraps the GUI's own chain machinery -- ``ChainRunner`` (``genviz.backend.api.chain`` under the
hood, the samplers' generators) recording into a ``ChainState`` -- so a remote chain records exactly what the
chain panel records in-process, and a chain stepped here equals the local one step for step. The server's Ray
actor (``genviz.remote.server``) holds one ``ChainSession``; tests drive it directly too.

Threads: ``run`` steps the active branch on a background thread until it ends, ``pause`` or ``cancel`` (both
take effect after the step being computed: within one step); every other call may come from any thread
(a threaded actor). One lock keeps the model to one thread at a time.
"""
from __future__ import annotations

import threading
import time

from ..gui.chain_runner import ChainRunner, load_model
from ..gui.chain_state import ChainState
from .wire import record_to_wire

MAX_RECORDS_PER_REPLY = 256
SWITCH_INTERVAL_S = 5e-5


class ChainSession:
    """One model and its chains, for one client.

    Args:
        path: checkpoint path (already checked against the served folders).
        device: torch device name for the model ("auto", "cpu", "cuda", ...).
    Raises:
        CheckpointError: the checkpoint cannot be loaded (the same no-code loader as everywhere).
    """

    def __init__(self, path: str, device: str = "auto"):
        import sys

        # the request threads wait for the GIL behind the stepping thread: Python's 5 ms switch interval would cost
        # up to that per record (the GUI's engine thread sets the same 0.05 ms, genviz.gui.engine.SWITCH_INTERVAL_S)
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        self.loaded = load_model(path, device)
        self.state = ChainState()
        self.runner = ChainRunner(self.state)
        self.runner.set_model(self.loaded)
        self._model_lock = threading.Lock()
        self._cv = threading.Condition()
        self._thread: threading.Thread | None = None
        self._cancelled = False
        self.last_seen = time.monotonic()

    # ---- description -----------------------------------------------------------------------------
    def describe(self) -> dict:
        """What a client needs to show the model: name, family, shapes, traits, samplers, classifier classes."""
        self.touch()
        m, ld = self.loaded.model, self.loaded
        clf = ld.classifier
        return {"name": str(m.name), "family": m.family, "dataset": str(m.dataset), "data_shape": list(m.data_shape),
                "data_range": [float(v) for v in m.data_range], "traits": m.traits.to_dict(),
                "default_sampler": dict(m.default_sampler),
                "num_train_timesteps": int(getattr(m, "num_train_timesteps", 0) or 0),
                "device": str(m.device), "metadata": _jsonable(getattr(m, "metadata", {})),
                "path": str(getattr(m, "path", "")), "samplers": [s.name for s in ld.samplers],
                "classifier_classes": (list(getattr(clf, "classes", range(10))) if clf is not None else None),
                "classifier_name": str(getattr(clf, "name", "")) if clf is not None else None,
                "note": ld.note}

    def touch(self) -> None:
        """Note that the client is still there (the server ends sessions not touched for its timeout)."""
        self.last_seen = time.monotonic()

    def idle_s(self) -> float:
        """Seconds since the client last called."""
        return time.monotonic() - self.last_seen

    # ---- chains ----------------------------------------------------------------------------------
    def _branch(self, number: int):
        bs = self.state.branches
        if not 1 <= int(number) <= len(bs):
            raise ValueError(f"no branch {number} (branches: 1..{len(bs)})")
        return bs[int(number) - 1]

    def _reply(self, b, first: int = 0) -> dict:
        """The branch's status and its own records from global index ``first`` on (at most MAX_RECORDS_PER_REPLY)."""
        with self.state.lock:
            own = b.records[max(0, first - b.start):]
            own = own[:MAX_RECORDS_PER_REPLY]
            st = self._status(b)
            return {"branch": b.number, "records": [record_to_wire(r) for r in own], "length": len(b),
                    "status": st, "error": self.state.error if b is self.state.branch else None,
                    "steps_per_s": float(self.state.steps_per_s)}

    def _status(self, b) -> str:
        if b.done:
            return "done"
        if b.stopped:
            return "stopped"
        return "running" if (b is self.state.branch and self.state.running) else "paused"

    def new_chain(self, sampler: str, steps: int, n: int, seed: int, params: dict) -> dict:
        """Forget the session's branches and start a fresh chain (record 0 recorded; paused).

        Returns ``{"branch", "timesteps", "grid", "records": [record 0], ...}``.
        Raises:
            ValueError: a sampler that does not fit, bad parameters (``genviz.backend.api.chain``'s checks).
        """
        self.touch()
        _check_size(steps, n)
        self._stop_thread(cancel=True)
        with self._model_lock:
            b = self.runner.new_chain(sampler, int(steps), int(n), int(seed), dict(params))
        return {**self._reply(b), "timesteps": list(b.timesteps), "grid": b.grid}

    def branch(self, source: int, position: int, sampler: str, params: dict, seed: int) -> dict:
        """Branch from global record ``position`` of branch ``source`` (its float32 state, kept here)."""
        self.touch()
        self._stop_thread(cancel=False)
        with self._model_lock:
            b = self.runner.branch_from(self._branch(source), int(position), sampler, dict(params), int(seed))
        return {**self._reply(b, b.start), "timesteps": list(b.timesteps), "grid": b.grid, "start": b.start}

    def step(self, branch: int) -> dict:
        """Compute exactly one step of ``branch`` (paused) and return its new record."""
        self.touch()
        self._stop_thread(cancel=False)
        b = self._activate(branch)
        n0 = len(b)
        with self._model_lock:
            self.runner.step()
        with self._cv:
            self._cv.notify_all()
        return self._reply(b, n0)

    def _activate(self, number: int):
        b = self._branch(number)
        i = self.state.branches.index(b)
        self.state.set_active(i)
        return b

    def run(self, branch: int) -> dict:
        """Step ``branch`` on a background thread until it ends or is paused/cancelled."""
        self.touch()
        self._stop_thread(cancel=False)
        b = self._activate(branch)
        if not self.state.set_running(True):
            return self._reply(b, len(b))
        self._cancelled = False
        self._thread = threading.Thread(target=self._loop, name="genviz-chain", daemon=True)
        self._thread.start()
        return self._reply(b, len(b))

    def _loop(self) -> None:
        while not self._cancelled and self.state.wants_step():
            with self._model_lock:
                if self._cancelled or not self.state.running:
                    break
                self.runner.step()
            with self._cv:
                self._cv.notify_all()
        with self._cv:
            self._cv.notify_all()

    def _stop_thread(self, cancel: bool) -> None:
        self.state.set_running(False)
        if cancel:
            self._cancelled = True
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join()
        self._thread = None
        with self._cv:
            self._cv.notify_all()

    def pause(self, branch: int, start: int = -1) -> dict:
        """Pause after the step being computed; the branch keeps its generator (resume continues exactly).
        Returns the records from global index ``start`` on (-1: none), so the client gets the ones it missed."""
        self.touch()
        self._stop_thread(cancel=False)
        b = self._branch(branch)
        return self._reply(b, len(b) if start < 0 else start)

    def cancel(self, branch: int, start: int = -1) -> dict:
        """End ``branch`` for good after the step being computed (its records stay; its generator is dropped);
        returns the records from ``start`` on like ``pause``."""
        self.touch()
        self._stop_thread(cancel=True)
        b = self._branch(branch)
        with self._model_lock:
            with self.state.lock:
                if not b.done:
                    b.stopped = True
                b.gen = None
                self.state.touch()
        return self._reply(b, len(b) if start < 0 else start)

    def records(self, branch: int, start: int, wait_s: float = 0.0, gather_s: float = 0.0) -> dict:
        """The records of ``branch`` from global index ``start`` on; waits up to ``wait_s`` seconds for one when
        there is none yet and the branch is running (long poll), then up to ``gather_s`` more for the records that
        follow it (fewer, larger replies: each request costs the machine a few ms of CPU)."""
        self.touch()
        b = self._branch(branch)
        deadline = time.monotonic() + max(0.0, min(float(wait_s), 30.0))
        with self._cv:
            while len(b) <= start and self._status(b) == "running" and time.monotonic() < deadline:
                self._cv.wait(max(0.0, deadline - time.monotonic()))
            gather = time.monotonic() + max(0.0, min(float(gather_s), 1.0))
            while (len(b) > start and self._status(b) == "running" and time.monotonic() < gather
                   and len(b) - start < MAX_RECORDS_PER_REPLY):
                self._cv.wait(max(0.0, gather - time.monotonic()))
        return self._reply(b, start)

    def latest(self, branch: int, after: int, wait_s: float = 0.0) -> dict:
        """Only the newest record of ``branch`` when its index is above ``after`` (the live view's stream: a slow
        client gets the newest frame, never a backlog); waits up to ``wait_s`` seconds for one."""
        out = self.records(branch, after + 1, wait_s)
        out["records"] = out["records"][-1:] if out["length"] - 1 > after else []
        if out["records"]:
            b = self._branch(branch)
            with self.state.lock:
                out["records"] = [record_to_wire(b.history()[-1])]
        return out

    def state_array(self, branch: int, index: int):
        """The float32 state x (N, *data_shape) of global record ``index`` of ``branch`` (numpy)."""
        self.touch()
        b = self._branch(branch)
        with self._model_lock:  # kept at a keyframe, else replayed from the nearest one (ChainRunner.exact_x)
            return self.runner.exact_x(b, int(index)).numpy()

    def close(self) -> None:
        """End every chain (the actor is going away)."""
        self._stop_thread(cancel=True)
        self.state.clear()


def sample_unit(model, sampler, steps, n: int, seed: int, params: dict):
    """``genviz sample``'s computation: the final batch of a chain in [0, 1] (images) or model space (vectors).

    Returns ``(samples float32 numpy (N, ...), sampler name, steps)``; the same code path as the local command
    (``genviz.backend.api.chain`` and the divergence check), so a seed gives the same bits on the same device kind.
    Raises:
        ValueError: bad sampler/parameters, or a chain that diverged (one line).
    """
    import numpy as np
    import torch

    from ..backend import chain
    from ..backend.api import resolve_sampler, sampler_settings
    from ..backend.samplers.denoising import divergence
    sampler, steps, params = resolve_sampler(model, sampler, steps, dict(params))
    steps = 50 if steps is None else steps
    _check_size(steps, n)
    clip = sampler_settings(sampler, params).get("clip_sample")
    last = None
    for rec in chain(model, sampler, steps=steps, n=n, seed=seed, **params):
        if model.family == "diffusion":
            problem = divergence(rec.x, model.data_range, rec.index, clip)
        else:
            problem = None if torch.isfinite(rec.x).all() else f"chain diverged at step {rec.index} (non-finite values)"
        if problem:
            raise ValueError(problem)
        last = rec
    assert last is not None
    x = last.x.float().cpu()
    unit = model.to_unit(x).numpy().astype(np.float32) if model.is_image else x.numpy().astype(np.float32)
    return unit, sampler, int(steps)


def _check_size(steps, n) -> None:
    """The CLI's bounds on what one request may ask the server to hold (``genviz.commands.LIMITS``).

    Raises:
        ValueError: steps or n out of range.
    """
    from ..commands import LIMITS
    if not 1 <= int(steps) <= LIMITS["steps"]:
        raise ValueError(f"steps must be in 1..{LIMITS['steps']}, got {steps}")
    if not 1 <= int(n) <= LIMITS["n"]:
        raise ValueError(f"n must be in 1..{LIMITS['n']}, got {n}")


def _jsonable(v):
    import json
    try:
        json.dumps(v)
        return v
    except (TypeError, ValueError):
        return json.loads(json.dumps(v, default=str))
