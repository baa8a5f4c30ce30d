"""The ``ddgan`` sampler: Algorithm 2 of the denoising diffusion GAN (Xiao et al. 2022; thesis Ch. 6).

x_T ~ N(0, I); for t = T..1: z ~ N(0, I_L), x̂₀ = G(x_t, z, t), x_{t−1} ~ q(x_{t−1} | x_t, x̂₀) (the Gaussian
posterior, ``genviz.backend.ddgan``); at t = 1 the posterior variance is 0, so the last step adds no noise and
x₀ = x̂₀. One generator call per step (NFE = T).

Call contract (``SamplerSpec.grid == "steps"``, as ``api.chain`` calls it): ``ddgan(model, x_init, steps=s,
generator=g)`` with 1 <= s <= T runs the last s steps, so x_init is the state at the paper's t = s (index s − 1);
s = T is a whole chain from x_T ~ N(0, I) (``api.chain`` draws x_init from the seed). This is what branching
does: the GUI branches from record k of a T-step chain with ``steps = T − k`` and that record's x.

Random numbers come from the passed CPU ``generator``, per step in this order: z = randn((N, L)), then, except
on the last step, ε = randn(x.shape); both are moved to the model's device. So a seed fixes the whole chain and
CPU replay is bit-identical.
"""
from __future__ import annotations

import math
from typing import Iterator

import torch

from .base import ChainStep, SamplerSpec, register


def _norms(v: torch.Tensor) -> torch.Tensor:
    return v.flatten(1).norm(dim=1)


def _eps_implied(model, x: torch.Tensor, x0: torch.Tensor, i: int) -> torch.Tensor:
    """ε̂ = (x_t − √ᾱ_t x̂₀)/√(1 − ᾱ_t): the noise x̂₀ implies (for the chain panel's ‖ε̂‖ plot)."""
    a = float(model.schedule.alphas_cumprod[i])
    return (x - math.sqrt(a) * x0) / math.sqrt(1 - a)


def _steps(model, steps: int) -> int:
    T = model.num_timesteps
    if not 1 <= int(steps) <= T:
        raise ValueError(f"steps must be in 1..{T} for a DDGAN with T = {T} (steps = s starts at t = s), got {steps}")
    return int(steps)


@torch.inference_mode()
def ddgan(model, x: torch.Tensor, *, steps: int, generator: torch.Generator) -> Iterator[ChainStep]:
    """Sample a ``DDGANModel`` with Algorithm 2, yielding one ``ChainStep`` per step.

    Args:
        model: a ``genviz.backend.ddgan.DDGANModel``.
        x: (N, *data_shape) the state at index ``steps − 1`` (x_T for a whole chain), model space.
        steps: s in 1..T: run from the paper's t = s down to t = 1.
        generator: CPU ``torch.Generator`` for z and the posterior noise (order in the module docstring).
    Yields:
        ``steps + 1`` records: record 0 = x (t = t_next = s − 1); record k (t = s − k, t_next = s − k − 1, −1 =
        clean) with ``x`` = x_{t−1}, ``x0_hat`` = G(x_t, z, t), ``eps_hat`` the ε̂ that x̂₀ implies, ``noise`` the
        posterior noise √β̃_t ε actually added (None on the last step), ``sigma`` = σ of x_{t−1}, and stats
        ``x_norm``/``eps_norm`` (N,).
    Raises:
        ValueError: steps out of 1..T, or x of the wrong shape.
    """
    s = _steps(model, steps)
    sched = model.schedule
    x = x.to(model.device, torch.float32)
    yield ChainStep(index=0, steps=s, t=s - 1, t_next=s - 1, sigma=sched.sigma(s - 1), x=x, stats={"x_norm": _norms(x)})
    n = x.shape[0]
    for k in range(1, s + 1):
        i = s - k
        z = torch.randn((n, model.latent_dim), generator=generator).to(model.device)
        x0 = model.predict_x0(x, z, i)
        idx = torch.full((n,), i, dtype=torch.long)
        eps = _eps_implied(model, x, x0, i)
        mean, _ = sched.posterior(x0, x, idx)
        noise = None
        if i > 0:
            e = torch.randn(x.shape, generator=generator, dtype=x.dtype).to(model.device)
            _, noise = sched.posterior_sample(x0, x, idx, e)
            x = mean + noise
        else:
            x = mean
        yield ChainStep(index=k, steps=s, t=i, t_next=i - 1, sigma=sched.sigma(i - 1), x=x, x0_hat=x0, eps_hat=eps,
                        noise=noise, stats={"x_norm": _norms(x), "eps_norm": _norms(eps)})


@torch.inference_mode()
def resample_x0(model, x_t: torch.Tensor, t: int, k: int, generator: torch.Generator) -> torch.Tensor:
    """Keep x_t and draw ``k`` new predictions x̂₀ = G(x_t, z_j, t), z_j ~ N(0, I_L) (thesis Fig. 6.8): the
    multimodal denoising distribution the GAN has learnt at this step.

    Args:
        model: a ``DDGANModel``.
        x_t: (N, *data_shape) states at index t, model space.
        t: index in 0..T−1 (the paper's t − 1; a ``ChainStep``'s ``t``).
        k: number of draws, >= 1; z_j = randn((N, L)) from ``generator``, j = 0..k−1 in turn.
    Returns:
        (N, k, *data_shape) x̂₀ samples in the data range, on the model's device.
    Raises:
        ValueError: k < 1, t out of 0..T−1, or x_t of the wrong shape.
    """
    if int(k) < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if not 0 <= int(t) < model.num_timesteps:
        raise ValueError(f"t must be in 0..{model.num_timesteps - 1}, got {t}")
    x_t = x_t.to(model.device, torch.float32)
    outs = [model.predict_x0(x_t, torch.randn((x_t.shape[0], model.latent_dim), generator=generator), int(t))
            for _ in range(int(k))]
    return torch.stack(outs, dim=1)


register(SamplerSpec(
    name="ddgan", title="Denoising diffusion GAN", kind="ddgan", fn=ddgan, params=(), stochastic=True, grid="steps",
    plot_keys=("t", "x_norm", "eps_norm"),
    description="Xiao, Kreis & Vahdat 2022: a few large denoising steps, each a GAN draw of the clean image "
                "x̂₀ followed by the Gaussian posterior q(x_{t−1} | x_t, x̂₀).",
    caption="guessed a clean digit from the noisy one with its GAN generator (a random guess: a new z each step), "
            "then stepped toward that guess, adding back some fresh noise until the last step"))
