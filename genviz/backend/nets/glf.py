"""The generative latent flow network (Xiao, Yan & Amit 2019; Xiao 2022 Ch. 3): a deterministic auto-encoder
(encoder E, decoder G) for 28x28 images and a normalizing flow f_η on its latent, mapping z to ε ~ N(0, I).

The flow is a fixed standardisation u = (z − m)/s (``z_mean``/``z_std``: buffers the recipe sets from running
statistics of E(x), not trained by gradient; log-det −Σ log s) followed by an autoregressive neural spline
flow (zuko ``NSF``, Durkan et al. 2019) whose splines cover [−5, 5] with identity tails.
"""
from __future__ import annotations

import torch
from torch import nn


class GLFNet(nn.Module):
    """Encoder, decoder and latent flow of a GLF.

    ``encode_z(x)``: (N, C, 28, 28) in [-1, 1] -> z (N, latent_dim). ``decode_logits(z)`` -> (N, C, 28, 28)
    logits of the [0, 1] intensity (G(z) = sigmoid(logits)). ``flow_forward(z)`` -> (ε, log|det ∂ε/∂z|),
    shapes (N, latent_dim) and (N,); ``flow_inverse(ε)`` -> z; ``flow_log_prob(z)`` -> (N,) nats,
    log N(f(z); 0, I) + log|det ∂f/∂z| (change of variables; Xiao 2022 Eq. 3.3).
    """

    z_mean: torch.Tensor  # (latent_dim,) buffers of the fixed standardisation
    z_std: torch.Tensor

    def __init__(self, in_channels: int = 1, latent_dim: int = 20, width: int = 32, transforms: int = 4,
                 hidden: int = 128, bins: int = 8):
        super().__init__()
        import zuko
        if latent_dim < 2:
            raise ValueError(f"latent_dim must be >= 2, got {latent_dim}")
        self.config = dict(in_channels=in_channels, latent_dim=latent_dim, width=width, transforms=transforms,
                           hidden=hidden, bins=bins)
        self.latent_dim = latent_dim
        w = width
        self.enc = nn.Sequential(
            nn.Conv2d(in_channels, w, 4, stride=2, padding=1), nn.SiLU(),       # 14x14
            nn.Conv2d(w, 2 * w, 4, stride=2, padding=1), nn.SiLU(),            # 7x7
            nn.Conv2d(2 * w, 2 * w, 3, padding=1), nn.SiLU(),
            nn.Flatten(), nn.Linear(2 * w * 49, latent_dim),
        )
        self.dec = nn.Sequential(
            nn.Linear(latent_dim, 2 * w * 49), nn.SiLU(), nn.Unflatten(1, (2 * w, 7, 7)),
            nn.Conv2d(2 * w, 2 * w, 3, padding=1), nn.SiLU(),
            nn.ConvTranspose2d(2 * w, w, 4, stride=2, padding=1), nn.SiLU(),   # 14x14
            nn.Conv2d(w, w, 3, padding=1), nn.SiLU(),
            nn.ConvTranspose2d(w, in_channels, 4, stride=2, padding=1),        # 28x28 logits
        )
        self.flow = zuko.flows.NSF(features=latent_dim, transforms=transforms, bins=bins,
                                   hidden_features=(hidden, hidden))
        self.register_buffer("z_mean", torch.zeros(latent_dim))
        self.register_buffer("z_std", torch.ones(latent_dim))

    def encode_z(self, x: torch.Tensor) -> torch.Tensor:
        return self.enc(x)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.dec(z)

    def flow_forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        u = (z - self.z_mean) / self.z_std
        eps, ladj = self.flow().transform.call_and_ladj(u)
        return eps, ladj - self.z_std.log().sum()

    def flow_inverse(self, eps: torch.Tensor) -> torch.Tensor:
        return self.flow().transform.inv(eps) * self.z_std + self.z_mean

    def flow_log_prob(self, z: torch.Tensor) -> torch.Tensor:
        eps, ladj = self.flow_forward(z)
        d = eps.shape[-1]
        return -0.5 * (eps ** 2).sum(-1) - 0.5 * d * torch.log(torch.tensor(2 * torch.pi)) + ladj

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode_logits(self.encode_z(x))
