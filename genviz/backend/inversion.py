"""DDIM inversion: map a clean image x_0 to the DDIM latent x_T that deterministic DDIM decodes back to it.

Song et al. 2021 (Sec. 4.3: η = 0 DDIM is the Euler discretisation of an ODE, so it can be run backwards)
and Dhariwal & Nichol 2021 (App. F), as diffusers' ``DDIMInverseScheduler``: over the ascending timesteps
t_0 < t_1 < ... (the sampling grid reversed), from the state x at the previous level t' (ᾱ_{t'} = 1 before
the first step)

    ε̂ = ε_θ(x, t)            (the network at the *next* level t, evaluated at the current state:
                              the one approximation, exact as the step size → 0)
    x̂_0 = (x − √(1−ᾱ_{t'}) ε̂) / √ᾱ_{t'}
    x_t = √ᾱ_t x̂_0 + √(1−ᾱ_t) ε̂,

which is the DDIM (η = 0) update x_{t'} = √ᾱ_{t'} x̂_0 + √(1−ᾱ_{t'}) ε̂ solved for x_t.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch


@torch.inference_mode()
def ddim_invert(model, x0: torch.Tensor, timesteps: Sequence[int]) -> torch.Tensor:
    """Invert deterministic DDIM.

    Args:
        model: a ``DiffusionModel``.
        x0: (N, *data_shape) clean images in model space.
        timesteps: the *sampling* grid (descending, e.g. ``make_timesteps(T, 50)``); the inversion walks
            it backwards, so decoding the result with DDIM (η = 0) over the same grid reconstructs x0 up
            to the approximation above.
    Returns:
        (N, *data_shape) x_T at ``timesteps[0]``, on the model's device.
    Raises:
        ValueError: not a diffusion model, wrong shape, or a grid that is not strictly descending.
    """
    if getattr(model, "family", None) != "diffusion":
        raise ValueError("DDIM inversion needs a diffusion model")
    if tuple(x0.shape[1:]) != tuple(model.data_shape):
        raise ValueError(f"image has shape {tuple(x0.shape)}, expected (N, {', '.join(map(str, model.data_shape))})")
    ts = [int(t) for t in timesteps]
    if not ts or any(a <= b for a, b in zip(ts, ts[1:])):
        raise ValueError("timesteps must be a non-empty, strictly descending list")
    up = ts[::-1]
    x = x0.to(model.device, torch.float32)
    a_prev = 1.0
    for t in up:
        a_t = float(model._acp_cpu[t])
        eps = model.predict_eps(x, t)
        x0_hat = (x - math.sqrt(1 - a_prev) * eps) / math.sqrt(a_prev)
        x = math.sqrt(a_t) * x0_hat + math.sqrt(1 - a_t) * eps
        a_prev = a_t
    return x
