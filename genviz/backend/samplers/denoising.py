"""Denoising samplers for discrete-time diffusion models: DDPM, DDIM and the probability-flow ODE.

All work on a ``DiffusionModel`` (ε-prediction view, ᾱ_t = ``alphas_cumprod[t]``, t in 0..T-1) and
follow diffusers' ``DDPMScheduler`` / ``DDIMScheduler`` step by step, so that with the same network
and noise they give the same chain (tests check max abs diff <= 1e-4).

Noise is drawn with ``torch.randn(x.shape, generator=generator)`` on a CPU generator and moved to the
model's device, in the same order as diffusers draws it; so a seed fixes the whole chain on every
device and CPU replay is bit-identical.
"""
from __future__ import annotations

import math
from typing import Iterator, Sequence

import numpy as np
import torch

from .base import ChainStep, Param, SamplerSpec, register

SPACINGS = ("leading", "trailing", "linspace")


def make_timesteps(num_train_timesteps: int, steps: int, spacing: str = "leading",
                   t_start: int | None = None) -> list[int]:
    """Descending integer timesteps of a sampling chain.

    Args:
        num_train_timesteps: T.
        steps: number of chain steps (1..T).
        spacing: diffusers' ``timestep_spacing`` (Lin et al. 2024, Table 2): ``"leading"`` (the
            DDIMScheduler/DDPMScheduler default; ``arange(steps) * (T // steps)``), ``"trailing"`` or
            ``"linspace"``.
        t_start: if given, start from this timestep instead (SDEdit, branching): ``steps``
            timesteps from t_start down to 0, evenly spaced and distinct.
    Returns:
        list of ``steps`` (or fewer, when t_start < steps) ints, strictly descending, in 0..T-1.
    Raises:
        ValueError: steps out of 1..T, unknown spacing, or t_start out of 0..T-1.
    """
    T = num_train_timesteps
    if not 1 <= steps <= T:
        raise ValueError(f"steps must be in 1..{T}, got {steps}")
    if t_start is not None:
        if not 0 <= t_start < T:
            raise ValueError(f"t_start must be in 0..{T - 1}, got {t_start}")
        k = min(steps, t_start + 1)
        if k == 1:  # one step: it must still start where x_init is (linspace(0, t_start, 1) would give [0])
            return [int(t_start)]
        ts = np.unique(np.round(np.linspace(0, t_start, k)).astype(np.int64))[::-1]
        return [int(v) for v in ts]
    if spacing == "leading":
        ts = (np.arange(0, steps) * (T // steps)).round()[::-1].astype(np.int64)
    elif spacing == "trailing":
        # diffusers' expression, cut to `steps`: arange's float length gives steps + 1 values, the last -1,
        # for some steps (e.g. 61 of T = 1000)
        ts = np.round(np.arange(T, 0, -T / steps)[:steps]).astype(np.int64) - 1
    elif spacing == "linspace":
        ts = np.linspace(0, T - 1, steps).round()[::-1].astype(np.int64)
    else:
        raise ValueError(f"unknown timestep spacing {spacing!r}; expected one of {', '.join(SPACINGS)}")
    return [int(v) for v in ts]


DIVERGENCE_FACTOR = 50.0  # a denoising state beyond 50x the data range has left the model's domain


def divergence(x: torch.Tensor, data_range, step: int, clip_sample: bool | None = None) -> str | None:
    """One line saying why a denoising chain's state ``x`` (any shape) has diverged, or None when it has not.

    Diverged: non-finite values, or max |x| beyond ``DIVERGENCE_FACTOR`` times the data range's largest |bound|
    (x_t of a working chain stays within a few units). The usual cause is trailing timesteps without x̂₀
    clipping on a cosine schedule: at t = T-1, ᾱ is ~1e-9 and x̂₀ = (x_t − √(1−ᾱ) ε̂)/√ᾱ blows up; unless
    ``clip_sample`` is True the message says to turn it on. Costs one reduction (a host sync on a GPU).
    """
    m = float(x.detach().abs().max())
    lo, hi = float(data_range[0]), float(data_range[1])
    if math.isfinite(m) and m <= DIVERGENCE_FACTOR * max(abs(lo), abs(hi), 1.0):
        return None
    what = "non-finite values" if not math.isfinite(m) else f"|x| reached {m:.3g} (data range {lo:g} to {hi:g})"
    hint = ""
    if clip_sample is not True:
        hint = " Turn clip_sample on (or use leading timesteps): without it x̂₀ is divided by √ᾱ_t, ~0 near t = T."
    return f"chain diverged at step {step}: {what}.{hint}"


def _noise(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    z = torch.randn(x.shape, generator=generator, dtype=x.dtype)
    return z.to(x.device, non_blocking=True)


def _norms(v: torch.Tensor) -> torch.Tensor:
    return v.flatten(1).norm(dim=1)


def _sigma(a: float) -> float:
    return math.sqrt((1 - a) / a) if a < 1 else 0.0


def _acp(model, t: int) -> float:
    return float(model._acp_cpu[t]) if t >= 0 else 1.0


def _initial(model, x: torch.Tensor, ts: Sequence[int]) -> ChainStep:
    t0 = ts[0]
    return ChainStep(index=0, steps=len(ts), t=t0, t_next=t0, sigma=_sigma(_acp(model, t0)), x=x,
                     stats={"x_norm": _norms(x)})


def _x0_eps(model, x, t, a_t, clip_sample):
    eps = model.predict_eps(x, t)
    x0 = (x - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t)
    if clip_sample:
        lo, hi = model.data_range
        x0 = x0.clamp(lo, hi)
    return x0, eps


@torch.inference_mode()
def ddpm(model, x: torch.Tensor, timesteps: Sequence[int], *, generator: torch.Generator,
         variance_type: str = "fixed_small", clip_sample: bool = True) -> Iterator[ChainStep]:
    """Ancestral DDPM sampling (Ho et al. 2020, Alg. 2), as diffusers' ``DDPMScheduler.step``.

    For each t with previous timestep t' (−1 after the last, where ᾱ = 1):
    x̂_0 = (x_t − √(1−ᾱ_t) ε̂)/√ᾱ_t (clipped to the data range if ``clip_sample``);
    x_{t'} = √ᾱ_{t'} β_t/(1−ᾱ_t) x̂_0 + √α_t (1−ᾱ_{t'})/(1−ᾱ_t) x_t + σ_t z, the posterior mean
    q(x_{t'} | x_t, x̂_0) (Ho et al. 2020, Eq. 7) with α_t = ᾱ_t/ᾱ_{t'}, β_t = 1 − α_t;
    σ_t² = β̃_t = (1−ᾱ_{t'})/(1−ᾱ_t) β_t ("fixed_small") or β_t ("fixed_large"); no noise at t = 0.

    Args:
        x: (N, *data_shape) x_T (or the state at ``timesteps[0]``), model space.
        timesteps: descending training timesteps (see ``make_timesteps``).
        generator: CPU ``torch.Generator`` for the noise z.
    Yields:
        ChainStep records (record 0 = the initial state).
    """
    if variance_type not in ("fixed_small", "fixed_large"):
        raise ValueError(f"variance_type must be 'fixed_small' or 'fixed_large', got {variance_type!r}")
    ts = list(timesteps)
    yield _initial(model, x, ts)
    for i, t in enumerate(ts):
        x = x.to(model.device)
        t_prev = ts[i + 1] if i + 1 < len(ts) else -1
        a_t, a_prev = _acp(model, t), _acp(model, t_prev)
        alpha_t = a_t / a_prev
        beta_t = 1 - alpha_t
        x0, eps = _x0_eps(model, x, t, a_t, clip_sample)
        mean = (math.sqrt(a_prev) * beta_t / (1 - a_t)) * x0 + (math.sqrt(alpha_t) * (1 - a_prev) / (1 - a_t)) * x
        noise = None
        if t > 0:
            var = max((1 - a_prev) / (1 - a_t) * beta_t, 1e-20) if variance_type == "fixed_small" else beta_t
            noise = math.sqrt(var) * _noise(x, generator)
            x = mean + noise
        else:
            x = mean
        yield ChainStep(index=i + 1, steps=len(ts), t=t, t_next=t_prev, sigma=_sigma(a_prev), x=x, x0_hat=x0,
                        eps_hat=eps, noise=noise, stats={"x_norm": _norms(x), "eps_norm": _norms(eps)})


@torch.inference_mode()
def ddim(model, x: torch.Tensor, timesteps: Sequence[int], *, generator: torch.Generator, eta: float = 0.0,
         clip_sample: bool = True) -> Iterator[ChainStep]:
    """DDIM sampling (Song et al. 2021, Eq. 12), as diffusers' ``DDIMScheduler.step``.

    x_{t'} = √ᾱ_{t'} x̂_0 + √(1 − ᾱ_{t'} − σ²) ε̂ + σ z, with
    σ = η √((1−ᾱ_{t'})/(1−ᾱ_t)) √(1 − ᾱ_t/ᾱ_{t'}); ᾱ = 1 after the last step (``set_alpha_to_one``).
    η = 0 is deterministic (and invertible: DDIM inversion); η = 1 matches DDPM's variance.
    ``clip_sample`` clips x̂_0 to the data range (the direction term uses the unclipped ε̂, as diffusers).

    Args:
        x: (N, *data_shape) state at ``timesteps[0]``, model space.
        eta: η >= 0.
        generator: CPU generator; noise is drawn at every step when η > 0 (as diffusers).
    """
    if eta < 0:
        raise ValueError(f"eta must be >= 0, got {eta}")
    ts = list(timesteps)
    yield _initial(model, x, ts)
    for i, t in enumerate(ts):
        x = x.to(model.device)
        t_prev = ts[i + 1] if i + 1 < len(ts) else -1
        a_t, a_prev = _acp(model, t), _acp(model, t_prev)
        x0, eps = _x0_eps(model, x, t, a_t, clip_sample)
        var = (1 - a_prev) / (1 - a_t) * (1 - a_t / a_prev)
        std = eta * math.sqrt(max(var, 0.0))
        x = math.sqrt(a_prev) * x0 + math.sqrt(max(1 - a_prev - std ** 2, 0.0)) * eps
        noise = None
        if eta > 0:
            noise = std * _noise(x, generator)
            x = x + noise
        yield ChainStep(index=i + 1, steps=len(ts), t=t, t_next=t_prev, sigma=_sigma(a_prev), x=x, x0_hat=x0,
                        eps_hat=eps, noise=noise, stats={"x_norm": _norms(x), "eps_norm": _norms(eps)})


@torch.inference_mode()
def probability_flow(model, x: torch.Tensor, timesteps: Sequence[int], *, generator: torch.Generator | None = None,
                     method: str = "euler", clip_sample: bool = False) -> Iterator[ChainStep]:
    """Probability-flow ODE (Song et al. 2021, Eq. 13) solved by Euler or Heun on the σ grid.

    In the variance-exploding coordinates x̃ = x/√ᾱ, σ = √((1−ᾱ)/ᾱ), the ODE is
    dx̃/dσ = (x̃ − D(x̃; σ))/σ = ε̂ (Karras et al. 2022, Eq. 3 and Alg. 1).
    Euler: x̃' = x̃ + (σ' − σ) ε̂(x, t) — algebraically the same as DDIM with η = 0.
    Heun: average ε̂ at both ends (2 evaluations per step; Euler on the last step, where σ' = 0).
    ``clip_sample`` clips the denoised D to the data range (off by default, as Karras et al.).
    """
    if method not in ("euler", "heun"):
        raise ValueError(f"method must be 'euler' or 'heun', got {method!r}")
    ts = list(timesteps)
    yield _initial(model, x, ts)
    lo, hi = model.data_range

    def d_at(xv, t, a):
        eps = model.predict_eps(xv, t)
        x0 = (xv - math.sqrt(1 - a) * eps) / math.sqrt(a)
        if clip_sample:
            x0 = x0.clamp(lo, hi)
            eps = (xv - math.sqrt(a) * x0) / math.sqrt(1 - a)
        return x0, eps

    for i, t in enumerate(ts):
        x = x.to(model.device)
        t_prev = ts[i + 1] if i + 1 < len(ts) else -1
        a_t, a_prev = _acp(model, t), _acp(model, t_prev)
        s, s_next = _sigma(a_t), _sigma(a_prev)
        x0, eps = d_at(x, t, a_t)
        xt = x / math.sqrt(a_t)
        xt_next = xt + (s_next - s) * eps
        if method == "heun" and t_prev >= 0:
            _, eps2 = d_at(xt_next * math.sqrt(a_prev), t_prev, a_prev)
            xt_next = xt + (s_next - s) * 0.5 * (eps + eps2)
        x = xt_next * math.sqrt(a_prev)
        yield ChainStep(index=i + 1, steps=len(ts), t=t, t_next=t_prev, sigma=s_next, x=x, x0_hat=x0,
                        eps_hat=eps, noise=None, stats={"x_norm": _norms(x), "eps_norm": _norms(eps)})


_SPACING = Param("timestep_spacing", "choice", "leading", "how the chain's timesteps are spread over 0..T-1 "
                 "(diffusers' timestep_spacing)", choices=SPACINGS)
_CLIP = Param("clip_sample", "bool", True, "clip the predicted clean sample x0_hat to the data range (keep it on with "
              "trailing timesteps on a cosine schedule: at t = T-1, ᾱ is ~1e-9 and unclipped x0_hat blows up)")

register(SamplerSpec(
    name="ddpm", title="DDPM (ancestral)", kind="denoising", fn=ddpm, stochastic=True,
    caption="removed a little noise and added back a smaller amount of fresh noise (DDPM)",
    params=(Param("variance_type", "choice", "fixed_small", "σ_t² = β̃_t (fixed_small) or β_t (fixed_large)",
                  choices=("fixed_small", "fixed_large")), _CLIP, _SPACING),
    description="Ho et al. 2020: remove a little noise, add a little fresh noise, every step."))
register(SamplerSpec(
    name="ddim", title="DDIM", kind="denoising", fn=ddim, stochastic=True,
    caption="removed a little noise (DDIM: bigger steps, no fresh noise unless η > 0)",
    params=(Param("eta", "float", 0.0, "η: 0 = deterministic DDIM, 1 = DDPM-like noise", minimum=0.0,
                  maximum=10.0), _CLIP, _SPACING),
    description="Song et al. 2021: deterministic (η = 0) or partly stochastic jumps along the chain."))
register(SamplerSpec(
    name="ode-euler", title="Probability-flow ODE (Euler)", kind="denoising", fn=probability_flow,
    stochastic=False, caption="followed a smooth, noise-free path toward the data (probability-flow ODE, Euler)",
    params=(Param("clip_sample", "bool", False, "clip the denoised estimate to the data range"), _SPACING),
    description="Song et al. 2021 / Karras et al. 2022: the deterministic ODE, first order."))
register(SamplerSpec(
    name="ode-heun", title="Probability-flow ODE (Heun)", kind="denoising",
    fn=lambda model, x, timesteps, **kw: probability_flow(model, x, timesteps, method="heun", **kw),
    stochastic=False, caption="followed a smooth, noise-free path toward the data (probability-flow ODE, Heun)",
    params=(Param("clip_sample", "bool", False, "clip the denoised estimate to the data range"), _SPACING),
    description="Karras et al. 2022, Alg. 1: second-order Heun steps (two network calls per step)."))
