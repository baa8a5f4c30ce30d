"""What the density panel computes, as plain functions (torch + numpy): log-densities on a grid for every
family, the score field, samples, and the readouts (test log-likelihood, mode coverage, MMD / energy
distance).

Log-densities by family:

- EBM: ℓ(x) = −E(x) (unnormalised); normalised on the grid (``density.normalised_density``).
- Flow: exact log p(x) by the change of variables (``FlowModel.log_prob``).
- Diffusion: log p_0(x) by the probability-flow ODE (Song et al. 2021, Eq. 13 and App. D.2) written
  in y = x/√ᾱ_t and σ_t = √((1−ᾱ_t)/ᾱ_t) (Song et al. 2021 DDIM Eq. 14; Karras et al. 2022):
  dy/dσ = ε̂(√ᾱ y, t(σ)), integrated with Heun from t = 0 to T−1 on discrete timesteps evenly spaced in log σ, with
  the exact trace of ∂(dy/dσ)/∂y (two autograd passes in 2-D, no Hutchinson estimator):
  log p_0(y_0) = log p_T(y_T) + ∫ tr ∂f/∂y dσ,  p_T: x_T = √ᾱ_T y_T ~ N(0, I).
"""
from __future__ import annotations

import math

import torch

from .density import Grid, evaluate_on_grid, log_normaliser, normalised_density
from .metrics import energy_distance, mmd2, mode_coverage

LOG2PI = math.log(2 * math.pi)


def _eps_and_trace(model, y: torch.Tensor, t: int, sqrt_a: float):
    """f = ε̂(√ᾱ y, t) (N, 2) and tr ∂f/∂y (N,) by two autograd passes (exact in 2-D)."""
    with torch.inference_mode(False), torch.enable_grad():
        yg = y.detach().clone().requires_grad_(True)
        tt = torch.full((len(y),), int(t), dtype=torch.long, device=y.device)
        f = model._forward(model.net, yg * sqrt_a, tt)
        tr = torch.zeros(len(y), dtype=y.dtype, device=y.device)
        for i in range(y.shape[1]):
            (g,) = torch.autograd.grad(f[:, i].sum(), yg, retain_graph=i < y.shape[1] - 1)
            tr = tr + g[:, i]
    return f.detach(), tr.detach()


def ode_log_density(model, x: torch.Tensor, steps: int = 100, batch: int = 8192) -> torch.Tensor:
    """log p_0(x) of a diffusion model (ε-prediction) by the probability-flow ODE with exact trace.

    Args:
        model: a ``DiffusionModel`` with 2-D (or any small D) data and ``prediction_type == "epsilon"``.
        x: (N, D) points in model space.
        steps: Heun steps over timesteps spaced evenly in log σ_t (2 network evaluations + 2·D backward
            passes per step; fewer when nearby targets share a timestep).
    Returns: (N,) float64 log-densities in nats.
    Raises: ValueError for a model that is not an ε-prediction diffusion model, or steps < 1.
    """
    if getattr(model, "family", None) != "diffusion" or model.prediction_type != "epsilon":
        raise ValueError("ODE log-density needs an epsilon-prediction diffusion model")
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    T = model.num_train_timesteps
    acp = model.alphas_cumprod.detach().cpu().double()
    sig_all = ((1 - acp) / acp).sqrt()
    # timesteps whose σ_t are spaced evenly in log σ (the ODE is smooth in log σ; Karras et al. 2022)
    target = torch.exp(torch.linspace(math.log(float(sig_all[0])), math.log(float(sig_all[-1])), steps + 1,
                                      dtype=torch.float64))
    ts = torch.unique(torch.searchsorted(sig_all, target).clamp(0, T - 1)).tolist()
    sig = [math.sqrt((1 - float(acp[t])) / float(acp[t])) for t in ts]
    sq = [math.sqrt(float(acp[t])) for t in ts]
    out = []
    x = torch.as_tensor(x, dtype=torch.float32).to(model.device)
    D = x.shape[1]
    for s in range(0, len(x), batch):
        y = x[s:s + batch] / sq[0]
        acc = torch.zeros(len(y), dtype=torch.float64, device=y.device)
        f, tr = _eps_and_trace(model, y, ts[0], sq[0])
        for k in range(len(ts) - 1):
            ds = sig[k + 1] - sig[k]
            y_pred = y + ds * f
            f2, tr2 = _eps_and_trace(model, y_pred, ts[k + 1], sq[k + 1])
            y = y + ds * 0.5 * (f + f2)
            acc = acc + ds * 0.5 * (tr + tr2).double()
            f, tr = _eps_and_trace(model, y, ts[k + 1], sq[k + 1]) if k + 1 < len(ts) - 1 else (f2, tr2)
        xT = (y * sq[-1]).double()
        log_pT_y = -0.5 * (xT ** 2).sum(1) - 0.5 * D * LOG2PI + D * math.log(sq[-1])
        out.append((log_pT_y + acc - D * math.log(sq[0])).cpu())
    return torch.cat(out)


def log_density_fn(model, ode_steps: int = 100):
    """(fn (M, 2) -> (M,) log-density, kind) for a model: ``neg_energy`` (EBM, unnormalised), ``flow``
    (exact), ``ode`` (diffusion, probability-flow ODE) or ``elbo`` (VAE, a lower bound on log p).
    ValueError for other families (a GAN has no density)."""
    fam = model.family
    if fam == "ebm":
        def fn(x):
            with torch.inference_mode():
                return -model.energy(x.to(model.device)).cpu()
        return fn, "neg_energy"
    if fam == "flow":
        return (lambda x: model.log_prob(x).cpu()), "flow"
    if fam == "diffusion":
        return (lambda x: ode_log_density(model, x, steps=ode_steps)), "ode"
    if fam == "vae":
        return (lambda x: model.elbo(x).cpu()), "elbo"
    if fam == "vaebm":  # log p_VAE(x) − E(x), p_VAE by IWAE (toy.vaebm); normalised on the grid like an EBM
        from .vaebm import vaebm_log_unnorm_fn
        return vaebm_log_unnorm_fn(model), "vaebm"
    raise ValueError(f"a {fam} model has no density to draw")


def score_field(model, points: torch.Tensor, t: int | None = None) -> torch.Tensor:
    """∇_x log p(x) at points (M, 2) -> (M, 2): −∇E (EBM), ∇ log p by autograd (flow), ∇ ELBO (VAE,
    fixed noise), or the diffusion score −ε̂(x, t)/√(1−ᾱ_t) at timestep t (default 0).
    ValueError for a GAN (no density, no score)."""
    fam = model.family
    pts = torch.as_tensor(points, dtype=torch.float32).to(model.device)
    if fam == "ebm":
        from ..families import energy_and_score
        return energy_and_score(model, pts)[1].cpu()
    if fam == "diffusion":
        return model.score(pts, 0 if t is None else int(t)).cpu()
    if fam == "flow":
        with torch.inference_mode(False), torch.enable_grad():
            xg = pts.clone().requires_grad_(True)
            (g,) = torch.autograd.grad(model.net.log_prob(xg).sum(), xg)
        return g.detach().cpu()
    if fam == "vae":
        with torch.inference_mode(False), torch.enable_grad():
            xg = pts.clone().requires_grad_(True)
            (g,) = torch.autograd.grad(model.net.elbo(xg, k=8, generator=torch.Generator().manual_seed(0)).sum(), xg)
        return g.detach().cpu()
    if fam == "vaebm":  # ∇(log p_VAE − E): IWAE with 32 fixed-seed samples, differentiated
        with torch.inference_mode(False), torch.enable_grad():
            xg = pts.clone().requires_grad_(True)
            (g,) = torch.autograd.grad((model.iwae(xg, k=32, grad=True) - model.energy(xg)).sum(), xg)
        return g.detach().cpu()
    raise ValueError(f"a {fam} model has no score to draw")


def model_samples(model, n: int = 2500, seed: int = 0) -> torch.Tensor:
    """(n, 2) samples from the model's default sampler (CPU float32)."""
    from ..api import sample
    return sample(model, n=n, seed=seed).detach().float().cpu()


def readouts(model, dataset, samples: torch.Tensor | None = None, n: int = 2500, seed: int = 0,
             grid: Grid | None = None, test_points: int = 2000, ode_steps: int = 50) -> dict:
    """Every number the density panel shows, for one model and its dataset.

    Returns a dict with: ``log_likelihood`` (model, nats/point on ``test_points`` fresh data points,
    from the grid-normalised −E (EBM), the flow, or the ODE (diffusion); None for families without a
    density), ``data_log_likelihood`` (the dataset's exact log p on the same points, None where there is
    no closed form), ``log_z`` (EBM), ``grid`` (description), ``mode_coverage`` (dict, mixture datasets
    only), ``mmd2`` and ``energy_distance`` to ``len(samples)`` data points.
    """
    lo, hi = dataset.bounds
    grid = grid or Grid(lo, hi, 200)
    x = model_samples(model, n, seed) if samples is None else torch.as_tensor(samples, dtype=torch.float32)
    data = dataset.sample(len(x), seed=seed + 1)
    test = dataset.sample(test_points, seed=seed + 2)
    out = {"grid": grid.describe(), "n": len(x)}
    try:
        fn, kind = log_density_fn(model, ode_steps)
    except ValueError:
        fn, kind = None, None
    out["density_kind"] = kind
    if kind in ("neg_energy", "vaebm"):
        log_z = log_normaliser(evaluate_on_grid(fn, grid), grid)
        out["log_z"] = log_z
        out["log_likelihood"] = float(fn(test).double().mean()) - log_z
    elif kind is not None:
        out["log_likelihood"] = float(torch.as_tensor(fn(test)).double().mean())
    else:
        out["log_likelihood"] = None
    out["data_log_likelihood"] = float(dataset.log_prob(test).double().mean()) if dataset.has_density else None
    if kind == "vaebm":  # the base VAE on the same points: the IWAE bound with many posterior samples
        from .vaebm import REPORT_K
        out["vae_log_likelihood"] = float(model.iwae(test, k=REPORT_K).double().mean())
    finite = torch.isfinite(x).all(1)
    out["mmd2"] = mmd2(x[finite][:2000], data[:2000]) if finite.sum() >= 2 else None
    out["energy_distance"] = energy_distance(x[finite][:2000], data[:2000]) if finite.sum() >= 2 else None
    out["mode_coverage"] = mode_coverage(x, dataset.centres, dataset.std) if dataset.is_mixture else None
    return out


def grid_views(model, grid: Grid, ode_steps: int = 50) -> dict:
    """The grid images of the figure layout: ``log_density`` (res, res) float64 (−E, flow log p or ODE
    log p), ``density`` (normalised, Σ·h² = 1), ``log_z``, ``kind``. Row i of each image is y_i."""
    fn, kind = log_density_fn(model, ode_steps)
    ld = evaluate_on_grid(fn, grid)
    dens, log_z = normalised_density(ld, grid)
    return {"log_density": ld.numpy(), "density": dens, "log_z": log_z, "kind": kind}
