"""Networks with a latent space for 28x28 images: a convolutional VAE and a DCGAN generator/discriminator.

- ``ConvVAE``: Kingma & Welling 2014 ("Auto-Encoding Variational Bayes"), encoder q(z|x) = N(μ, diag σ²)
  and decoder p(x|z) with Bernoulli pixel likelihood (logits), the classic MNIST choice.
- ``DCGANGenerator`` / ``DCGANDiscriminator``: Radford et al. 2016 ("Unsupervised representation learning
  with deep convolutional GANs"): transposed convolutions with BatchNorm + ReLU in G, strided
  convolutions with LeakyReLU in D, tanh output in [-1, 1].
"""
from __future__ import annotations

import torch
from torch import nn


class ConvVAE(nn.Module):
    """Convolutional VAE for (N, C, 28, 28) images in model space [-1, 1].

    ``encode(x)`` -> (μ, log σ²), each (N, latent_dim); ``decode_logits(z)`` -> (N, C, 28, 28) Bernoulli
    logits of the pixels' [0, 1] intensity; ``forward(x)`` = decode_logits(μ) (deterministic).
    """

    def __init__(self, in_channels: int = 1, latent_dim: int = 16, width: int = 32):
        super().__init__()
        self.config = dict(in_channels=in_channels, latent_dim=latent_dim, width=width)
        w = width
        self.latent_dim = latent_dim
        self.enc = nn.Sequential(
            nn.Conv2d(in_channels, w, 4, stride=2, padding=1), nn.SiLU(),       # 14x14
            nn.Conv2d(w, 2 * w, 4, stride=2, padding=1), nn.SiLU(),            # 7x7
            nn.Conv2d(2 * w, 2 * w, 3, padding=1), nn.SiLU(),
            nn.Flatten(),
        )
        self.to_stats = nn.Linear(2 * w * 49, 2 * latent_dim)
        self.from_z = nn.Linear(latent_dim, 2 * w * 49)
        self.dec = nn.Sequential(
            nn.SiLU(), nn.Unflatten(1, (2 * w, 7, 7)),
            nn.Conv2d(2 * w, 2 * w, 3, padding=1), nn.SiLU(),
            nn.ConvTranspose2d(2 * w, w, 4, stride=2, padding=1), nn.SiLU(),   # 14x14
            nn.Conv2d(w, w, 3, padding=1), nn.SiLU(),
            nn.ConvTranspose2d(w, in_channels, 4, stride=2, padding=1),        # 28x28 logits
        )

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.to_stats(self.enc(x)).chunk(2, dim=1)
        return mu, logvar.clamp(-12.0, 8.0)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.dec(self.from_z(z))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode_logits(self.encode(x)[0])


class DCGANGenerator(nn.Module):
    """z (N, latent_dim) ~ N(0, I) -> (N, C, 28, 28) images in [-1, 1] (tanh)."""

    def __init__(self, latent_dim: int = 64, width: int = 64, out_channels: int = 1):
        super().__init__()
        self.config = dict(latent_dim=latent_dim, width=width, out_channels=out_channels)
        self.latent_dim = latent_dim
        w = width
        self.body = nn.Sequential(
            nn.Linear(latent_dim, 2 * w * 49, bias=False), nn.Unflatten(1, (2 * w, 7, 7)),
            nn.BatchNorm2d(2 * w), nn.ReLU(True),
            nn.ConvTranspose2d(2 * w, w, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU(True),
            nn.ConvTranspose2d(w, w // 2, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(w // 2), nn.ReLU(True),
            nn.Conv2d(w // 2, out_channels, 3, padding=1), nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.body(z)


class DCGANDiscriminator(nn.Module):
    """(N, C, 28, 28) in [-1, 1] -> (N,) logits of "real". Used only by the training recipe."""

    def __init__(self, in_channels: int = 1, width: int = 64):
        super().__init__()
        w = width
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, w, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True),            # 14
            nn.Conv2d(w, 2 * w, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(2 * w),
            nn.LeakyReLU(0.2, True),                                                               # 7
            nn.Flatten(), nn.Linear(2 * w * 49, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x).squeeze(1)
