"""Euler–Maruyama for the reverse-time VP SDE (Song et al. 2021, Eq. 6 with the VP SDE of Eq. 11).

The VP SDE dx = −½β(t) x dt + √β(t) dw has the reverse-time SDE (Anderson 1982; Song et al. 2021, Eq. 6)

    dx = [−½β(t) x − β(t) ∇log p_t(x)] dt + √β(t) dw̄,

integrated from t = T down to 0. With the time change τ(t) = ∫₀ᵗ β(s) ds = −log ᾱ(t), one step from timestep t to
an earlier t' covers Δτ = log(ᾱ_{t'}/ᾱ_t) > 0, and Euler–Maruyama gives

    x_{t'} = x_t + Δτ (½ x_t + s(x_t, t)) + √Δτ z,     s(x_t, t) = −ε̂(x_t, t)/√(1 − ᾱ_t),

exactly the "Euler–Maruyama" predictor of Song et al.'s reference code written on genviz's discrete ᾱ grid. No
noise is added on the last step (to t' = −1, ᾱ = 1), as their ``denoise`` option. It is first-order and needs
many small steps: with 50 steps on a cosine schedule it is visibly worse than DDPM, which a user can compare.
"""
from __future__ import annotations

import math
from typing import Iterator, Sequence

import torch

from .base import ChainStep, Param, SamplerSpec, register
from .denoising import SPACINGS, _acp, _initial, _noise, _norms, _sigma


@torch.inference_mode()
def euler_maruyama(model, x: torch.Tensor, timesteps: Sequence[int], *, generator: torch.Generator,
                   clip_sample: bool = True) -> Iterator[ChainStep]:
    """Reverse VP-SDE by Euler–Maruyama on the timestep grid (module docstring for the update).

    Args:
        model: a ``DiffusionModel`` (ε̂ and ᾱ_t = ``alphas_cumprod[t]``, t in 0..T-1).
        x: (N, *data_shape) the state at ``timesteps[0]`` (x_T ~ N(0, I) for a fresh chain), model space.
        timesteps: descending training timesteps (``make_timesteps``).
        generator: CPU ``torch.Generator`` for the noise z ~ N(0, I) of each step.
        clip_sample: clip the shown x̂₀ = (x_t − √(1−ᾱ_t) ε̂)/√ᾱ_t to the data range (display only: the
            update uses the score, not x̂₀).
    Yields:
        ``len(timesteps) + 1`` ChainStep records (record 0 = the initial state); ``noise`` is √Δτ z and
        ``drift`` is Δτ (½ x_t + s); stats ``x_norm`` and ``eps_norm`` (N,).
    """
    ts = list(timesteps)
    lo, hi = model.data_range
    yield _initial(model, x, ts)
    for i, t in enumerate(ts):
        x = x.to(model.device)
        t_prev = ts[i + 1] if i + 1 < len(ts) else -1
        a_t, a_prev = _acp(model, t), _acp(model, t_prev)
        eps = model.predict_eps(x, t)
        score = -eps / math.sqrt(1 - a_t)
        dtau = math.log(a_prev / a_t)
        drift = dtau * (0.5 * x + score)
        x0 = (x - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t)
        if clip_sample:
            x0 = x0.clamp(lo, hi)
        noise = math.sqrt(dtau) * _noise(x, generator) if t_prev >= 0 else None
        x = x + drift + (noise if noise is not None else 0.0)
        yield ChainStep(index=i + 1, steps=len(ts), t=t, t_next=t_prev, sigma=_sigma(a_prev), x=x, x0_hat=x0,
                        eps_hat=eps, drift=drift, noise=noise, stats={"x_norm": _norms(x), "eps_norm": _norms(eps)})


register(SamplerSpec(
    name="sde-euler", title="Reverse SDE (Euler–Maruyama)", kind="denoising", fn=euler_maruyama, stochastic=True,
    params=(Param("clip_sample", "bool", True, "clip the shown x0_hat to the data range (display only)"),
            Param("timestep_spacing", "choice", "leading", "how the chain's timesteps are spread over 0..T-1 "
                  "(diffusers' timestep_spacing)", choices=SPACINGS)),
    caption="followed the reverse-time noise equation one small step: a push toward the data plus fresh noise "
            "(Euler–Maruyama)",
    description="Song et al. 2021, Eq. 6: the reverse VP SDE integrated by Euler–Maruyama; first order, needs "
                "many steps."))
