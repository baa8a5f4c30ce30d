"""Recipe for the bundled 2-D toy VAEBM (``genviz train toy-vaebm``, default 25gaussians; Xiao 2022 §4.4.2).

1. The base VAE: the toy recipe's ``vae`` (``training.toy``: MLP VAE, 2-D latent, Gaussian decoder σ_x = 0.1,
   negative ELBO, 4,000 steps), then frozen.
2. The energy E(x) (``ToyEnergyMLP`` with Fourier features, as the toy EBM) by Eq. 4.17: positive phase the data,
   negative phase x = T(ε) = μ(ε_z) + σ_x ε_x after K ε-space Langevin steps (ε = (ε_z, ε_x), U = E(T(ε)) + ½‖ε‖²,
   η = 0.01) from a replay buffer of ε (restart probability 0.05), squared-energy penalty ``reg``.
Data: 100,000 points of ``toy.datasets.make_dataset(dataset)``, seed ``seed``. Writes
``checkpoints/toy-<dataset>-vaebm.safetensors`` with the measured test log-likelihoods (``toy.vaebm.report``).
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import torch

from ..checkpoints import save_checkpoint
from ..nets.vaebm import VAEBMNet
from ..samplers.langevin import ReplayBuffer
from .mnist_vaebm import short_run

DEFAULTS = dict(vae_steps=4000, steps=1500, batch_size=256, lr=1e-3, K=30, eta=0.01, reg=0.1, reinit=0.05,
                buffer=10000, hidden=128, depth=3, fourier=64, fourier_scale=1.5, seed=0)


def metadata(dataset: str, ds, net: VAEBMNet, args: dict, seconds: float, extra: dict) -> dict:
    lo, hi = ds.bounds
    return {
        "name": f"toy-{dataset}-vaebm", "family": "vaebm",
        "description": f"VAEBM on the 2-D toy dataset {dataset}: an MLP VAE (2-D latent, Gaussian decoder) tilted by "
                       "an MLP energy; Langevin in (eps_z, eps_x).",
        "network": {"class": "VAEBMNet", "config": net.config},
        "data": {"shape": [2], "range": [lo, hi], "dataset": dataset, "params": dict(ds.params), "kind": "vector"},
        "latent": {"shape": [net.noise_dim], "prior": "standard normal (eps_z, eps_x)"},
        "sampler": {"name": "vaebm-langevin", "steps": 100, "step_size": args["eta"], "noise": True},
        "training": {"recipe": f"genviz train toy-vaebm --dataset {dataset}", "module": "genviz.backend.training.toy_vaebm",
                     "data_source": f"genviz.backend.toy.datasets.make_dataset({dataset!r}): {ds.description}; "
                                    f"100,000 points drawn with seed {args['seed']}",
                     "method": "base VAE by the negative ELBO, then the energy by Eq. 4.17 (VAE frozen), eps-space "
                               "Langevin negatives with a replay buffer",
                     "seconds": round(seconds, 1), **extra, **args},
    }


def train(dataset: str = "25gaussians", out=None, log=print, report_res: int = 150, report_points: int = 2000,
          **overrides) -> Path:
    """Train the toy VAEBM (module docstring) and write it to ``out`` (default
    ``checkpoints/toy-<dataset>-vaebm.safetensors``); returns the path. ``report_res``: the grid (res × res over the
    dataset's bounds) of the measured log-likelihoods, on ``report_points`` test points. ValueError for an unknown hyper-parameter."""
    from ..toy.datasets import make_dataset
    from . import toy
    bad = set(overrides) - set(DEFAULTS)
    if bad:
        raise ValueError(f"unknown toy-vaebm setting(s): {', '.join(sorted(bad))}")
    a = {**DEFAULTS, **overrides}
    out = Path(out or f"checkpoints/toy-{dataset}-vaebm.safetensors")
    t0 = time.time()
    ds = make_dataset(dataset)
    vae_model = toy.train(dataset, "vae", a["vae_steps"], seed=a["seed"], log=None)
    log(f"base VAE: {a['vae_steps']} steps in {time.time() - t0:.0f} s")
    net = VAEBMNet("ToyVAE", dict(vae_model.net.config), "ToyEnergyMLP",
                   dict(hidden=a["hidden"], depth=a["depth"], fourier=a["fourier"], fourier_scale=a["fourier_scale"]))
    net.vae.load_state_dict(vae_model.net.state_dict())
    net.vae.requires_grad_(False).eval()
    torch.manual_seed(a["seed"])
    g = torch.Generator().manual_seed(a["seed"])
    pool = ds.sample(100_000, seed=a["seed"])
    opt = torch.optim.Adam(net.energy.parameters(), lr=a["lr"], betas=(0.5, 0.999))
    buf = ReplayBuffer(a["buffer"])
    B = a["batch_size"]
    avg = 0.0
    for it in range(1, a["steps"] + 1):
        x = pool[torch.randint(0, len(pool), (B,), generator=g)]
        eps = short_run(net, buf.draw(B, g, lambda k: torch.randn((k, net.noise_dim), generator=g), a["reinit"]),
                        a["K"], a["eta"], g)
        buf.push(eps)
        with torch.no_grad():
            x_neg = net.transform(eps)
        e_pos, e_neg = net(x), net(x_neg)
        loss = e_pos.mean() - e_neg.mean() + a["reg"] * (e_pos ** 2 + e_neg ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        gap = (e_pos.mean() - e_neg.mean()).item()
        avg = gap if it == 1 else 0.98 * avg + 0.02 * gap
        if it % 250 == 0:
            log(f"step {it}/{a['steps']} E(data)-E(samples) {avg:+.3f} {time.time() - t0:.0f} s")
    seconds = time.time() - t0
    from ..checkpoints import load_checkpoint
    from ..toy.density import Grid
    from ..toy.vaebm import report
    save_checkpoint(out, net.state_dict(), metadata(dataset, ds, net, a, seconds, {}))
    rep = report(load_checkpoint(out, device="cpu"), ds, grid=Grid(*ds.bounds, report_res),
                 test_points=report_points)
    figures = {k: round(rep[k], 3) for k in ("vaebm_ll", "vae_iwae_ll", "vae_quadrature_ll", "data_ll")
               if rep[k] is not None}
    figures.update(iwae_samples=rep["report_k"], vaebm_iwae_samples=rep["k"], test_points=rep["test_points"],
                   grid=rep["grid"], energy_gap_final=round(avg, 3))
    save_checkpoint(out, net.state_dict(), metadata(dataset, ds, net, a, seconds, {"test_log_likelihood_nats": figures}))
    log(f"wrote {out}: test log-likelihood (nats/point) VAEBM {figures['vaebm_ll']:+.3f}, VAE IWAE "
        f"{figures['vae_iwae_ll']:+.3f} (quadrature {figures['vae_quadrature_ll']:+.3f}), data {figures.get('data_ll')}")
    return out


def main(argv=None):
    """``genviz train toy-vaebm``: parse ``argv`` and run ``train``."""
    p = argparse.ArgumentParser(prog="genviz train toy-vaebm")
    p.add_argument("--dataset", default="25gaussians")
    p.add_argument("--out", default=None)
    for k, v in DEFAULTS.items():
        p.add_argument("--" + k.replace("_", "-"), type=type(v), default=v)
    p.add_argument("--threads", type=int, default=int(os.environ.get("GENVIZ_THREADS", 0)) or None)
    a = vars(p.parse_args(argv))
    torch.set_num_threads(a.pop("threads") or os.cpu_count() or 1)
    train(a.pop("dataset"), a.pop("out"), **a)


if __name__ == "__main__":
    main()
