"""2-D toy datasets: seedable generators, each with its parameters documented and, where one exists,
its exact log-density.

Every dataset is a ``ToyDataset``: ``sample(n, seed=0 | generator=...) -> (n, 2) float32 tensor``,
``log_prob(x: (N, 2)) -> (N,)`` in nats (``None`` attribute ``has_density`` False where the density has no
closed form), ``bounds`` ((lo, hi), a square plotting/grid range holding essentially all the mass),
``centres`` (K, 2) and ``std`` for the Gaussian-mixture datasets (mode-coverage metrics), ``params``.

Datasets (``make_dataset(name, **params)``; ``DATASETS`` lists the names):

- ``25gaussians``: equal-weight mixture of 25 isotropic Gaussians, centres (2i, 2j), i, j ∈ {−2..2},
  std 0.1 (``std``). Exact density. (Xiao 2022 Fig 5.3; the GAN mode-collapse benchmark of
  Srivastava et al. 2017 / Dumoulin et al. 2017.)
- ``8gaussians``: 8 equal-weight Gaussians, centres 2·(cos kπ/4, sin kπ/4), std 0.1 (``radius``,
  ``std``). Exact density.
- ``9gaussians``: 3×3 grid, centres (2i, 2j), i, j ∈ {−1, 0, 1}, std 0.1. Exact density.
- ``swissroll``: scikit-learn ``make_swiss_roll(n, noise=1.0)``, coordinates (x, z) divided by 5
  (the FFJORD toy, Grathwohl et al. 2019). No closed-form density.
- ``moons``: scikit-learn ``make_moons(n, noise=0.1)``, shifted by (−0.5, −0.25) and scaled by 2.
- ``circles``: scikit-learn ``make_circles(n, factor=0.5, noise=0.08)`` scaled by 3 (FFJORD).
- ``checkerboard``: uniform on the 8 black unit squares of a 4×4 board on [−2, 2]², scaled by
  ``scale`` = 2 (FFJORD): exact density 1/(8·scale²) on the squares, 0 elsewhere.
- ``pinwheel``: 5 arms; radial std 0.3, tangential std 0.1, rate 0.25, scaled by 2 (FFJORD / Johnson
  et al. 2016). No closed-form density.
- ``2spirals``: two interleaved spirals, n = √U·540°·2π/360, radius n, noise N(0, 0.5²) per
  coordinate, divided by 3 (FFJORD). No closed-form density.
- ``user``: user-drawn points; the density is the equal-weight Gaussian mixture (kernel density) of
  std ``std`` (default 0.1) centred on the drawn points: exact.

scikit-learn's generators take a NumPy seed; ``sample(n, generator=g)`` draws that seed from ``g``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

LOG2PI = math.log(2 * math.pi)


def _rng(seed, generator):
    if generator is not None:
        seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
    return np.random.default_rng(int(seed))


def gmm_log_prob(x: torch.Tensor, centres: torch.Tensor, std: float) -> torch.Tensor:
    """log of the equal-weight isotropic Gaussian mixture (1/K) Σ_k N(x; c_k, std² I) in 2-D.

    Args: x (N, 2); centres (K, 2); std > 0. Returns (N,) nats.
    """
    x = x.to(torch.float64)
    c = centres.to(torch.float64)
    d2 = ((x[:, None, :] - c[None]) ** 2).sum(-1)                      # (N, K)
    comp = -d2 / (2 * std ** 2) - 2 * math.log(std) - LOG2PI           # 2-D normal log density
    return (torch.logsumexp(comp, dim=1) - math.log(len(c))).to(torch.float32)


@dataclass
class ToyDataset:
    """A 2-D dataset. See the module docstring for each one's parameters and source."""

    name: str
    params: dict
    bounds: tuple[float, float]  # (lo, hi)
    description: str
    centres: torch.Tensor | None = None
    std: float | None = None
    _sampler: Callable[[int, np.random.Generator], np.ndarray] | None = field(default=None, repr=False)  # (n, rng) -> (n, 2)
    _log_prob: Callable[[torch.Tensor], torch.Tensor] | None = field(default=None, repr=False)

    @property
    def has_density(self) -> bool:
        return self._log_prob is not None

    @property
    def is_mixture(self) -> bool:
        """Gaussian-grid / ring datasets: mode coverage applies."""
        return self.centres is not None and self.std is not None

    def sample(self, n: int, seed: int = 0, generator: torch.Generator | None = None) -> torch.Tensor:
        """(n, 2) float32 samples; the same seed gives the same samples."""
        if int(n) < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        if self._sampler is None:
            raise ValueError(f"dataset {self.name!r} has no sampler")
        return torch.as_tensor(np.asarray(self._sampler(int(n), _rng(seed, generator)), np.float32))

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log p(x) in nats, (N, 2) -> (N,); ValueError where the dataset has no closed form."""
        if self._log_prob is None:
            raise ValueError(f"dataset {self.name!r} has no closed-form density")
        return self._log_prob(torch.as_tensor(x, dtype=torch.float32).reshape(-1, 2))


def _mixture(name, centres, std, bounds, description):
    c = torch.tensor(np.asarray(centres, np.float32))

    def sampler(n, rng):
        k = rng.integers(0, len(c), n)
        return c.numpy()[k] + std * rng.standard_normal((n, 2))
    return ToyDataset(name, {"std": std}, bounds, description, c, float(std), sampler,
                      lambda x: gmm_log_prob(x, c, std))


def _25gaussians(std=0.1):
    cs = [(2.0 * i, 2.0 * j) for i in range(-2, 3) for j in range(-2, 3)]
    return _mixture("25gaussians", cs, std, (-5.0, 5.0),
                    f"25 equal-weight Gaussians, centres (2i, 2j), i, j in -2..2, std {std}")


def _9gaussians(std=0.1):
    cs = [(2.0 * i, 2.0 * j) for i in range(-1, 2) for j in range(-1, 2)]
    return _mixture("9gaussians", cs, std, (-3.5, 3.5),
                    f"9 equal-weight Gaussians, centres (2i, 2j), i, j in -1..1, std {std}")


def _8gaussians(std=0.1, radius=2.0):
    cs = [(radius * math.cos(k * math.pi / 4), radius * math.sin(k * math.pi / 4)) for k in range(8)]
    d = _mixture("8gaussians", cs, std, (-radius - 1.5, radius + 1.5),
                 f"8 equal-weight Gaussians on the circle of radius {radius}, std {std}")
    d.params["radius"] = radius
    return d


def _swissroll(noise=1.0):
    from sklearn.datasets import make_swiss_roll

    def sampler(n, rng):
        x, _ = make_swiss_roll(n, noise=noise, random_state=int(rng.integers(2**31 - 1)))
        return x[:, [0, 2]] / 5.0
    return ToyDataset("swissroll", {"noise": noise}, (-3.5, 3.5),
                      f"scikit-learn make_swiss_roll(noise={noise}), (x, z)/5", None, None, sampler, None)


def _moons(noise=0.1):
    from sklearn.datasets import make_moons

    def sampler(n, rng):
        x, _ = make_moons(n, noise=noise, random_state=int(rng.integers(2**31 - 1)))
        return (x - np.array([0.5, 0.25])) * 2.0
    return ToyDataset("moons", {"noise": noise}, (-4.0, 4.0),
                      f"scikit-learn make_moons(noise={noise}), (x - (0.5, 0.25)) * 2", None, None, sampler, None)


def _circles(noise=0.08, factor=0.5):
    from sklearn.datasets import make_circles

    def sampler(n, rng):
        x, _ = make_circles(n, factor=factor, noise=noise, random_state=int(rng.integers(2**31 - 1)))
        return x * 3.0
    return ToyDataset("circles", {"noise": noise, "factor": factor}, (-4.5, 4.5),
                      f"scikit-learn make_circles(factor={factor}, noise={noise}) * 3", None, None, sampler, None)


def _checkerboard(scale=2.0):
    def sampler(n, rng):
        x1 = rng.random(n) * 4 - 2
        x2 = rng.random(n) - rng.integers(0, 2, n) * 2
        x2 = x2 + np.floor(x1) % 2
        return np.stack([x1, x2], 1) * scale

    def log_prob(x):
        u = x / scale
        inside = (u.abs() <= 2).all(1)
        black = ((torch.floor(u[:, 0]) + torch.floor(u[:, 1])) % 2) == 0
        lp = torch.full((len(x),), -math.inf)
        lp[inside & black] = -math.log(8 * scale ** 2)
        return lp
    return ToyDataset("checkerboard", {"scale": scale}, (-2.5 * scale, 2.5 * scale),
                      f"uniform on the 8 black squares of a 4x4 board on [-2,2]^2, scaled by {scale}",
                      None, None, sampler, log_prob)


def _pinwheel(radial_std=0.3, tangential_std=0.1, num_classes=5, rate=0.25):
    def sampler(n, rng):
        per = n // num_classes + 1
        rads = np.linspace(0, 2 * np.pi, num_classes, endpoint=False)
        feats = rng.standard_normal((num_classes * per, 2)) * np.array([radial_std, tangential_std])
        feats[:, 0] += 1.0
        labels = np.repeat(np.arange(num_classes), per)
        angles = rads[labels] + rate * np.exp(feats[:, 0])
        rot = np.stack([np.cos(angles), -np.sin(angles), np.sin(angles), np.cos(angles)], 1).reshape(-1, 2, 2)
        x = 2 * np.einsum("ti,tij->tj", feats, rot)
        return x[rng.permutation(len(x))[:n]]
    return ToyDataset("pinwheel", dict(radial_std=radial_std, tangential_std=tangential_std,
                                       num_classes=num_classes, rate=rate), (-4.5, 4.5),
                      f"pinwheel, {num_classes} arms, radial std {radial_std}, tangential std {tangential_std}, "
                      f"rate {rate}, x2", None, None, sampler, None)


def _2spirals(noise=0.5):
    def sampler(n, rng):
        m = n // 2 + 1
        t = np.sqrt(rng.random((m, 1))) * 540 * (2 * np.pi) / 360
        d1x = -np.cos(t) * t + rng.random((m, 1)) * noise
        d1y = np.sin(t) * t + rng.random((m, 1)) * noise
        x = np.vstack((np.hstack((d1x, d1y)), np.hstack((-d1x, -d1y)))) / 3
        x = x + rng.standard_normal(x.shape) * 0.1
        return x[rng.permutation(len(x))[:n]]
    return ToyDataset("2spirals", {"noise": noise}, (-4.0, 4.0),
                      "two interleaved spirals (FFJORD): radius sqrt(U)*3*pi, /3, + N(0, 0.1^2)", None, None, sampler, None)


def user_dataset(points, std: float = 0.1) -> ToyDataset:
    """A user-drawn dataset: the equal-weight Gaussian mixture (std ``std``) on the drawn points.

    Args: points (M, 2) array-like, M >= 1. Raises ValueError for empty or non-finite points.
    """
    pts = np.asarray(points, np.float32).reshape(-1, 2)
    if len(pts) == 0 or not np.isfinite(pts).all():
        raise ValueError("a user dataset needs at least one finite point")
    half = float(np.abs(pts).max() + 1.0)
    d = _mixture("user", pts, float(std), (-half, half), f"user-drawn: {len(pts)} points, kernel std {std}")
    d.params["points"] = len(pts)
    return d


_MAKERS = {"25gaussians": _25gaussians, "8gaussians": _8gaussians, "9gaussians": _9gaussians,
           "swissroll": _swissroll, "moons": _moons, "circles": _circles, "checkerboard": _checkerboard,
           "pinwheel": _pinwheel, "2spirals": _2spirals}
DATASETS = tuple(_MAKERS)


def make_dataset(name: str, **params) -> ToyDataset:
    """The dataset ``name`` (one of ``DATASETS``) with optional parameters (e.g. ``std=0.05``).

    Raises ValueError for an unknown name or parameter (``user`` datasets: ``user_dataset(points)``).
    """
    if name not in _MAKERS:
        raise ValueError(f"unknown dataset {name!r}; available: {', '.join(DATASETS)}")
    try:
        d = _MAKERS[name](**params)
    except TypeError:
        raise ValueError(f"dataset {name!r} does not take parameters {sorted(params)}") from None
    if d.std is not None and not d.std > 0:
        raise ValueError(f"std must be > 0, got {d.std}")
    return d
