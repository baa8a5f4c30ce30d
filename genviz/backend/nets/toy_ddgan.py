"""2-D networks of a toy denoising diffusion GAN (Xiao, Kreis & Vahdat 2022, thesis Fig. 6.9: 3-layer MLPs, T = 4).

- ``ToyDDGANGenerator`` G(x_t, z, i) → x̂₀: an MLP on [x_t / scale, z, e(t)], output × ``scale``.
- ``ToyDDGANDiscriminator`` D(x_{t−1}, x_t, i) → logit: an MLP on [x_{t−1} / scale, x_t / scale, e(t)] and,
  with ``fourier`` > 0, random Fourier features sin/cos(B [x_{t−1}, x_t]) of the pair in data units (B fixed, seed 0;
  Tancik et al. 2020: a plain MLP resolves 25 sharp modes slowly, as ``nets.toy.ToyEnergyMLP``).
  Training only; not stored in the checkpoint.

i is genviz's index 0..T−1 (the paper's t − 1); e(t) is the sinusoidal embedding of 1000 (i + 1)/T (as
``nets.ddgan``). ``scale`` brings the 25-Gaussians grid (centres at ±4) to about unit size inside the MLPs.
"""
from __future__ import annotations

import torch
from torch import nn

from .unet import timestep_embedding


def _time(i: torch.Tensor, T: int, dim: int, n: int) -> torch.Tensor:
    i = torch.as_tensor(i).reshape(-1)
    e = timestep_embedding(1000.0 * (i.float() + 1) / T, dim)
    return e.expand(n, dim) if e.shape[0] == 1 else e


def _mlp(d_in: int, hidden: int, depth: int, d_out: int, act) -> nn.Sequential:
    layers: list[nn.Module] = []
    d = d_in
    for _ in range(depth):
        layers += [nn.Linear(d, hidden), act()]
        d = hidden
    layers.append(nn.Linear(d, d_out))
    return nn.Sequential(*layers)


class ToyDDGANGenerator(nn.Module):
    """G(x_t, z, i): (N, 2) state, (N, latent_dim) latent, (N,) or (1,) index in 0..T−1 → (N, 2) x̂₀ (data units).

    Args:
        latent_dim: L, the size of z (>= 1).
        num_timesteps: T.
        hidden: width of the 3 hidden layers (``depth``).
        temb: size of the time embedding.
        scale: data scale (inputs divided, outputs multiplied by it).
    Raises:
        ValueError: from ``forward``, on a batch-size mismatch between x_t and z.
    """

    def __init__(self, latent_dim: int = 4, num_timesteps: int = 4, hidden: int = 128, depth: int = 3,
                 temb: int = 32, scale: float = 4.0):
        super().__init__()
        self.config = dict(latent_dim=latent_dim, num_timesteps=num_timesteps, hidden=hidden, depth=depth, temb=temb,
                           scale=scale)
        self.latent_dim, self.num_timesteps, self.temb, self.scale = int(latent_dim), int(num_timesteps), int(temb), float(scale)
        self.body = _mlp(2 + latent_dim + temb, hidden, depth, 2, nn.SiLU)

    def forward(self, x_t: torch.Tensor, z: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
        n = x_t.shape[0]
        if z.shape[0] != n:
            raise ValueError(f"batch sizes differ: x_t {n}, z {z.shape[0]}")
        e = _time(i.to(x_t.device), self.num_timesteps, self.temb, n).to(x_t.dtype)
        return self.scale * self.body(torch.cat([x_t / self.scale, z, e], 1))


class ToyDDGANDiscriminator(nn.Module):
    """D(x_{t−1}, x_t, i): two (N, 2) states and (N,) indices → (N,) logits of "a real forward pair".

    Args: num_timesteps T; hidden, depth of the LeakyReLU MLP; temb; scale (as the generator's).
    """

    B: torch.Tensor  # (fourier, 4) fixed Fourier frequencies (buffer)

    def __init__(self, num_timesteps: int = 4, hidden: int = 128, depth: int = 3, temb: int = 32, scale: float = 4.0,
                 fourier: int = 0, fourier_scale: float = 1.5):
        super().__init__()
        self.num_timesteps, self.temb, self.scale = int(num_timesteps), int(temb), float(scale)
        g = torch.Generator().manual_seed(0)
        self.register_buffer("B", torch.randn((fourier, 4), generator=g) * fourier_scale)
        self.body = _mlp(4 + 2 * fourier + temb, hidden, depth, 1, lambda: nn.LeakyReLU(0.2))

    def forward(self, x_prev: torch.Tensor, x_t: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
        n = x_t.shape[0]
        e = _time(i.to(x_t.device), self.num_timesteps, self.temb, n).to(x_t.dtype)
        pair = torch.cat([x_prev, x_t], 1)
        feats = [pair / self.scale]
        if self.B.shape[0]:
            a = pair @ self.B.T
            feats += [torch.sin(a), torch.cos(a)]
        return self.body(torch.cat([*feats, e], 1)).squeeze(1)
