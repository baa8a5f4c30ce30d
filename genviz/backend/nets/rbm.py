"""The parameters of a Bernoulli–Bernoulli restricted Boltzmann machine (Smolensky 1986; Hinton 2002)."""
from __future__ import annotations

import torch
from torch import nn


class BernoulliRBM(nn.Module):
    """W (V, H), visible biases b (V,), hidden biases c (H,) of E(v, h) = −bᵀv − cᵀh − vᵀWh, v ∈ {0,1}^V, h ∈ {0,1}^H.

    ``forward(v)`` (N, V) -> (N,) free energies F(v) = −bᵀv − Σ_j softplus(c_j + (vᵀW)_j) (so that
    p(v) = exp(−F(v))/Z). Weights start at N(0, 0.01²) and zero biases (Hinton 2010, "A practical guide", Sec. 8).

    Raises:
        ValueError: non-positive sizes.
    """

    def __init__(self, visible: int = 784, hidden: int = 128):
        super().__init__()
        if visible < 1 or hidden < 1:
            raise ValueError(f"visible and hidden must be positive, got {visible}, {hidden}")
        self.config = dict(visible=visible, hidden=hidden)
        self.W = nn.Parameter(0.01 * torch.randn(visible, hidden))
        self.b = nn.Parameter(torch.zeros(visible))
        self.c = nn.Parameter(torch.zeros(hidden))

    def p_h(self, v: torch.Tensor) -> torch.Tensor:
        """(N, V) -> (N, H) p(h_j = 1 | v) = σ(c_j + (vᵀW)_j)."""
        return torch.sigmoid(v @ self.W + self.c)

    def p_v(self, h: torch.Tensor) -> torch.Tensor:
        """(N, H) -> (N, V) p(v_i = 1 | h) = σ(b_i + (Wh)_i)."""
        return torch.sigmoid(h @ self.W.t() + self.b)

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        return -(v @ self.b) - torch.nn.functional.softplus(v @ self.W + self.c).sum(1)
