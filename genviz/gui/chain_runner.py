"""Engine-thread side of the GUI: load models, start chains and branches, compute chain steps.

Everything here runs on the ``Engine`` thread and imports torch and ``genviz.backend`` lazily, so
importing this module is cheap. Results land in a ``ChainState`` (records) or come back as return
values of engine tasks.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from ..backend.imaging import to_uint8
from .chain_state import EXTRA_KEYS, Branch, ChainState, Record
from .history import (
    EXACT_BYTES,
    KEYFRAME_BYTES,
    PREVIEW_BYTES,
    HistoryBlocks,
    keyframe_every,
    preview_factor,
    shrink_u8,
)

CLASSIFIER_NAME = "mnist-classifier"


@dataclass
class LoadedModel:
    """What a successful load hands to the GUI thread.

    Attributes:
        model: the backend model (DiffusionModel, ClassifierModel, ...).
        classifier: the data set's bundled classifier (``backend.judges``; digits for MNIST, categories for
            emoji) for image models with a chain sampler, else None.
        samplers: the SamplerSpecs that run on the model.
        devices: device choices available on this machine ("auto", "cpu", "cuda", "mps").
        note: extra information for the status bar (e.g. why there is no classifier).
    """

    model: Any
    classifier: Any = None
    samplers: list = field(default_factory=list)
    devices: list = field(default_factory=list)
    note: str = ""


_configured = False


def configure_torch() -> None:
    """Leave one CPU core to the GUI: torch uses cpu_count - 1 threads (``GENVIZ_TORCH_THREADS``
    overrides). With all cores, OpenMP threads spin against the GUI (and any other busy process) and
    a step can get many times slower."""
    global _configured
    if _configured:
        return
    import os

    import torch
    n = os.environ.get("GENVIZ_TORCH_THREADS")
    try:
        n = int(n) if n else max(1, (os.cpu_count() or 2) - 1)
    except ValueError:
        n = max(1, (os.cpu_count() or 2) - 1)
    torch.set_num_threads(n)
    _configured = True


def available_devices() -> list[str]:
    """Device names selectable on this machine (imports torch)."""
    import torch
    out = ["auto", "cpu"]
    if torch.cuda.is_available():
        out.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        out.append("mps")
    return out


def load_model(name_or_path: str, device: str = "auto") -> LoadedModel:
    """Load a checkpoint and, for image models with a chain sampler whose data set has a bundled judge
    (``backend.judges.JUDGES``: the digit classifier for MNIST, the category classifier for emoji), that
    classifier."""
    configure_torch()
    from genviz.backend import list_checkpoints, load_checkpoint, samplers_for
    from genviz.backend.judges import JUDGES
    model = load_checkpoint(name_or_path, device=device)
    classifier, note = None, ""
    from genviz.panels import get_panel
    judges = JUDGES.get(model.dataset or "")
    if judges is not None and tuple(model.data_shape) == judges.shape and get_panel("chain").supports(model):
        name = judges.classifier
        if any(i.name == name for i in list_checkpoints()):
            try:
                clf = load_checkpoint(name, device=str(model.device))
                if clf.traits.classifier and tuple(clf.data_shape) == tuple(model.data_shape):
                    classifier = clf
            except Exception as e:  # the chain works without it
                note = f"{judges.what} classifier not loaded: {e}"
        else:
            note = f"no bundled {name} checkpoint: the {judges.what} probabilities are hidden"
    return LoadedModel(model, classifier, samplers_for(model), available_devices(), note)


def list_bundled() -> list:
    """``list_checkpoints()`` (runs on the engine thread: it imports torch)."""
    configure_torch()
    from genviz.backend import list_checkpoints
    return list_checkpoints()


class ChainRunner:
    """Owns the backend chain generators of every branch and turns their steps into ``Record``s.

    Methods run on the engine thread; ``wants_step``/``step`` are the ``Engine`` stepper protocol.
    """

    # while running, the digit classifier may cost at most this share of the steps; the records it skips are
    # classified afterwards, while the engine is idle (``idle_work``)
    CLASSIFIER_BUDGET = 0.02

    def __init__(self, state: ChainState):
        self.state = state
        self.model = None
        self.classifier = None
        self._step_s = None       # moving average of one chain step's time (s)
        self._clf_s = None        # moving average of one classifier call's time (s)
        self._since_clf = 0       # steps since the classifier last ran
        self._unjudged: list = []  # (branch, record) the classifier skipped while running, newest last
        self.blocks = HistoryBlocks()  # every record's arrays live in preallocated blocks (no fragmentation)
        self.keyframe_bytes = KEYFRAME_BYTES  # the bounded history's budgets per record (gui.history)
        self.exact_bytes = EXACT_BYTES
        self.preview_bytes = PREVIEW_BYTES

    # ---- model -----------------------------------------------------------------------------------
    def set_model(self, loaded: LoadedModel | None) -> None:
        """Use a new model: every branch of the old one is dropped."""
        self.state.clear()
        self.blocks.clear()
        self._unjudged.clear()
        self.model = loaded.model if loaded else None
        self.classifier = loaded.classifier if loaded else None

    def move(self, device: str) -> str:
        """Move the model (and classifier) to ``device``; the chains go on there. Returns the device."""
        if self.model is None:
            raise ValueError("no model loaded")
        self.model.to(device)
        if self.classifier is not None:
            self.classifier.to(self.model.device)
        return str(self.model.device)

    # ---- records ---------------------------------------------------------------------------------
    def _u8(self, v, factor: int = 1):
        return shrink_u8(to_uint8(self.model.to_unit(v.detach().float()).cpu().numpy()), factor)

    @staticmethod
    def bounded(grid: str, rec) -> bool:
        """Whether a chain keeps only keyframes and (maybe shrunk) previews: denoising chains on a timestep
        grid, whose replay from a keyframe's x and generator state is exact. Langevin-type chains (a branch
        re-bases their step schedule) and diffusers schedulers (a history beyond x) keep every exact state."""
        return grid == "timesteps" and getattr(rec, "state", None) is None and rec.x.dim() == 4

    def policy(self, grid: str, rec) -> tuple[int, int]:
        """(records between exact keyframes, preview shrink factor) for a chain whose records look like
        ``rec`` (``history.keyframe_every`` / ``preview_factor``; (1, 1) when not ``bounded``)."""
        if not self.bounded(grid, rec):
            return 1, 1
        return (keyframe_every(rec.x.numel() * 4, self.keyframe_bytes, self.exact_bytes),
                preview_factor(tuple(rec.x.shape), self.preview_bytes))

    def _want_probs(self, last: bool) -> bool:
        """Whether to run the digit classifier on this record: always for single steps and the last record;
        while running, only as often as keeps it under ``CLASSIFIER_BUDGET`` of the chain's time (the
        p(final digit) curve then has a point every few steps)."""
        if self.classifier is None:
            return False
        if last or not self.state.running or self._step_s is None or self._clf_s is None:
            return True
        return self._clf_s <= self.CLASSIFIER_BUDGET * self._step_s * (self._since_clf + 1)

    def convert(self, rec, offset: int = 0, classify: bool = True, keyframe: bool = True, rng=None,
                factor: int = 1) -> Record:
        """Compact copy of a backend ChainStep: CPU float32 x (at a ``keyframe`` only, with the generator's
        state ``rng``), uint8 previews (shrunk by ``factor``), float stats, classifier probabilities (of x0_hat,
        or of x for samplers that make no prediction) and, for Langevin-type samplers, the drift and noise terms
        as signed previews with their per-sample norms."""
        import torch
        put = self.blocks.put
        x = put(rec.x.detach().to("cpu", torch.float32)) if keyframe else None
        x0_u8 = probs = eps_norm = None
        if rec.x0_hat is not None:
            x0_u8 = put(self._u8(rec.x0_hat, factor))
        judged = rec.x0_hat if rec.x0_hat is not None else (rec.x if rec.t is None else None)
        if classify and self.classifier is not None and judged is not None:  # Langevin states (t None) as they are
            t0 = time.perf_counter()
            probs = put(self.classifier.probs(judged.float()).float().cpu().numpy())
            dt = time.perf_counter() - t0
            self._clf_s = dt if self._clf_s is None else 0.8 * self._clf_s + 0.2 * dt
            self._since_clf = 0
        elif self.classifier is not None:
            self._since_clf += 1
        stats = rec.stats or {}

        def mean(key):
            return float(torch.as_tensor(stats[key]).float().mean()) if key in stats else None

        x_norm = mean("x_norm")
        if x_norm is None:
            x_norm = float(rec.x.detach().float().flatten(1).norm(dim=1).mean())
        eps_norm = mean("eps_norm")
        t = None if rec.t is None else int(rec.t)
        t_next = None if rec.t_next is None else int(rec.t_next)
        sigma = float(rec.sigma) if rec.sigma is not None else float("nan")
        out = Record(index=offset + int(rec.index), t=t, t_next=t_next, sigma=sigma, x=x,
                     x_u8=put(self._u8(rec.x, factor)), x0_u8=x0_u8, x_norm=x_norm, eps_norm=eps_norm, probs=probs,
                     energy=mean("energy"), grad_norm=mean("grad_norm"), accept=mean("accept"),
                     level=None if rec.level is None else int(rec.level), state=getattr(rec, "state", None),
                     rng=rng if keyframe else None)
        for key in EXTRA_KEYS.intersection(stats):  # a sampler's own per-sample figures (its plot_keys)
            out.extra[key] = torch.as_tensor(stats[key]).detach().float().cpu().reshape(-1).numpy()
        if rec.drift is not None and rec.x.dim() == 4:
            drift = rec.drift.detach().to("cpu", torch.float32)
            noise = (rec.noise.detach().to("cpu", torch.float32) if rec.noise is not None
                     else torch.zeros_like(drift))
            scale = torch.maximum(drift.flatten(1).abs().amax(1), noise.flatten(1).abs().amax(1)).clamp_min(1e-12)
            scale = scale.view(-1, 1, 1, 1)

            def signed_u8(v):
                return (128 + 127 * v / scale).round().clamp(0, 255).to(torch.uint8).numpy()

            out.drift_u8, out.noise_u8 = put(signed_u8(drift)), put(signed_u8(noise))
            out.drift_norms = drift.flatten(1).norm(dim=1).numpy()
            out.noise_norms = noise.flatten(1).norm(dim=1).numpy()
        return out

    # ---- chains ----------------------------------------------------------------------------------
    def _grid(self, sampler: str) -> str:
        from genviz.backend import get_sampler
        return getattr(get_sampler(sampler), "grid", "timesteps")

    def _chain(self, sampler: str, grid: str, rest: list, params: dict, **kw):
        from genviz.backend import chain
        if grid == "timesteps":
            return chain(self.model, sampler, steps=len(rest), timesteps=rest, **kw, **params)
        return chain(self.model, sampler, steps=len(rest), **kw, **params)

    def new_chain(self, sampler: str, steps: int, n: int, seed: int, params: dict) -> Branch:
        """Forget every branch (kept for one ``ChainState.undo_reset``) and start a fresh chain; its record 0 (the
        initial state) is recorded.

        Denoising samplers get an explicit timestep grid (``make_timesteps``); step-grid samplers
        (Langevin-type) get ``steps`` and a placeholder grid ``[steps-1, ..., 0]`` so that branching
        works the same way (a branch from record k runs the remaining ``steps - k`` steps).
        """
        from genviz.backend import make_timesteps
        if self.model is None:
            raise ValueError("no model loaded")
        grid = self._grid(sampler)
        if grid == "timesteps":
            ts = make_timesteps(self.model.num_train_timesteps, int(steps), params.get("timestep_spacing", "leading"))
        else:
            ts = list(range(int(steps) - 1, -1, -1))
        import torch
        g = torch.Generator().manual_seed(int(seed))  # what chain(seed=seed) would draw from; keyframes save it
        gen = iter(self._chain(sampler, grid, ts, params, n=int(n), seed=int(seed), generator=g))
        first_rec = next(gen)
        if first_rec.state is not None:  # a diffusers scheduler: one record per network call (Heun: 2·steps − 1)
            ts = list(range(int(first_rec.steps) - 1, -1, -1))
        first = self.convert(first_rec, rng=g.get_state(), factor=self.policy(grid, first_rec)[1])
        self.state.clear(keep_undo=True)  # a Reset: the old branches stay for one undo
        self._unjudged.clear()
        b = Branch(number=1, sampler=sampler, params=dict(params), seed=int(seed), n=int(n), timesteps=ts, steps=int(steps),
                   grid=grid, records=[first], gen=gen, rng=g)
        self.state.add_branch(b)
        return b

    def branch_from(self, source: Branch, position: int, sampler: str, params: dict, seed: int) -> Branch:
        """Start a new branch at global record ``position`` of ``source`` with new sampler/params/seed.

        The new branch runs the rest of the chain's timesteps from that record's exact state; the
        source branch is left as it is.
        """
        hist = source.history()
        if not 0 <= position < len(hist):
            raise ValueError(f"step {position} is not recorded in branch {source.number}")
        rest = source.timesteps[position:]
        if not rest:
            raise ValueError("the chain is finished at this step: scrub back to branch from an earlier step")
        grid = self._grid(sampler)
        if grid != source.grid:
            raise ValueError(f"cannot branch a {source.grid}-grid chain ({source.sampler}) into {sampler}: "
                             "pick a sampler of the same kind")
        src = hist[position]
        x_src = self.exact_x(source, position)  # kept, or replayed from the nearest keyframe
        params = dict(params)
        resume = {"resume": src.state} if src.state is not None else {}  # a scheduler's history, restored exactly
        import torch
        g = torch.Generator().manual_seed(int(seed))
        torch.randn(tuple(x_src.shape), generator=g)  # the draw chain(seed=seed, x_init=...) skips, skipped here
        gen = iter(self._chain(sampler, grid, rest, params, x_init=x_src, seed=int(seed), generator=g, **resume))
        first_rec = next(gen)
        first = self.convert(first_rec, offset=position, rng=g.get_state(), factor=self.policy(grid, first_rec)[1])
        # the branch point is the same state: keep the prediction that led to it for display
        first.t, first.x0_u8, first.eps_norm, first.probs = src.t, src.x0_u8, src.eps_norm, src.probs
        with self.state.lock:
            b = Branch(number=len(self.state.branches) + 1, sampler=sampler, params=params, seed=int(seed),
                       n=int(x_src.shape[0]), timesteps=list(source.timesteps), grid=grid, start=position,
                       parent=source.number, prefix=hist[:position], records=[first], gen=gen, rng=g)
            self.state.add_branch(b)
        return b

    def exact_x(self, branch: Branch, position: int):
        """The exact state (N, *data_shape) float32 CPU tensor at global record ``position`` of ``branch``: the
        kept one at a keyframe, else replayed from the nearest earlier keyframe of the branch that recorded
        it (its x and its generator's state), bit-identical to the state the chain had (engine thread).

        Raises:
            ValueError: ``position`` is not recorded in ``branch``.
        """
        import torch
        hist = branch.history()
        if not 0 <= position < len(hist):
            raise ValueError(f"step {position} is not recorded in branch {branch.number}")
        rec = hist[position]
        if rec.x is not None:
            return rec.x
        owner = branch
        while position < owner.start and owner.parent is not None:  # a prefix record: replay its own branch
            owner = self.state.branches[owner.parent - 1]
        own = owner.history()
        j = position
        while own[j].x is None:
            j -= 1
        key = own[j]
        g = torch.Generator()
        g.set_state(key.rng)
        resume = {"resume": key.state} if key.state is not None else {}
        gen = iter(self._chain(owner.sampler, owner.grid, owner.timesteps[j:], owner.params, x_init=key.x,
                               generator=g, **resume))
        r = next(gen)
        for _ in range(position - j):
            r = next(gen)
        return r.x.detach().to("cpu", torch.float32)

    # ---- Engine stepper protocol -----------------------------------------------------------------
    def wants_step(self) -> bool:
        """True when the active branch should advance now."""
        return self.model is not None and self.state.wants_step()

    def _divergence(self, x, index: int, b: Branch) -> str | None:
        """A one-line message when a denoising chain's state ``x`` (record ``index``) has left the data's domain,
        else None (``samplers.denoising.divergence``). Langevin-type samplers have their own guard (``max_norm``)."""
        if b.grid != "timesteps":
            return None
        from genviz.backend.samplers.denoising import divergence
        return divergence(x, self.model.data_range, index, b.params.get("clip_sample"))

    def has_idle_work(self) -> bool:
        """True when records wait for the classifier and no chain is running (cheap; engine thread)."""
        return bool(self._unjudged) and not self.state.running

    def idle_work(self) -> None:
        """Classify one record the classifier skipped while the chain ran (the newest first), so the
        p(final digit) curve is complete once the chain stops. It judges the record's 8-bit x̂₀ preview
        (x itself for Langevin-type states): the exact x̂₀ is not kept, and the preview differs from it by
        at most half a grey level."""
        import torch
        while self._unjudged:
            b, r = self._unjudged.pop()
            if r.probs is not None or self.classifier is None or not any(x is b for x in self.state.branches):
                continue
            if r.x0_u8 is not None:
                x = self.model.from_unit(torch.from_numpy(r.x0_u8).float() / 255)
                if x.shape[-1] != self.model.data_shape[-1]:  # a shrunk preview (gui.history): back to size
                    x = torch.nn.functional.interpolate(x, size=tuple(self.model.data_shape[-2:]), mode="nearest")
            else:
                x = r.x
            probs = self.classifier.probs(x.to(self.classifier.device)).float().cpu().numpy()
            with self.state.lock:
                r.probs = probs
                b.revision += 1
                self.state.touch()
            return

    def step(self) -> None:
        """Compute one step of the active branch and record it (errors go to ``state.error``)."""
        b = self.state.branch
        if b is None or b.gen is None or b.done or b.stopped:
            return
        try:
            t0 = time.perf_counter()
            rec = next(b.gen)
            dt = time.perf_counter() - t0
            self._step_s = dt if self._step_s is None else 0.8 * self._step_s + 0.2 * dt
            k, f = self.policy(b.grid, rec)
            index = b.start + rec.index
            keep = k == 1 or index % k == 0 or index >= b.total_steps
            r = self.convert(rec, offset=b.start, classify=self._want_probs(index >= b.total_steps), keyframe=keep,
                             rng=b.rng.get_state() if keep and b.rng is not None else None, factor=f)
        except StopIteration:
            b.gen = None
            self.state.finish(b)
            return
        except Exception as e:
            from .engine import error_text
            b.gen = None
            self.state.fail(f"chain step failed: {error_text(e)}")
            return
        problem = self._divergence(rec.x, r.index, b)
        last = r.index >= b.total_steps or problem is not None
        if last:
            b.gen = None
        if r.probs is None and self.classifier is not None and (r.x0_u8 is not None or rec.t is None):
            self._unjudged.append((b, r))
        self.state.append(b, r, last and problem is None)
        if problem is not None:  # the diverged step stays recorded, to be looked at; the branch stops
            self.state.fail(problem)
