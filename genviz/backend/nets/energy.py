"""A small ConvNet energy E(x) for 28x28 images (short-run EBMs, Nijkamp et al. 2019)."""
from __future__ import annotations

import torch
from torch import nn


class ConvEnergy(nn.Module):
    """(N, C, 28, 28) in [-1, 1] -> (N,) energies. SiLU activations keep ∇E smooth for Langevin."""

    def __init__(self, in_channels: int = 1, width: int = 32):
        super().__init__()
        self.config = dict(in_channels=in_channels, width=width)
        w = width
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, w, 3, padding=1), nn.SiLU(),
            nn.Conv2d(w, 2 * w, 4, stride=2, padding=1), nn.SiLU(),      # 14x14
            nn.Conv2d(2 * w, 4 * w, 4, stride=2, padding=1), nn.SiLU(),  # 7x7
            nn.Conv2d(4 * w, 4 * w, 3, padding=1), nn.SiLU(),
            nn.Flatten(), nn.Linear(4 * w * 49, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x).squeeze(1)
