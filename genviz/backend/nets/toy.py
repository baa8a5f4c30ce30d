"""Small networks for 2-D toy models: an energy MLP, an ε-prediction MLP with a time input, and a
neural spline flow (zuko). Each keeps its constructor arguments in ``self.config`` (saved in the
checkpoint metadata so ``load_checkpoint`` can rebuild it)."""
from __future__ import annotations

import math

import torch
from torch import nn

from .unet import timestep_embedding


def _mlp(d_in: int, hidden: int, depth: int, d_out: int) -> nn.Sequential:
    layers, d = [], d_in
    for _ in range(depth):
        layers += [nn.Linear(d, hidden), nn.SiLU()]
        d = hidden
    layers.append(nn.Linear(d, d_out))
    return nn.Sequential(*layers)


class ToyEnergyMLP(nn.Module):
    """E(x): (N, 2) -> (N,) energies. SiLU keeps ∇E smooth for Langevin (Nijkamp et al. 2019).

    With ``fourier`` > 0 the input first goes through random Fourier features
    [x, sin(Bx), cos(Bx)], B ~ N(0, ``fourier_scale``²) of shape (fourier, 2), fixed at construction
    (seed 0) and saved with the weights (Tancik et al. 2020): a plain MLP learns many separated sharp
    modes (25gaussians) very slowly (spectral bias), these features let it do so in a few thousand steps.
    """

    B: torch.Tensor  # (fourier, 2) buffer of Fourier frequencies (``register_buffer``)

    def __init__(self, hidden: int = 128, depth: int = 3, fourier: int = 0, fourier_scale: float = 1.0):
        super().__init__()
        self.config = dict(hidden=hidden, depth=depth, fourier=fourier, fourier_scale=fourier_scale)
        g = torch.Generator().manual_seed(0)
        self.register_buffer("B", torch.randn((fourier, 2), generator=g) * fourier_scale)
        self.body = _mlp(2 + 2 * fourier, hidden, depth, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.B.shape[0]:
            a = x @ self.B.T
            x = torch.cat([x, torch.sin(a), torch.cos(a)], dim=-1)
        return self.body(x).squeeze(-1)


class ToyEpsMLP(nn.Module):
    """ε̂(x_t, t): x_t (N, 2), t (N,) integer timesteps 0..T-1 -> (N, 2) (Ho et al. 2020, Eq. 14).

    t may also be an int or a 0-dim tensor (one timestep for the whole batch): the time branch then runs
    once and is broadcast over the N points.
    """

    def __init__(self, hidden: int = 128, depth: int = 3, temb: int = 32):
        super().__init__()
        self.config = dict(hidden=hidden, depth=depth, temb=temb)
        self.temb = temb
        self.t_proj = nn.Sequential(nn.Linear(temb, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.x_in = nn.Linear(2, hidden)
        self.body = _mlp(hidden, hidden, depth - 1, 2)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        if not torch.is_tensor(t):
            t = torch.tensor(int(t), device=x.device)
        h = self.x_in(x) + self.t_proj(timestep_embedding(t.reshape(-1), self.temb))
        return self.body(torch.nn.functional.silu(h))


class ToySplineFlow(nn.Module):
    """A neural spline flow (Durkan et al. 2019; zuko's ``NSF``): exact log p(x) for x (N, 2).

    ``scale`` standardises the data first (u = x/scale, log-det −2 log scale), so the splines' domain
    [−5, 5] covers the data. ``log_prob(x)`` -> (N,) nats; ``inverse_layers(z)`` yields the state after
    each inverse layer (z -> ... -> x), so a sampling chain can show the flow layer by layer.
    """

    def __init__(self, transforms: int = 5, bins: int = 16, hidden: int = 64, scale: float = 2.0):
        super().__init__()
        import zuko
        self.config = dict(transforms=transforms, bins=bins, hidden=hidden, scale=scale)
        self.scale = float(scale)
        self.flow = zuko.flows.NSF(features=2, transforms=transforms, bins=bins, hidden_features=(hidden, hidden))

    @property
    def n_layers(self) -> int:
        return int(self.config["transforms"])

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        return self.flow().log_prob(x / self.scale) - 2 * math.log(self.scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.log_prob(x)

    def inverse_layers(self, z: torch.Tensor):
        """Yield the state after each inverse layer, in data units (·scale), ending at x."""
        u = z
        for tr in reversed(self.flow().transform.transforms):
            u = tr.inv(u)
            yield u * self.scale

    def sample_from(self, z: torch.Tensor) -> torch.Tensor:
        """x = f⁻¹(z) for base noise z (N, 2)."""
        return self.flow().transform.inv(z) * self.scale

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """z = f(x): data (N, 2) to base noise (N, 2), the inverse of ``sample_from``."""
        return self.flow().transform(x / self.scale)


class ToyVAE(nn.Module):
    """A 2-D VAE (Kingma & Welling 2014): encoder x (N, 2) -> (μ, log σ²) of q(z|x), z (N, latent);
    decoder z -> mean of p(x|z) = N(dec(z), ``obs_std``² I) with a fixed observation std.

    ``elbo(x)`` -> (N,) nats: E_q[log p(x|z)] − KL(q(z|x) ‖ N(0, I)) (one reparameterised sample
    per point, or ``k`` averaged), a lower bound on log p(x).
    """

    def __init__(self, hidden: int = 128, latent: int = 2, obs_std: float = 0.1):
        super().__init__()
        self.config = dict(hidden=hidden, latent=latent, obs_std=obs_std)
        self.latent, self.latent_dim, self.obs_std = latent, latent, float(obs_std)
        self.enc = _mlp(2, hidden, 2, 2 * latent)
        self.dec = _mlp(latent, hidden, 3, 2)

    def encode(self, x):
        mu, logvar = self.enc(x).chunk(2, dim=-1)
        return mu, logvar.clamp(-12, 8)

    def decode(self, z):
        return self.dec(z)

    def elbo(self, x, k: int = 1, generator=None):
        mu, logvar = self.encode(x)
        kl = 0.5 * (mu ** 2 + logvar.exp() - 1 - logvar).sum(-1)
        rec = 0.0
        for _ in range(k):
            eps = torch.randn(mu.shape, generator=generator, device=mu.device) if generator is not None else torch.randn_like(mu)
            xr = self.decode(mu + (0.5 * logvar).exp() * eps)
            rec = rec + (-((x - xr) ** 2).sum(-1) / (2 * self.obs_std ** 2)
                         - x.shape[-1] * (math.log(self.obs_std) + 0.5 * math.log(2 * math.pi)))
        return rec / k - kl

    def forward(self, x):
        return self.elbo(x)


class ToyGAN(nn.Module):
    """A 2-D GAN (Goodfellow et al. 2014): generator G: z (N, latent) -> x (N, 2) and discriminator
    D: x -> logit (N,). It has no density: only samples (and D's opinion)."""

    def __init__(self, hidden: int = 128, latent: int = 2):
        super().__init__()
        self.config = dict(hidden=hidden, latent=latent)
        self.latent = self.latent_dim = latent
        self.G = _mlp(latent, hidden, 3, 2)
        self.D = _mlp(2, hidden, 3, 1)

    def generate(self, z):
        return self.G(z)

    def discriminate(self, x):
        return self.D(x).squeeze(-1)

    def forward(self, z):
        return self.G(z)
