"""``chain`` and ``sample``: the one entry point every panel, the CLI and scripts use to run a sampler."""
from __future__ import annotations

from typing import Iterator, Sequence

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
          timesteps: Sequence[int] | None = None, **params) -> Iterator[ChainStep]:
    """Run a sampler step by step.

    Args:
        model: a loaded model (see ``load_checkpoint``) of a family the sampler supports.
        sampler: a registered name (``ddpm``, ``ddim``, ``ode-euler``, ``ode-heun``, ...).
        steps: number of chain steps (1..T for diffusion models).
        n: batch size (default: x_init's batch, else 1).
        seed: fixes x_init (when not given) and every noise draw: the chain replays exactly.
        x_init: (N, *data_shape) starting state in model space (default Gaussian noise at the first
            timestep).
        t_start: start from this training timestep (x_init must then be at that noise level); the
            chain's ``steps`` timesteps are spread from t_start down to 0 (SDEdit; branching).
        timesteps: explicit descending timesteps (overrides steps/t_start spacing), e.g. the rest of
            an earlier chain's grid when branching from one of its steps.
        **params: sampler parameters (see ``get_sampler(name).params``), e.g. ``eta=0.5``.
    Yields:
        ``steps + 1`` ChainStep records; record 0 is the initial state.
    Raises:
        ValueError: unknown sampler, a sampler that does not fit the model's family, an unknown or
            out-of-range parameter, bad steps/n/t_start, or x_init of the wrong shape.
    """
    spec = get_sampler(sampler)
    if model.family not in spec.families:
        raise ValueError(f"sampler {sampler!r} does not apply to a {model.family} model "
                         f"(it serves: {', '.join(spec.families)})")
    known = {p.name: p for p in spec.params}
    for k in params:
        if k not in known:
            raise ValueError(f"sampler {sampler!r} has no parameter {k!r} (parameters: {', '.join(known) or 'none'})")
    kw = {name: p.validate(params.get(name, p.default)) for name, p in known.items()}
    steps = int(steps)
    generator = torch.Generator().manual_seed(int(seed))
    if x_init is None:
        n = 1 if n is None else int(n)
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        x = initial_noise(model, n, generator=generator)
    else:
        if tuple(x_init.shape[1:]) != tuple(model.data_shape):
            raise ValueError(f"x_init has shape {tuple(x_init.shape)}, expected (N, {', '.join(map(str, model.data_shape))})")
        x = x_init.to(model.device, torch.float32)
    if model.family == "diffusion":
        spacing = kw.pop("timestep_spacing", "leading")
        if timesteps is None:
            timesteps = make_timesteps(model.num_train_timesteps, steps, spacing, t_start)
        else:
            timesteps = [int(t) for t in timesteps]
            if not timesteps or any(a <= b for a, b in zip(timesteps, timesteps[1:])) or timesteps[0] >= model.num_train_timesteps or timesteps[-1] < 0:
                raise ValueError("timesteps must be a non-empty, strictly descending list in 0..T-1")
        yield from spec.fn(model, x, timesteps, generator=generator, **kw)
    else:
        yield from spec.fn(model, x, steps=steps, generator=generator, **kw)


def sample(model, sampler: str | None = None, *, steps: int | None = None, n: int | None = None, seed: int = 0,
           x_init: torch.Tensor | None = None, **params) -> torch.Tensor:
    """Run a whole chain and return the final batch (N, *data_shape) in model space.

    ``sampler``/``steps`` default to the checkpoint's default sampler and its parameters.
    Same arguments and errors as ``chain``.
    """
    if sampler is None:
        d = dict(getattr(model, "default_sampler", {}))
        sampler = d.pop("name")
        steps = steps if steps is not None else d.pop("steps", 50)
        d.pop("steps", None)
        params = {**d, **params}
    if steps is None:
        raise ValueError("steps is required when a sampler is named")
    last = None
    for rec in chain(model, sampler, steps=steps, n=n, seed=seed, x_init=x_init, **params):
        last = rec
    return last.x
