"""``chain`` and ``sample``: the one entry point every panel, the CLI and scripts use to run a sampler."""
from __future__ import annotations

from typing import Iterator, Sequence, overload

import torch

from .samplers import ChainStep, get_sampler, make_timesteps


def initial_noise(model, n: int, seed: int = 0, generator: torch.Generator | None = None) -> torch.Tensor:
    """x_init ~ N(0, I) of shape (n, *model.data_shape), drawn on a CPU generator seeded ``seed``.

    Seed s with n = 1 gives exactly ``torch.randn(data_shape, generator=torch.Generator().manual_seed(s))``.
    """
    g = generator if generator is not None else torch.Generator().manual_seed(int(seed))
    return torch.randn((n, *model.data_shape), generator=g).to(model.device)


def chain(model, sampler: str, *, steps: int, n: int | None = None, seed: int = 0,
          x_init: torch.Tensor | None = None, t_start: int | None = None,
          timesteps: Sequence[int] | None = None, buffer=None, resume=None, generator: torch.Generator | None = None,
          **params) -> Iterator[ChainStep]:
    """Run a sampler step by step.

    Args:
        model: a loaded model (see ``load_checkpoint``) of a family the sampler supports.
        sampler: a registered name (``ddpm``, ``ddim``, ``ode-euler``, ``ode-heun``, ...).
        steps: number of chain steps (1..T for diffusion models).
        n: batch size (default: x_init's batch, else 1).
        seed: fixes x_init (when not given) and every noise draw: the chain replays exactly. With ``x_init``
            given, the draw a fresh chain would spend on x_init is skipped, so ``chain(seed=s, x_init=x_T)``
            with x_T the Gaussian x_init of seed s equals the fresh chain of seed s.
        x_init: (N, *data_shape) starting state in model space (default Gaussian noise at the first
            timestep).
        t_start: start from this training timestep (x_init must then be at that noise level); the
            chain's ``steps`` timesteps are spread from t_start down to 0 (SDEdit; branching).
        timesteps: explicit descending timesteps (overrides steps/t_start spacing), e.g. the rest of
            an earlier chain's grid when branching from one of its steps.
        buffer: a ``ReplayBuffer`` for ``init="buffer"`` (persistent chains); the chain's final
            states are pushed into it when the chain is exhausted.
        resume: a record's ``state`` (``ChainStep.state``, diffusers schedulers): the chain continues that
            record's chain from it (x_init = that record's x), its scheduler history restored exactly.
        generator: a CPU ``torch.Generator`` to draw every noise from instead of one seeded with ``seed``, as it
            is: with ``x_init`` no draw is skipped, so a chain given record k's x and the generator's state
            saved right after record k was yielded replays the recorded chain's steps k+1... bit for bit
            (``gui.chain_runner``'s keyframes; memoryless samplers only: a sampler's own history is not in x).
        **params: sampler parameters (see ``get_sampler(name).params``), e.g. ``eta=0.5``.
    Yields:
        ``steps + 1`` ChainStep records; record 0 is the initial state.
    Raises:
        ValueError: unknown sampler, a sampler that does not fit the model's family, an unknown or
            out-of-range parameter, bad steps/n/t_start, or x_init of the wrong shape, not a float tensor,
            non-finite or beyond |x| <= 1e6.
    """
    spec = get_sampler(sampler)
    if not spec.runs_on(model.traits):
        raise ValueError(f"sampler {sampler!r} does not apply to a {model.family} model "
                         f"(it serves: {', '.join(spec.families()) or 'no bundled family'})")
    kw = sampler_settings(sampler, params)
    steps = int(steps)
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if x_init is not None:  # the one check of a caller's starting state (a numpy array, NaN, 1e30: issue 20)
        if not torch.is_tensor(x_init):
            raise ValueError(f"x_init must be a torch.Tensor, got {type(x_init).__name__}")
        if not x_init.is_floating_point() or not bool(torch.isfinite(x_init).all()):
            raise ValueError("x_init must hold finite floating-point values")
        if x_init.numel() and float(x_init.abs().max()) > 1e6:
            raise ValueError(f"x_init holds values up to {float(x_init.abs().max()):.3g}; expected |x| <= 1e6")
    replay = generator is not None  # continue a recorded chain from its generator's state: no draw is skipped
    if generator is None:
        generator = torch.Generator().manual_seed(int(seed))
    if spec.grid == "latent":  # decoder sampling: x_init, if given, is the latent z (N, *latent_shape)
        if x_init is None:
            n = 1 if n is None else int(n)
            if n < 1:
                raise ValueError(f"n must be >= 1, got {n}")
            z = model.prior_latent(n, generator=generator)
        else:
            z = x_init
        return spec.fn(model, z, steps=steps, generator=generator, **kw)
    init = kw.pop("init", "gaussian")
    init_std = kw.pop("init_std", 1.0)
    reinit_prob = kw.pop("reinit_prob", 0.05)
    if x_init is None:
        n = 1 if n is None else int(n)
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        x = _init_state(model, n, generator, init, init_std, reinit_prob, buffer)
    else:
        if tuple(x_init.shape[1:]) != tuple(model.data_shape):
            raise ValueError(f"x_init has shape {tuple(x_init.shape)}, expected (N, {', '.join(map(str, model.data_shape))})")
        x = x_init.to(model.device, torch.float32)
        # The generator's first draw is the one a fresh chain spends on x_init. Skip it, so that the noise of
        # a chain started from a given state never repeats that state's own draw (a branch from record 0 with its
        # parent's seed had step-1 noise equal to x_T, cosine 1.0), and chain(seed=s, x_init=x_T of seed s)
        # replays the fresh chain of seed s exactly.
        if not replay:
            torch.randn(tuple(x.shape), generator=generator)
    if spec.grid == "timesteps":
        spacing = kw.pop("timestep_spacing", "leading")
        if timesteps is None:
            timesteps = make_timesteps(model.num_train_timesteps, steps, spacing, t_start)
        else:
            timesteps = [int(t) for t in timesteps]
            if (not timesteps or any(a <= b for a, b in zip(timesteps, timesteps[1:]))
                    or timesteps[0] >= model.num_train_timesteps or timesteps[-1] < 0):
                raise ValueError("timesteps must be a non-empty, strictly descending list in 0..T-1")
        gen = spec.fn(model, x, timesteps, generator=generator, **kw)
    elif resume is not None:
        import inspect
        if "resume" not in inspect.signature(spec.fn).parameters:
            raise ValueError(f"sampler {sampler!r} cannot continue a diffusers scheduler's chain: branch it with "
                             "the chain's own sampler")
        gen = spec.fn(model, x, steps=steps, generator=generator, resume=resume, **kw)
    else:
        gen = spec.fn(model, x, steps=steps, generator=generator, **kw)
    return gen if buffer is None else _push_last(gen, buffer)


def _init_state(model, n, generator, init, init_std, reinit_prob, buffer):
    """Initial chain states (n, *data_shape) on the model's device; see ``chain``'s ``init``."""
    def fresh(k):
        if init in ("gaussian", "buffer"):
            return torch.randn((k, *model.data_shape), generator=generator) * init_std
        lo, hi = model.data_range
        return torch.rand((k, *model.data_shape), generator=generator) * (hi - lo) + lo

    if init == "data":
        x = model.sample_data(n, generator) if hasattr(model, "sample_data") else None
        if x is None:
            raise ValueError(f"{model.name}: no data samples available for init='data'")
    elif init == "buffer":
        if buffer is None:
            raise ValueError("init='buffer' needs a ReplayBuffer passed as buffer=")
        x = buffer.draw(n, generator, fresh, reinit_prob)
    elif init in ("gaussian", "uniform"):
        x = fresh(n)
    else:
        raise ValueError(f"unknown init {init!r}")
    return x.to(model.device, torch.float32)


def _push_last(gen, buffer):
    last = None
    for rec in gen:
        last = rec
        yield rec
    if last is not None:
        buffer.push(last.x)


def sampler_settings(sampler: str, params: dict) -> dict:
    """Every parameter of ``sampler`` as the chain will use it: ``params`` (values may be strings, as from
    ``--param NAME=VALUE``) validated and typed, the sampler's defaults for the rest.

    Raises:
        ValueError: unknown sampler, unknown parameter, or a value of the wrong type or out of range.
    """
    known = {p.name: p for p in get_sampler(sampler).params}
    for k in params:
        if k not in known:
            raise ValueError(f"sampler {sampler!r} has no parameter {k!r} (parameters: {', '.join(known) or 'none'})")
    return {name: p.validate(params.get(name, p.default)) for name, p in known.items()}


@overload
def resolve_sampler(model, sampler: None, steps: int | None, params: dict) -> tuple[str, int, dict]: ...
@overload
def resolve_sampler(model, sampler: str | None, steps: int | None, params: dict) -> tuple[str, int | None, dict]: ...
def resolve_sampler(model, sampler: str | None, steps: int | None, params: dict) -> tuple[str, int | None, dict]:
    """Fill in the checkpoint's default sampler: ``sampler=None`` takes ``model.default_sampler``'s name, its
    steps (unless ``steps`` is given) and its parameters (under ``params``, which win). A named sampler keeps
    ``steps`` and ``params`` as given. Returns ``(sampler, steps, params)``; steps may stay None."""
    if sampler is not None:
        return sampler, steps, dict(params)
    d = dict(getattr(model, "default_sampler", {}))
    name = d.pop("name")
    default_steps = d.pop("steps", 50)
    return name, steps if steps is not None else default_steps, {**d, **params}


def sample(model, sampler: str | None = None, *, steps: int | None = None, n: int | None = None, seed: int = 0,
           x_init: torch.Tensor | None = None, **params) -> torch.Tensor:
    """Run a whole chain and return the final batch (N, *data_shape) in model space.

    ``sampler``/``steps`` default to the checkpoint's default sampler and its parameters.
    Same arguments and errors as ``chain``.
    """
    sampler, steps, params = resolve_sampler(model, sampler, steps, params)
    if steps is None:
        raise ValueError("steps is required when a sampler is named")
    last = None
    for rec in chain(model, sampler, steps=steps, n=n, seed=seed, x_init=x_init, **params):
        last = rec
    assert last is not None  # a chain yields at least its initial record
    return last.x
