"""Grid evaluation of 2-D densities: −E(x) on a grid, the density normalised by numerical integration,
and test log-likelihoods (Xiao 2022, Figs 5.3–5.5 and §5.4).

A ``Grid(lo, hi, res)`` is the square [lo, hi]² split into res × res equal cells; values are taken at
the cell centres and the integral of f is approximated by the midpoint rule Σ f(x_ij) · h², h = (hi−lo)/res.
For an unnormalised log-density ℓ(x) = −E(x):

    log Z ≈ logsumexp_ij ℓ(x_ij) + 2 log h,     p(x) = exp(ℓ(x) − log Z),

so the normalised grid masses p(x_ij) h² sum to exactly 1 (up to float rounding), and the test
log-likelihood of points y is mean_k ℓ(y_k) − log Z in nats per point (mass outside the grid is ignored:
choose the range to hold the data).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class Grid:
    """The square [lo, hi]² with res × res cells (res >= 2)."""

    lo: float = -5.0
    hi: float = 5.0
    res: int = 200

    def __post_init__(self):
        if not self.hi > self.lo:
            raise ValueError(f"grid range must have hi > lo, got [{self.lo}, {self.hi}]")
        if int(self.res) < 2:
            raise ValueError(f"grid resolution must be >= 2, got {self.res}")

    @property
    def h(self) -> float:
        """Cell width (same unit as x)."""
        return (self.hi - self.lo) / self.res

    @property
    def cell_area(self) -> float:
        return self.h ** 2

    @property
    def centres_1d(self) -> torch.Tensor:
        """(res,) cell-centre coordinates."""
        return self.lo + (torch.arange(self.res, dtype=torch.float64) + 0.5) * self.h

    def points(self) -> torch.Tensor:
        """(res*res, 2) float32 cell centres, row-major with y as the slow index: point k = (x_j, y_i),
        k = i*res + j; ``values.reshape(res, res)[i, j]`` is the value at (x_j, y_i)."""
        c = self.centres_1d
        yy, xx = torch.meshgrid(c, c, indexing="ij")
        return torch.stack([xx.reshape(-1), yy.reshape(-1)], 1).to(torch.float32)

    def describe(self) -> str:
        return f"[{self.lo:g}, {self.hi:g}]², {self.res}×{self.res} cells (h = {self.h:.4g})"


def evaluate_on_grid(fn, grid: Grid, batch: int = 16384) -> torch.Tensor:
    """fn: (M, 2) -> (M,) evaluated at the grid's cell centres in batches; returns (res, res) float64."""
    pts = grid.points()
    out = [torch.as_tensor(fn(pts[i:i + batch])).detach().to(torch.float64).reshape(-1)
           for i in range(0, len(pts), batch)]
    return torch.cat(out).reshape(grid.res, grid.res)


def log_normaliser(log_unnorm: torch.Tensor, grid: Grid) -> float:
    """log Z ≈ logsumexp(ℓ on the grid) + log h² (midpoint rule); ``log_unnorm`` (res, res)."""
    return float(torch.logsumexp(log_unnorm.reshape(-1).to(torch.float64), 0)) + math.log(grid.cell_area)


def normalised_density(log_unnorm: torch.Tensor, grid: Grid) -> tuple[np.ndarray, float]:
    """(density (res, res) float64 with Σ density·h² = 1, log Z) from ℓ = −E on the grid."""
    log_z = log_normaliser(log_unnorm, grid)
    dens = torch.exp(log_unnorm.to(torch.float64) - log_z).numpy()
    return dens, log_z


def grid_mass(density: np.ndarray, grid: Grid) -> float:
    """Σ density · h² (1 for a normalised density whose mass lies inside the grid)."""
    return float(np.asarray(density, np.float64).sum() * grid.cell_area)


def log_likelihood(log_unnorm_fn, points: torch.Tensor, grid: Grid, log_z: float | None = None) -> float:
    """Mean test log-likelihood in nats per point: mean ℓ(y) − log Z, Z from the grid.

    Args: log_unnorm_fn (M, 2) -> (M,) unnormalised log-density; points (N, 2); grid; log_z (optional,
    reuse an earlier grid's). Points outside the grid still count (ℓ is evaluated there).
    """
    if log_z is None:
        log_z = log_normaliser(evaluate_on_grid(log_unnorm_fn, grid), grid)
    lp = torch.as_tensor(log_unnorm_fn(torch.as_tensor(points, dtype=torch.float32))).to(torch.float64)
    return float(lp.mean()) - log_z


def histogram_density(points, grid: Grid) -> np.ndarray:
    """(res, res) float32 normalised 2-D histogram of points on the grid (row i = y bin)."""
    p = np.asarray(points, np.float64).reshape(-1, 2)
    edges = np.linspace(grid.lo, grid.hi, grid.res + 1)
    h, _, _ = np.histogram2d(p[:, 1], p[:, 0], bins=[edges, edges])
    total = max(len(p), 1)
    return (h / (total * grid.cell_area)).astype(np.float32)
