"""Densities of a 2-D toy VAEBM and of its base VAE on a grid, and their test log-likelihoods (Xiao 2022 §4.4.2,
Fig. 4.9: 25gaussians, VAEBM −1.50, VAE −2.97, data −1.10 nats on the thesis's data scale).

- The base VAE: ``vae_quadrature(model, x)`` is log p_VAE(x) = log ∫ N(x; μ(z), σ_x² I) N(z; 0, I) dz by the
  midpoint rule on a z grid (the toy latent is 2-D), a near-exact value where σ_x is not much smaller than
  the decoder's spacing; the reported figure is the IWAE bound (``VAEBMModel.iwae``, Burda et al. 2016) with many
  posterior samples, which increases with k towards log p_VAE(x).
- The VAEBM: ℓ(x) = log p_VAE(x) − E(x) (Eq. 4.12, p_VAE by IWAE) normalised on the grid
  (``toy.density.normalised_density``), so its grid masses sum to 1.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from .density import Grid, evaluate_on_grid, normalised_density

LOG2PI = math.log(2 * math.pi)
GRID_K = 128      # IWAE samples per point for the VAEBM's ℓ(x), on the grid and on test points alike
REPORT_K = 1000   # IWAE samples for the VAE's reported test log-likelihood


def vae_quadrature(model, x: torch.Tensor, z_lim: float = 4.0, z_res: int = 100, chunk: int = 512) -> torch.Tensor:
    """log p_VAE(x) (N,) nats for a 2-D-latent Gaussian-decoder VAE (``VAEBMModel`` with a ToyVAE), by the
    midpoint rule over z in [−z_lim, z_lim]² with z_res² cells. ValueError for other latents/decoders."""
    if not model.net.gaussian or model.latent_dim != 2:
        raise ValueError(f"{model.name}: quadrature needs a Gaussian decoder with a 2-D latent")
    zg = Grid(-z_lim, z_lim, z_res)
    z = zg.points().to(model.device)
    s = model.obs_std
    with torch.inference_mode():
        mu = model.net.mean(z).double()                                        # (M, 2)
        log_pz = (-0.5 * (z.double() ** 2).sum(1) - LOG2PI) + math.log(zg.cell_area)
        out = []
        for i in range(0, len(x), chunk):
            xb = x[i:i + chunk].to(model.device).double()
            d2 = torch.cdist(xb, mu) ** 2                                      # (B, M)
            lp = -d2 / (2 * s * s) - 2 * math.log(s) - LOG2PI + log_pz
            out.append(torch.logsumexp(lp, 1))
    return torch.cat(out).float()


def vaebm_log_unnorm_fn(model, k: int = GRID_K):
    """ℓ: (M, 2) -> (M,) the VAEBM's unnormalised log-density log p_VAE(x) − E(x), p_VAE by IWAE with k samples
    (a fixed seed, so ℓ is a deterministic function of x)."""
    return lambda x: model.log_unnorm(x, k=k).cpu()


def report(model, dataset, grid: Grid | None = None, test_points: int = 2000, seed: int = 0, k: int = GRID_K,
           report_k: int = REPORT_K) -> dict:
    """The toy comparison, as numbers (nats/point on ``test_points`` fresh data points) and grid images.

    Returns: ``vaebm_ll`` (grid-normalised ℓ), ``vae_iwae_ll`` (IWAE, ``report_k`` samples), ``vae_quadrature_ll``
    (z-grid quadrature), ``data_ll`` (the dataset's exact log p), ``log_z``, ``vaebm_density`` and
    ``vae_density`` ((res, res) float64, Σ·h² = 1 on the grid), ``grid`` (description), ``k``, ``report_k``.
    """
    lo, hi = dataset.bounds
    grid = grid or Grid(lo, hi, 150)
    test = dataset.sample(test_points, seed=seed + 2)
    fn = vaebm_log_unnorm_fn(model, k)
    ld = evaluate_on_grid(fn, grid, batch=4096)
    dens, log_z = normalised_density(ld, grid)
    vae_ld = evaluate_on_grid(lambda x: vae_quadrature(model, x), grid, batch=4096)
    vae_dens, vae_log_z = normalised_density(vae_ld, grid)
    return {
        "vaebm_ll": float(fn(test).double().mean()) - log_z,
        "vae_iwae_ll": float(model.iwae(test, k=report_k).double().mean()),
        "vae_quadrature_ll": float(vae_quadrature(model, test).double().mean()),
        "vae_grid_mass": float(math.exp(vae_log_z)),
        "data_ll": float(dataset.log_prob(test).double().mean()) if dataset.has_density else None,
        "log_z": log_z, "vaebm_density": dens, "vae_density": vae_dens, "grid": grid.describe(), "k": k,
        "report_k": report_k, "test_points": test_points,
    }


def density_figure(rep: dict, path) -> None:
    """Write a PNG (PIL): the VAE's (left) and the VAEBM's (right) grid densities of ``report`` side by side,
    each as √(p / max p) in grey, y up; one pixel per grid cell."""
    from PIL import Image
    panels = [rep["vae_density"], rep["vaebm_density"]]
    tiles = []
    for d in panels:
        v = np.sqrt(np.asarray(d) / max(float(np.max(d)), 1e-30))             # sqrt: faint modes stay visible
        tiles.append((255 * v[::-1]).astype(np.uint8))                         # row 0 = top = largest y
    gap = np.zeros((tiles[0].shape[0], 8), np.uint8)
    Image.fromarray(np.concatenate([tiles[0], gap, tiles[1]], 1)).save(path)
