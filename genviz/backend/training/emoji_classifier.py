"""Recipes for the bundled emoji judges: ``genviz train emoji-classifier`` and ``genviz train emoji-realism``.

- ``emoji-classifier``: a small CNN (``DigitCNN`` at 3 x 32 x 32) on the 9 categories of the 3,432 training
  images of resources/emoji32.npz (``genviz.backend.emoji_data``), with random shifts of up to 2 px (white
  padding) and horizontal flips; accuracy on the 380 held-out images is stored in the metadata. It judges a
  colour model's samples (``genviz eval``: category histogram, confident share, Fréchet distance of its
  features) and shows the chain's live category belief.
- ``emoji-realism``: the same CNN with two classes, ``stroke`` and ``real``: real emoji art (the training
  split) against as many crude colour drawings (``colour_drawings.random_colour_drawings``, seed 1; the
  measuring set uses other seeds); held out: the 380 held-out images and 380 drawings of seed 2. It measures
  SDEdit's realism on colour drawings as ``mnist-realism`` does for digits.

A few minutes on one core each.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from ..checkpoints import save_checkpoint
from ..emoji_data import CATEGORIES, SOURCES, load_emoji, to_model_space
from ..nets.classifier import DigitCNN

DEFAULTS = dict(epochs=12, batch_size=128, lr=2e-3, seed=0, width=32, threads=1)
REALISM_EPOCHS = 6  # two classes, an easier task on twice the images
DATA = {"shape": [3, 32, 32], "range": [-1.0, 1.0], "dataset": "emoji", "convention": "RGB on white",
        "kind": "image"}
SOURCE = ("resources/emoji32.npz (" + ", ".join(f"npm {p} {v[0]}" for p, v in SOURCES.items())
          + "; Noto Emoji Apache-2.0, Twemoji CC-BY-4.0); 3,432 train images, 380 held out")


def augment(x: torch.Tensor, g: torch.Generator, max_px: int = 2) -> torch.Tensor:
    """Random shifts of up to ``max_px`` pixels (white padding, +1) and horizontal flips; (N, C, H, W)."""
    n, _, h, w = x.shape
    pad = F.pad(x, (max_px,) * 4, value=1.0)
    dx = torch.randint(0, 2 * max_px + 1, (n,), generator=g)
    dy = torch.randint(0, 2 * max_px + 1, (n,), generator=g)
    out = torch.stack([pad[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(n)])
    flip = torch.rand(n, generator=g) < 0.5
    out[flip] = out[flip].flip(-1)
    return out


def fit(net, x, y, xte, yte, epochs, batch_size, lr, g, log) -> tuple[float, float]:
    """AdamW + one-cycle training with ``augment``; returns (held-out accuracy, seconds)."""
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    steps = epochs * (len(x) // batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    t0, acc = time.time(), 0.0
    for ep in range(epochs):
        net.train()
        perm = torch.randperm(len(x), generator=g)
        for i in range(len(x) // batch_size):
            idx = perm[i * batch_size:(i + 1) * batch_size]
            loss = F.cross_entropy(net(augment(x[idx], g)), y[idx], label_smoothing=0.05)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        net.eval()
        with torch.no_grad():
            acc = (net(xte).argmax(1) == yte).float().mean().item()
        log(f"epoch {ep + 1}/{epochs} loss {loss.item():.3f} held-out accuracy {acc:.4f} {time.time() - t0:.0f}s")
    return acc, time.time() - t0


def train(out="checkpoints/emoji-classifier.safetensors", epochs=DEFAULTS["epochs"],
          batch_size=DEFAULTS["batch_size"], lr=DEFAULTS["lr"], seed=DEFAULTS["seed"], width=DEFAULTS["width"],
          threads=DEFAULTS["threads"], realism: bool = False, limit: int | None = None, log=print) -> Path:
    """Train ``emoji-classifier`` (or ``emoji-realism`` with ``realism=True``) and save it to ``out``.

    ``limit`` keeps only the first ``limit`` training and held-out images (tests). Returns the checkpoint path.
    """
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    img_tr, lab_tr = load_emoji("train")
    img_te, lab_te = load_emoji("test")
    if limit:
        img_tr, lab_tr, img_te, lab_te = img_tr[:limit], lab_tr[:limit], img_te[:limit], lab_te[:limit]
    x, xte = to_model_space(img_tr), to_model_space(img_te)
    if realism:
        from ..colour_drawings import random_colour_drawings
        s_tr = to_model_space(random_colour_drawings(len(x), seed=1))
        s_te = to_model_space(random_colour_drawings(len(xte), seed=2))
        y = torch.cat([torch.ones(len(x)), torch.zeros(len(s_tr))]).long()
        yte = torch.cat([torch.ones(len(xte)), torch.zeros(len(s_te))]).long()
        x, xte = torch.cat([x, s_tr]), torch.cat([xte, s_te])
        classes, name = ["stroke", "real"], "emoji-realism"
        net = DigitCNN(in_channels=3, num_classes=2, width=width // 2, feat=64, size=32)
    else:
        y, yte = torch.from_numpy(lab_tr), torch.from_numpy(lab_te)
        classes, name = list(CATEGORIES), "emoji-classifier"
        net = DigitCNN(in_channels=3, num_classes=len(CATEGORIES), width=width, feat=128, size=32)
    acc, seconds = fit(net, x, y, xte, yte, epochs, batch_size, lr, g, log)
    meta = {
        "name": name, "family": "classifier",
        "description": ("Real emoji art vs crude colour stroke drawing; judges SDEdit's realism on colour drawings."
                        if realism else "Small CNN on the 9 emoji categories; judges colour samples."),
        "network": {"class": "DigitCNN", "config": net.config},
        "data": DATA, "classes": classes,
        "training": {"recipe": f"genviz train {name}", "module": "genviz.backend.training.emoji_classifier",
                     "data_source": SOURCE + ("; strokes: colour_drawings.random_colour_drawings(n, seed=1)"
                                              if realism else ""),
                     "epochs": epochs, "batch_size": batch_size, "lr": lr, "seed": seed, "width": width,
                     "train_images": int(len(img_tr)), "heldout_accuracy": round(acc, 4),
                     "heldout": "380 held-out images" + (" + random_colour_drawings(380, seed=2)" if realism else ""),
                     "seconds": round(seconds, 1)},
    }
    return save_checkpoint(out, net.state_dict(), meta)


def main(argv=None, realism: bool = False):
    name = "emoji-realism" if realism else "emoji-classifier"
    p = argparse.ArgumentParser(prog=f"genviz train {name}")
    p.add_argument("--out", default=f"checkpoints/{name}.safetensors")
    for k, v in DEFAULTS.items():
        v = REALISM_EPOCHS if realism and k == "epochs" else v
        p.add_argument("--" + k.replace("_", "-"), type=type(v), default=v)
    a = p.parse_args(argv)
    train(**vars(a), realism=realism)


if __name__ == "__main__":
    main()
