"""Recipe for the bundled ``emoji-ddpm`` checkpoint (``genviz train emoji-ddpm``).

A colour epsilon-prediction DDPM (Ho et al. 2020) at 3 x 32 x 32 on the 3,432 training images of
resources/emoji32.npz (Noto Emoji and Twemoji art on white; ``genviz.backend.emoji_data``; the 380 held-out
images are never seen). It follows ``mnist_ddpm`` with the choices made for colour:

- network: genviz's compact U-Net with three input/output channels (32-64-64 channels at 32/16/8 px, one
  residual block per level, self-attention at 8 x 8);
- schedule: T = 1000, cosine ``squaredcos_cap_v2`` (Nichol & Dhariwal 2021): the linear schedule leaves
  ᾱ ≈ 0.026 at t0 = 0.6, which keeps almost nothing of a drawing for SDEdit;
- loss: epsilon MSE with Min-SNR-5 weighting (Hang et al. 2023); random horizontal flips of the images;
- AdamW, batch 64, grad-norm clip 1, lr ``lr`` with ``warmup`` linear warm-up iterations and a cosine decay
  to ``min_lr`` over ``iters``; EMA of the weights (decay 0.999 with warm-up), which is what is shipped.

Resumable: every ``save_minutes`` (and at the end) the EMA weights are written to ``out`` with their metadata
and the full state (network, EMA, AdamW, RNG, iteration, seconds; tensors only, read back with
``weights_only=True``) to ``state`` (default ``out/emoji-ddpm.resume.pt``); ``--resume`` continues from it up
to ``--iters`` iterations in all, with the same minibatches as an uninterrupted run.

Timing before training: ``genviz train emoji-ddpm --iters 20 --log-every 10 --out /tmp/t.safetensors --state
/tmp/t.pt`` through the training lock; see ``SECONDS_PER_ITER``.
"""
from __future__ import annotations

import argparse
import copy
import math
import os
import time
from pathlib import Path

import torch

from ..checkpoints import save_checkpoint
from ..emoji_data import SOURCES, load_emoji, to_model_space
from ..nets.unet import UNet
from ..schedules import alphas_cumprod_from_betas, make_betas
from .mnist_ddpm import _Defaults, _NetConfig, _Schedule  # the same typed configs as mnist-ddpm

NET_CONFIG = _NetConfig(in_channels=3, base=32, mults=[1, 2, 2], blocks=1, attn_lowest=True, dropout=0.0)
SCHEDULE = _Schedule(beta_schedule="squaredcos_cap_v2", num_train_timesteps=1000, beta_start=0.0001, beta_end=0.02,
                     prediction_type="epsilon")
DEFAULTS = _Defaults(iters=3000, batch_size=64, lr=2e-3, min_lr=1e-5, warmup=200, ema=0.999, snr_gamma=5.0, seed=0)
STATE = "out/emoji-ddpm.resume.pt"
# Seconds per iteration (batch 64, 2 threads, forward + backward + AdamW), measured on 2 December 2026 on the
# 2-core AVX2 machine the recipe ran on, before training: 1.28 s (0.78 it/s; 2.1 s with one thread). A first
# estimate of 0.49 s on another machine had set ``iters`` = 10,000 (82 min there, 3.6 h here); ``iters`` = 3,000
# (64 min, 56 epochs of the 3,432 images) fits the hour.
SECONDS_PER_ITER = 1.28


def metadata(name: str, iters_done: int, args: dict, seconds: float, loss: float, net_config: dict) -> dict:
    """The checkpoint's metadata: network, data (3 x 32 x 32 RGB on white in [-1, 1]), schedule, sampler,
    training (recipe, data source, iterations, final loss, seconds)."""
    return {
        "name": name,
        "family": "diffusion",
        "description": "Epsilon-prediction DDPM on 32x32 colour emoji art (Noto Emoji and Twemoji, on white).",
        "network": {"class": "UNet", "config": net_config},
        "data": {"shape": [3, 32, 32], "range": [-1.0, 1.0], "dataset": "emoji", "convention": "RGB on white",
                 "kind": "image"},
        "schedule": SCHEDULE,
        "sampler": {"name": "ddim", "steps": 50, "eta": 1.0, "timestep_spacing": "trailing"},
        "training": {
            "recipe": "genviz train emoji-ddpm", "module": "genviz.backend.training.emoji_ddpm",
            "data_source": "resources/emoji32.npz (" + ", ".join(f"npm {p} {v[0]}" for p, v in SOURCES.items())
                           + "; Noto Emoji Apache-2.0, Twemoji CC-BY-4.0); 3,432 train images, 380 held out",
            "iterations": iters_done, "loss_final": loss, "seconds": round(seconds, 1), "weights": "EMA",
            "augmentation": "random horizontal flips", **args,
        },
    }


def lr_at(it: int, iters: int, lr: float, min_lr: float, warmup: int) -> float:
    """Linear warm-up over ``warmup`` iterations, then cosine decay from ``lr`` to ``min_lr`` at ``iters``."""
    if it <= warmup:
        return lr * it / max(1, warmup)
    p = (it - warmup) / max(1, iters - warmup)
    return min_lr + 0.5 * (lr - min_lr) * (1 + math.cos(math.pi * min(1.0, p)))


def train(out: str | Path = "checkpoints/emoji-ddpm.safetensors", iters: int = DEFAULTS["iters"],
          batch_size: int = DEFAULTS["batch_size"], lr: float = DEFAULTS["lr"], min_lr: float = DEFAULTS["min_lr"],
          warmup: int = DEFAULTS["warmup"], ema: float = DEFAULTS["ema"], snr_gamma: float = DEFAULTS["snr_gamma"],
          seed: int = DEFAULTS["seed"], state: str | Path = STATE, resume: bool = False, save_minutes: float = 5.0,
          log_every: int = 100, net_config: dict | None = None, limit: int | None = None,
          name: str = "emoji-ddpm", stop_after: int | None = None, log=print) -> Path:
    """Train emoji-ddpm; returns ``out``.

    Args:
        iters: total iterations (counting those of a resumed run).
        state: the resume-state file, written with ``out``; ``resume`` continues from it.
        net_config: the U-Net's config (default ``NET_CONFIG``; tests pass a tiny one); ``limit``: use only
            the first ``limit`` training images (tests).
        stop_after: stop (saving ``out`` and ``state``) after this many iterations of this run, e.g. when a
            session's time runs out; ``--resume`` later continues on the same schedule.
    Raises:
        FileNotFoundError: ``resume`` with no ``state`` file. ValueError: a state file of another config.
    """
    cfg = dict(NET_CONFIG) if net_config is None else dict(net_config)
    args = dict(iters=iters, batch_size=batch_size, lr=lr, min_lr=min_lr, warmup=warmup, ema=ema,
                snr_gamma=snr_gamma, seed=seed)
    images, _ = load_emoji("train")
    data = to_model_space(images[:limit] if limit else images)
    torch.manual_seed(seed)
    net = UNet(**cfg)
    ema_net = copy.deepcopy(net).requires_grad_(False)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=0.0)
    g = torch.Generator().manual_seed(seed)
    start, seconds_before, loss_avg = 0, 0.0, float("nan")
    state = Path(state)
    if resume:
        st = torch.load(state, weights_only=True)
        if st["net_config"] != repr(cfg):
            raise ValueError(f"{state}: saved with network {st['net_config']}, not {cfg}")
        net.load_state_dict(st["net"])
        ema_net.load_state_dict(st["ema"])
        opt.load_state_dict(st["opt"])
        g.set_state(st["rng"])
        start, seconds_before, loss_avg = int(st["iteration"]), float(st["seconds"]), float(st["loss"])
        log(f"resumed from {state} at iteration {start} ({seconds_before / 60:.1f} min)")
    acp = alphas_cumprod_from_betas(make_betas(SCHEDULE["beta_schedule"], SCHEDULE["num_train_timesteps"],
                                               SCHEDULE["beta_start"], SCHEDULE["beta_end"]))
    snr = acp / (1 - acp)
    weight = torch.clamp(snr, max=snr_gamma) / snr
    out = Path(out)
    t_start, last_save = time.time(), time.time()

    def save(it: int) -> None:
        secs = seconds_before + time.time() - t_start
        save_checkpoint(out, ema_net.state_dict(), metadata(name, it, args, secs, round(loss_avg, 5), cfg))
        state.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"net": net.state_dict(), "ema": ema_net.state_dict(), "opt": opt.state_dict(),
                    "rng": g.get_state(), "iteration": it, "seconds": secs, "loss": loss_avg,
                    "net_config": repr(cfg)}, state)

    end = iters if stop_after is None else min(iters, start + stop_after)
    for it in range(start + 1, end + 1):
        cur_lr = lr_at(it, iters, lr, min_lr, warmup)
        for group in opt.param_groups:
            group["lr"] = cur_lr
        x0 = data[torch.randint(0, len(data), (batch_size,), generator=g)]
        flip = torch.rand(batch_size, generator=g) < 0.5
        x0 = torch.where(flip.view(-1, 1, 1, 1), x0.flip(-1), x0)
        t = torch.randint(0, SCHEDULE["num_train_timesteps"], (batch_size,), generator=g)
        eps = torch.randn(x0.shape, generator=g)
        a = acp[t].view(-1, 1, 1, 1)
        x_t = a.sqrt() * x0 + (1 - a).sqrt() * eps
        loss = (((net(x_t, t) - eps) ** 2).mean(dim=(1, 2, 3)) * weight[t]).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        d = min(ema, (1 + it) / (10 + it))
        with torch.no_grad():
            for pe, pn in zip(ema_net.parameters(), net.parameters()):
                pe.lerp_(pn, 1 - d)
        loss_avg = loss.item() if math.isnan(loss_avg) else 0.98 * loss_avg + 0.02 * loss.item()
        if it % log_every == 0 or it == iters:
            el = time.time() - t_start
            log(f"iter {it}/{iters} loss {loss_avg:.4f} lr {cur_lr:.2e} {(it - start) / el:.2f} it/s "
                f"{(seconds_before + el) / 60:.1f} min")
        if time.time() - last_save >= 60 * save_minutes or it == end:
            save(it)
            last_save = time.time()
    return out


def main(argv=None):
    p = argparse.ArgumentParser(prog="genviz train emoji-ddpm")
    p.add_argument("--out", default="checkpoints/emoji-ddpm.safetensors")
    for k, v in DEFAULTS.items():
        p.add_argument("--" + k.replace("_", "-"), type=type(v), default=v)
    p.add_argument("--state", default=STATE, help="resume-state file (optimizer and RNG states; untracked)")
    p.add_argument("--resume", action="store_true", help="continue from --state up to --iters iterations in all")
    p.add_argument("--save-minutes", type=float, default=5.0, help="write the checkpoint and the state this often")
    p.add_argument("--log-every", type=int, default=100)
    p.add_argument("--stop-after", type=int, default=None, help="stop after this many iterations of this run")
    p.add_argument("--threads", type=int, default=int(os.environ.get("GENVIZ_THREADS", 0)) or None,
                   help="torch threads (default: all cores; 1 is faster on a busy machine)")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads or os.cpu_count() or 1)
    del a.threads
    train(**vars(a))


if __name__ == "__main__":
    main()
