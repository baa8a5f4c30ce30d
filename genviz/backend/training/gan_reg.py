"""Discriminator regularisers that damp a GAN's training dynamics, for the toy GAN recipe
(``genviz train toy --model gan --set r1=GAMMA`` / ``--set clc=LAMBDA``; the density lab's live training), and
the measurement behind the README's mode-collapse table (``python -m genviz.backend.training.gan_reg``).

- **R1** (Mescheder, Geiger & Nowozin 2018, "Which training methods for GANs do actually converge?", §4.1):
  R1 = (γ/2) E_{x ~ p_D} ‖∇_x D(x)‖², with D the discriminator's logit, added to the discriminator's loss. On
  real data only: at the equilibrium (p_G = p_D, D = 0) it vanishes, so it does not move the equilibrium, it
  only damps the rotation around it. In the Dirac-GAN (D(x) = φx) it is (γ/2)φ²: the discriminator's ascent
  gets −γφ (``genviz.backend.dynamics``).
- **CLC** (closed-loop control; Xu, Li, Zhu & Zhang 2020, "Understanding and stabilizing GANs' training
  dynamics using control theory", ICML): a negative feedback on the discriminator's output, implemented as
  the squared L2 regulariser (λ/2)(E_{p_D}[D(x)²] + E_{p_G}[D(x)²]) on the logit. The paper averages over
  buffers of past real and fake samples; genviz uses the current batch (no buffer).

Both return a scalar tensor to *add* to the discriminator's loss (which the discriminator minimises).
"""
from __future__ import annotations

import argparse

import torch


def r1_penalty(discriminate, x_real: torch.Tensor, gamma: float) -> torch.Tensor:
    """R1 = (γ/2) mean_i ‖∇_x D(x_i)‖² over the real batch (Mescheder et al. 2018, §4.1), differentiable
    w.r.t. D's parameters (``create_graph=True``: one double backward).

    Args:
        discriminate: x (N, D) -> logits (N,) (e.g. ``ToyGAN.discriminate``).
        x_real: (N, D) real samples (not modified; a detached copy gets the gradient).
        gamma: γ >= 0 (0 returns a zero tensor without a backward pass).
    Returns: a scalar tensor >= 0.
    Raises: ValueError for γ < 0 or not finite.
    """
    gamma = _weight(gamma, "r1 gamma")
    if gamma == 0:
        return torch.zeros((), dtype=x_real.dtype, device=x_real.device)
    x = x_real.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(discriminate(x).sum(), x, create_graph=True)
    return 0.5 * gamma * g.pow(2).reshape(len(x), -1).sum(1).mean()


def clc_penalty(d_real: torch.Tensor, d_fake: torch.Tensor, lam: float) -> torch.Tensor:
    """CLC = (λ/2)(mean D(x_real)² + mean D(x_fake)²), on the logits (Xu et al. 2020, the squared-output
    regulariser; current batch instead of the paper's sample buffers).

    Args: d_real (N,), d_fake (M,) discriminator logits; lam: λ >= 0.
    Returns: a scalar tensor >= 0 (a zero tensor for λ = 0). Raises: ValueError for λ < 0 or not finite.
    """
    lam = _weight(lam, "clc lambda")
    if lam == 0:
        return torch.zeros((), dtype=d_real.dtype, device=d_real.device)
    return 0.5 * lam * (d_real.pow(2).mean() + d_fake.pow(2).mean())


def _weight(v: float, name: str) -> float:
    v = float(v)
    if not (v == v and 0 <= v < float("inf")):
        raise ValueError(f"{name} must be a finite number >= 0, got {v}")
    return v


def measure(configs: dict[str, dict], seeds=(0, 1, 2), steps: int = 2000, dataset: str = "25gaussians",
            n: int = 2500, log=print) -> dict:
    """Train the toy GAN (live recipe, ``training.toy.LIVE["gan"]``) once per config and seed and count the modes
    its samples cover (``toy.metrics.mode_coverage``: a mode is covered with >= 20 of ``n`` samples within 3 std).

    Args: configs: {label: recipe overrides, e.g. {"r1": 1.0}}; seeds; steps (the same budget for each).
    Returns: {label: [{"seed", "modes_covered", "modes", "high_quality", "seconds"}, ...]}.
    """
    from ..toy.datasets import make_dataset
    from ..toy.lab import model_samples
    from ..toy.metrics import mode_coverage
    from .toy import LIVE, train
    ds = make_dataset(dataset)
    if ds.centres is None or ds.std is None:
        raise ValueError(f"{dataset} is not a Gaussian mixture: mode counts need centres")
    out: dict[str, list] = {}
    for label, over in configs.items():
        for seed in seeds:
            model = train(dataset, "gan", steps, None, seed, log=None, **{**LIVE["gan"].overrides, **over})
            cov = mode_coverage(model_samples(model, n, seed=seed), ds.centres, ds.std)
            row = {"seed": seed, "modes_covered": cov["modes_covered"], "modes": cov["modes"],
                   "high_quality": round(cov["high_quality"], 3), "seconds": model.metadata["training"]["seconds"]}
            out.setdefault(label, []).append(row)
            if log:
                log(f"{label:<12} seed {seed}: {row['modes_covered']}/{row['modes']} modes, "
                    f"{100 * row['high_quality']:.0f} % within 3 std, {row['seconds']} s")
    return out


def main(argv=None) -> None:
    """``python -m genviz.backend.training.gan_reg [--steps N] [--seeds 0 1 2] [--r1 G] [--clc L]``: the README's
    mode-collapse table (run it through the training lock)."""
    p = argparse.ArgumentParser(prog="python -m genviz.backend.training.gan_reg")
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--dataset", default="25gaussians")
    p.add_argument("--r1", type=float, nargs="+", default=[1.0])
    p.add_argument("--clc", type=float, nargs="+", default=[1.0])
    p.add_argument("--no-plain", action="store_true", help="leave out the unregularised runs")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    configs: dict[str, dict] = {} if a.no_plain else {"plain": {}}
    configs.update({f"r1={g:g}": {"r1": g} for g in a.r1})
    configs.update({f"clc={c:g}": {"clc": c} for c in a.clc})
    res = measure(configs, tuple(a.seeds), a.steps, a.dataset)
    for label, rows in res.items():
        modes = [r["modes_covered"] for r in rows]
        hq = [r["high_quality"] for r in rows]
        print(f"{label:<12} modes {modes} mean {sum(modes) / len(modes):.1f}/{rows[0]['modes']}; "
              f"within 3 std {[round(100 * h) for h in hq]} %")


if __name__ == "__main__":
    main()
