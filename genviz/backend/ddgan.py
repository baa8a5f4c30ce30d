"""Denoising diffusion GAN (DDGAN; Xiao, Kreis & Vahdat 2022, "Tackling the generative learning trilemma";
Xiao 2022, thesis Ch. 6): a diffusion with only a few (T = 1, 2, 4, 8) large steps, whose multimodal
reverse steps p_θ(x_{t−1} | x_t) are modelled by a conditional GAN instead of a Gaussian.

Schedule (Eq. 6.14–6.15, the VP-SDE of Song et al. 2021 discretised into T steps), with the paper's t = 1..T::

    β_t = 1 − exp(−β_min/T − ½ (β_max − β_min) (2t − 1)/T²),   β_min = 0.1, β_max = 20,
    α_t = 1 − β_t,   ᾱ_t = ∏_{s ≤ t} α_s,   ᾱ_0 = 1,

which is 1 − exp(−∫ β(s) ds) over s in [(t−1)/T, t/T] for the linear β(s) = β_min + (β_max − β_min) s, i.e.
the convention t' = t/T *as printed* (no shift). The official implementation shifts t' by ε = 1e-3, giving
β ≈ 0.4783, 0.8492, 0.9564, 0.9874 for T = 4; this module uses the printed formula: β ≈ 0.4763, 0.8490,
0.9565, 0.9875 for T = 4 (``tests/backend/test_ddgan.py`` checks both to 4 decimals; the shifted one is
``vp_betas(T, shift=1e-3)``, not used by any checkpoint).

Posterior (Eq. 2.50–2.51; Ho et al. 2020, Eq. 6–7), for t = 1..T::

    q(x_{t−1} | x_t, x₀) = N(μ̃_t, β̃_t I),
    μ̃_t = √ᾱ_{t−1} β_t/(1 − ᾱ_t) x₀ + √α_t (1 − ᾱ_{t−1})/(1 − ᾱ_t) x_t,
    β̃_t = (1 − ᾱ_{t−1})/(1 − ᾱ_t) β_t.

The thesis prints √α_{t−1} (no bar) on x₀: a typo; with it the posterior would not be consistent with the
marginals q(x_t | x₀) = N(√ᾱ_t x₀, (1 − ᾱ_t) I) (the oracle test in ``tests/backend/test_ddgan.py`` checks the
barred form reproduces them). At t = 1, ᾱ_0 = 1 gives μ̃_1 = x₀ and β̃_1 = 0: the last step adds no noise.

Indexing. Tensors and the generator use genviz's training units: index i = t − 1 in 0..T−1 for the paper's
t = 1..T, so ``betas[i]`` is β_{i+1}, ``alphas_cumprod[i]`` is ᾱ_{i+1}, and "−1" (``ChainStep.t_next``) is clean
data x₀ (as in the denoising samplers). The generator G(x_t, z, i) predicts x̂₀ from the state at index i.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .families.base import BaseModel
from .registry import FamilySpec, register_family, traits

BETA_MIN = 0.1
BETA_MAX = 20.0
TIMESTEPS = (1, 2, 4, 8)


def vp_betas(T: int, beta_min: float = BETA_MIN, beta_max: float = BETA_MAX, shift: float = 0.0) -> torch.Tensor:
    """β_1..β_T of the discretised VP-SDE (Eq. 6.14–6.15), float64.

    β_t = 1 − exp(−β_min Δ − ½ (β_max − β_min) (t'_t² − t'_{t−1}²)) with t'_t = t/T (``shift`` = 0, the printed
    formula: t'_t² − t'_{t−1}² = (2t − 1)/T², Δ = 1/T), or t'_t = t/T (1 − shift) + shift (the official code's
    1e-3 shift; Δ then shrinks to (1 − shift)/T).

    Args:
        T: number of diffusion steps, >= 1 (the paper uses 1, 2, 4, 8).
        beta_min, beta_max: β(s) at s = 0 and 1; 0 <= beta_min <= beta_max.
        shift: the t' offset ε in [0, 1).
    Returns:
        (T,) float64 tensor, β in (0, 1).
    Raises:
        ValueError: T < 1, or bounds/shift out of range.
    """
    if int(T) != T or T < 1:
        raise ValueError(f"T must be a positive integer, got {T!r}")
    if not 0 <= beta_min <= beta_max:
        raise ValueError(f"need 0 <= beta_min <= beta_max, got {beta_min}, {beta_max}")
    if not 0 <= shift < 1:
        raise ValueError(f"shift must be in [0, 1), got {shift}")
    s = torch.arange(0, T + 1, dtype=torch.float64) / T * (1 - shift) + shift  # t'_0 .. t'_T
    integral = beta_min * (s[1:] - s[:-1]) + 0.5 * (beta_max - beta_min) * (s[1:] ** 2 - s[:-1] ** 2)
    return 1 - torch.exp(-integral)


class DDGANSchedule:
    """The T-step schedule and the coefficients of q(x_t | x_{t−1}), q(x_t | x₀) and q(x_{t−1} | x_t, x₀).

    All tensors are (T,) float32, indexed by i = t − 1 in 0..T−1 (see the module docstring):
    ``betas`` β_t, ``alphas`` α_t, ``alphas_cumprod`` ᾱ_t, ``alphas_cumprod_prev`` ᾱ_{t−1} (1 at i = 0),
    ``posterior_mean_coef1`` √ᾱ_{t−1} β_t/(1 − ᾱ_t) (on x₀), ``posterior_mean_coef2`` √α_t (1 − ᾱ_{t−1})/(1 − ᾱ_t)
    (on x_t), ``posterior_variance`` β̃_t (0 at i = 0). Computed in float64, stored float32.
    """

    def __init__(self, T: int = 4, beta_min: float = BETA_MIN, beta_max: float = BETA_MAX, shift: float = 0.0):
        self.T = int(T)
        self.beta_min, self.beta_max, self.shift = float(beta_min), float(beta_max), float(shift)
        b = vp_betas(self.T, beta_min, beta_max, shift)
        a = 1 - b
        acp = torch.cumprod(a, 0)
        prev = torch.cat([torch.ones(1, dtype=torch.float64), acp[:-1]])
        f = torch.float32
        self.betas, self.alphas, self.alphas_cumprod, self.alphas_cumprod_prev = b.to(f), a.to(f), acp.to(f), prev.to(f)
        self.posterior_mean_coef1 = (prev.sqrt() * b / (1 - acp)).to(f)
        self.posterior_mean_coef2 = (a.sqrt() * (1 - prev) / (1 - acp)).to(f)
        self.posterior_variance = ((1 - prev) / (1 - acp) * b).to(f)

    def to_dict(self) -> dict:
        """The checkpoint's ``schedule`` metadata."""
        return {"kind": "vp-sde-discrete", "num_timesteps": self.T, "beta_min": self.beta_min,
                "beta_max": self.beta_max, "t_shift": self.shift}

    @classmethod
    def from_dict(cls, d: dict) -> "DDGANSchedule":
        """Inverse of ``to_dict`` (missing keys take the paper's values, T = 4)."""
        return cls(int(d.get("num_timesteps", 4)), float(d.get("beta_min", BETA_MIN)), float(d.get("beta_max", BETA_MAX)),
                   float(d.get("t_shift", 0.0)))

    @staticmethod
    def _at(v: torch.Tensor, i: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return v.to(x.device)[i.to(x.device).long()].view(-1, *([1] * (x.dim() - 1))).to(x.dtype)

    def _check(self, i: torch.Tensor) -> torch.Tensor:
        i = torch.as_tensor(i).reshape(-1).long()
        if len(i) and (int(i.min()) < 0 or int(i.max()) >= self.T):
            raise ValueError(f"timestep index must be in 0..{self.T - 1}, got {i.tolist()}")
        return i

    def q_sample(self, x0: torch.Tensor, i: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """x_t ~ q(x_t | x₀) = N(√ᾱ_t x₀, (1 − ᾱ_t) I): (N, ...) x₀ and noise, (N,) indices i = t − 1."""
        i = self._check(i)
        a = self._at(self.alphas_cumprod, i, x0)
        return a.sqrt() * x0 + (1 - a).sqrt() * noise

    def q_sample_prev(self, x0: torch.Tensor, i: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """x_{t−1} ~ q(x_{t−1} | x₀) = N(√ᾱ_{t−1} x₀, (1 − ᾱ_{t−1}) I); x₀ itself where i = 0 (t = 1)."""
        i = self._check(i)
        a = self._at(self.alphas_cumprod_prev, i, x0)
        return a.sqrt() * x0 + (1 - a).sqrt() * noise

    def q_step(self, x_prev: torch.Tensor, i: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """x_t ~ q(x_t | x_{t−1}) = N(√α_t x_{t−1}, β_t I): one forward step from the state at index i − 1."""
        i = self._check(i)
        return self._at(self.alphas, i, x_prev).sqrt() * x_prev + self._at(self.betas, i, x_prev).sqrt() * noise

    def posterior(self, x0: torch.Tensor, x_t: torch.Tensor, i: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(mean μ̃_t (N, ...), std √β̃_t (N, 1, ...)) of q(x_{t−1} | x_t, x₀) (Eq. 2.50–2.51, with √ᾱ_{t−1})."""
        i = self._check(i)
        mean = self._at(self.posterior_mean_coef1, i, x0) * x0 + self._at(self.posterior_mean_coef2, i, x_t) * x_t
        return mean, self._at(self.posterior_variance, i, x_t).clamp_min(0).sqrt()

    def posterior_sample(self, x0: torch.Tensor, x_t: torch.Tensor, i: torch.Tensor,
                         noise: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(x_{t−1}, added noise √β̃_t ε) with x_{t−1} = μ̃_t + √β̃_t ε ~ q(x_{t−1} | x_t, x₀); noise (N, ...) ~ N(0, I).
        At i = 0 (t = 1) the added noise is exactly 0."""
        mean, std = self.posterior(x0, x_t, i)
        added = std * noise
        return mean + added, added

    def sigma(self, i: int) -> float:
        """Noise level σ = √((1 − ᾱ)/ᾱ) of the state at index i (−1: clean data, σ = 0)."""
        if i < 0:
            return 0.0
        a = float(self.alphas_cumprod[i])
        return math.sqrt((1 - a) / a)


class DDGANModel(BaseModel):
    """A denoising diffusion GAN: a generator G(x_t, z, t) → x̂₀ and a T-step VP schedule (Xiao et al. 2022).

    Sampling (the ``ddgan`` sampler, Algorithm 2): x_T ~ N(0, I); for t = T..1, z ~ N(0, I_L),
    x̂₀ = G(x_t, z, t), x_{t−1} ~ q(x_{t−1} | x_t, x̂₀). One generator call per step: NFE = T.

    Attributes:
        net: the generator (e.g. ``nets.ddgan.DDGANGenerator``), called ``net(x_t, z, i)``.
        latent_dim: L, the size of each step's latent z.
        num_timesteps / num_train_timesteps: T (the same number: a DDGAN samples on its training grid).
        schedule: the ``DDGANSchedule`` (CPU tensors) from the metadata's ``schedule``.
        data_shape, data_range: e.g. (1, 28, 28) and (−1, 1) (the generator ends in tanh).
    Raises:
        ValueError: from the constructor, when the network has no positive ``latent_dim`` or the metadata's T does
            not match the network's ``num_timesteps``.
    """

    family = "ddgan"
    TRAITS = traits("ddgan", sdedit=True)  # 4-step stroke editing: ddgan_edit.ddgan_sdedit

    def __init__(self, net: nn.Module, metadata: dict, device="cpu"):
        super().__init__(net, metadata, device)
        self.schedule = DDGANSchedule.from_dict(metadata.get("schedule", {}))
        latent = metadata.get("latent", {}).get("shape") or [getattr(net, "latent_dim", 0)]
        if len(latent) != 1 or not isinstance(latent[0], int) or latent[0] < 1:
            raise ValueError(f"latent.shape must be [L] with L a positive integer, got {latent!r}")
        self.latent_dim = int(latent[0])
        if getattr(net, "latent_dim", self.latent_dim) != self.latent_dim:
            raise ValueError(f"latent.shape {latent} does not match the network's latent_dim {net.latent_dim}")
        nt = getattr(net, "num_timesteps", self.schedule.T)
        if nt != self.schedule.T:
            raise ValueError(f"schedule has T = {self.schedule.T} but the network was built for {nt} timesteps")
        self.num_timesteps = self.num_train_timesteps = self.schedule.T

    @property
    def latent_shape(self) -> tuple:
        """(L,): the shape of one step's latent z."""
        return (self.latent_dim,)

    @property
    def default_sampler(self) -> dict:
        """{"name": "ddgan", "steps": T} (the whole chain from x_T)."""
        return dict(self.metadata.get("sampler", {"name": "ddgan", "steps": self.num_timesteps}))

    @torch.inference_mode()
    def predict_x0(self, x_t: torch.Tensor, z: torch.Tensor, t) -> torch.Tensor:
        """x̂₀ = G(x_t, z, t).

        Args:
            x_t: (N, *data_shape) state at index t, model space.
            z: (N, L) latent, N(0, I) for sampling.
            t: int or (N,) tensor of indices in 0..T−1 (the paper's t − 1).
        Returns:
            (N, *data_shape) x̂₀ in the data range (−1..1), on ``device``.
        Raises:
            ValueError: wrong shapes or t out of range.
        """
        if tuple(x_t.shape[1:]) != self.data_shape:
            raise ValueError(f"x_t has shape {tuple(x_t.shape)}, expected (N, {', '.join(map(str, self.data_shape))})")
        if tuple(z.shape) != (x_t.shape[0], self.latent_dim):
            raise ValueError(f"z has shape {tuple(z.shape)}, expected ({x_t.shape[0]}, {self.latent_dim})")
        t = torch.as_tensor(t).reshape(-1).long()
        if t.numel() == 1:
            t = t.expand(x_t.shape[0])
        t = self.schedule._check(t)
        return self.net(x_t.to(self.device, torch.float32), z.to(self.device, torch.float32), t.to(self.device))


def _net(name: str):
    def load():
        from .nets import ddgan
        return getattr(ddgan, name)
    return load


FAMILY = register_family(FamilySpec("ddgan", "Denoising diffusion GAN (Xiao et al. 2022)", DDGANModel,
                                    networks={"DDGANGenerator": _net("DDGANGenerator")}))
