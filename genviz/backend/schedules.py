"""Noise schedules: beta_t and alphas_cumprod for discrete-time diffusion models.

Conventions follow diffusers (``DDPMScheduler`` / ``DDIMScheduler``) so that every chain can be
checked against it: T training timesteps indexed 0..T-1, ``alphas_cumprod[t] = prod_{s<=t}(1-beta_s)``
(Ho et al. 2020, Eq. 4), float32.
"""
from __future__ import annotations

import math

import torch

SCHEDULES = ("linear", "scaled_linear", "squaredcos_cap_v2")


def make_betas(schedule: str = "linear", num_train_timesteps: int = 1000, beta_start: float = 1e-4,
               beta_end: float = 0.02) -> torch.Tensor:
    """Return beta_t, shape (T,), float32, values in (0, 1).

    Args:
        schedule: ``"linear"`` (Ho et al. 2020: beta linear from beta_start to beta_end),
            ``"scaled_linear"`` (linear in sqrt(beta), as Stable Diffusion), or
            ``"squaredcos_cap_v2"`` (cosine schedule of Nichol & Dhariwal 2021, Eq. 17, with beta
            capped at 0.999), the same names and values as diffusers.
        num_train_timesteps: T.
    Raises:
        ValueError: unknown schedule name or T < 1.
    """
    if num_train_timesteps < 1:
        raise ValueError(f"num_train_timesteps must be >= 1, got {num_train_timesteps}")
    if schedule == "linear":
        return torch.linspace(beta_start, beta_end, num_train_timesteps, dtype=torch.float32)
    if schedule == "scaled_linear":
        return torch.linspace(beta_start ** 0.5, beta_end ** 0.5, num_train_timesteps, dtype=torch.float32) ** 2
    if schedule == "squaredcos_cap_v2":
        def alpha_bar(u: float) -> float:
            return math.cos((u + 0.008) / 1.008 * math.pi / 2) ** 2
        betas = [min(1 - alpha_bar((i + 1) / num_train_timesteps) / alpha_bar(i / num_train_timesteps), 0.999)
                 for i in range(num_train_timesteps)]
        return torch.tensor(betas, dtype=torch.float32)
    raise ValueError(f"unknown beta schedule {schedule!r}; expected one of {', '.join(SCHEDULES)}")


def alphas_cumprod_from_betas(betas: torch.Tensor) -> torch.Tensor:
    """alphas_cumprod (ᾱ_t) = cumprod(1 - beta_t), shape (T,), float32 (Ho et al. 2020, Eq. 4)."""
    return torch.cumprod(1.0 - betas, dim=0)


def sigmas_from_alphas_cumprod(alphas_cumprod: torch.Tensor) -> torch.Tensor:
    """Noise-to-signal ratio sigma_t = sqrt((1-ᾱ_t)/ᾱ_t) (Karras et al. 2022 VP <-> VE), shape (T,)."""
    return ((1 - alphas_cumprod) / alphas_cumprod).sqrt()
