"""Sample-quality figures for 2-D toys.

- Mode coverage (GAN mode-collapse literature: Srivastava et al. 2017 VEEGAN §5.1; Dumoulin et al.
  2017): a sample is *high quality* when it lies within ``k`` = 3 std of some centre; a mode is
  *covered* when at least ``min_count`` samples are high quality for it.
- MMD² with a sum of Gaussian (RBF) kernels, unbiased estimator (Gretton et al. 2012, Eq. 3).
- Energy distance 2E‖X−Y‖ − E‖X−X'‖ − E‖Y−Y'‖ (Székely & Rizzo 2013), V-statistic, >= 0.
"""
from __future__ import annotations

import torch


def mode_coverage(samples: torch.Tensor, centres: torch.Tensor, std: float, k: float = 3.0,
                  min_count: int = 20) -> dict:
    """Modes covered and the high-quality share.

    Args: samples (N, 2); centres (K, 2); std of each mode; k (radius in stds); min_count.
    Returns dict: ``modes_covered`` (int), ``modes`` (K), ``high_quality`` (share in [0, 1]),
    ``counts`` (list of K ints: high-quality samples nearest to each centre), ``min_count``, ``k``.
    Non-finite samples count as low quality.
    """
    x = torch.as_tensor(samples, dtype=torch.float64).reshape(-1, 2)
    c = torch.as_tensor(centres, dtype=torch.float64)
    d = torch.cdist(x.nan_to_num(1e9, 1e9, -1e9), c)
    dmin, idx = d.min(1)
    hq = dmin <= k * std
    counts = torch.bincount(idx[hq], minlength=len(c))
    return {"modes_covered": int((counts >= min_count).sum()), "modes": len(c),
            "high_quality": float(hq.double().mean()) if len(x) else 0.0,
            "counts": [int(v) for v in counts], "min_count": int(min_count), "k": float(k)}


def mmd2(x: torch.Tensor, y: torch.Tensor, bandwidths=(0.1, 0.3, 1.0, 3.0)) -> float:
    """Unbiased MMD² between samples x (N, D) and y (M, D), kernel Σ_b exp(−‖u−v‖²/(2b²)); N, M >= 2."""
    x = torch.as_tensor(x, dtype=torch.float64).reshape(len(x), -1)
    y = torch.as_tensor(y, dtype=torch.float64).reshape(len(y), -1)
    if len(x) < 2 or len(y) < 2:
        raise ValueError("MMD needs at least 2 samples on each side")

    def k(a, b):
        d2 = torch.cdist(a, b) ** 2
        return sum(torch.exp(-d2 / (2 * bw ** 2)) for bw in bandwidths)
    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    n, m = len(x), len(y)
    return float((kxx.sum() - kxx.diagonal().sum()) / (n * (n - 1))
                 + (kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1)) - 2 * kxy.mean())


def energy_distance(x: torch.Tensor, y: torch.Tensor) -> float:
    """Energy distance 2E‖X−Y‖ − E‖X−X'‖ − E‖Y−Y'‖ (V-statistic, >= 0; 0 iff the samples coincide)."""
    x = torch.as_tensor(x, dtype=torch.float64).reshape(len(x), -1)
    y = torch.as_tensor(y, dtype=torch.float64).reshape(len(y), -1)
    return float(2 * torch.cdist(x, y).mean() - torch.cdist(x, x).mean() - torch.cdist(y, y).mean())
