"""Recipe for the bundled ``toy-25gaussians-ddgan`` checkpoint (``genviz train toy-ddgan``; thesis Fig. 6.9).

A denoising diffusion GAN (Xiao, Kreis & Vahdat 2022; Xiao 2022 Ch. 6) with T = 4 steps on a 2-D toy
dataset (default ``25gaussians``: 25 Gaussians, centres (2i, 2j), std 0.1; ``genviz.backend.toy.datasets``),
3-layer MLPs (``nets.toy_ddgan``). Algorithm 1 per iteration, as the MNIST recipe (``training.mnist_ddgan``):

1. x₀ from the data pool (100,000 points drawn once with the seed), i uniform over 0..T−1, a real forward pair
   x_{t−1} ~ q(x_{t−1} | x₀), x_t ~ q(x_t | x_{t−1});
2. a fake pair: x̂₀ = G(x_t, z, i), z ~ N(0, I_L), x'_{t−1} ~ q(x_{t−1} | x_t, x̂₀);
3. non-saturating GAN losses on D(x_{t−1}, x_t, i), R1 (γ/2 ‖∇_{x_{t−1}} D‖², Mescheder et al. 2018) on real pairs;
   Adam β = (0.5, 0.9); the shipped generator is an EMA (decay ``ema``, warm-up min(ema, (1 + k)/(10 + k))).

Resumable: the checkpoint (EMA generator; metadata naming recipe, data, iterations, seconds, figures) and a
resume state (``--state``, G, D, EMA, Adam, RNG, iteration) are written every ``save_every`` iterations and at the
end; ``--resume`` continues up to ``--iters`` in all. Figures (``evaluate``): mode coverage and high-quality
share within 3 std (``toy.metrics.mode_coverage``) and MMD² of 2,000 ddgan samples against 2,000 data points.
"""
from __future__ import annotations

import argparse
import copy
import time
from pathlib import Path
from typing import Any

import torch

from ..checkpoints import save_checkpoint
from ..ddgan import DDGANSchedule
from ..nets.toy_ddgan import ToyDDGANDiscriminator, ToyDDGANGenerator
from ..toy.datasets import make_dataset
from .ddgan_common import adversarial_step, ema_update

T = 4
NET: dict[str, Any] = dict(latent_dim=4, num_timesteps=T, hidden=128, depth=3, temb=32, scale=4.0)
DEFAULTS = dict(iters=15000, batch_size=256, lr_g=1e-3, lr_d=1e-3, r1_gamma=0.05, ema=0.999, d_fourier=64,
                d_fourier_scale=1.0, seed=0)
STATE = "out/toy-ddgan.resume.pt"


def metadata(dataset: str, ds, done: int, args: dict, seconds: float, d_loss, g_loss, figures=None) -> dict:
    """The checkpoint's genviz metadata (family ``ddgan``, network ``ToyDDGANGenerator``, data (2,))."""
    lo, hi = ds.bounds
    return {
        "name": f"toy-{dataset}-ddgan", "family": "ddgan",
        "description": f"Denoising diffusion GAN (Xiao et al. 2022), T = {T}, 3-layer MLPs, on the 2-D toy dataset "
                       f"{dataset} ({ds.description})",
        "network": {"class": "ToyDDGANGenerator", "config": NET},
        "data": {"shape": [2], "range": [lo, hi], "dataset": dataset, "params": dict(ds.params), "kind": "vector"},
        "schedule": DDGANSchedule(T).to_dict(),
        "latent": {"shape": [NET["latent_dim"]], "prior": "standard normal, one draw per step"},
        "sampler": {"name": "ddgan", "steps": T},
        "training": {"recipe": f"genviz train toy-ddgan --dataset {dataset} --iters {args['iters']}",
                     "module": "genviz.backend.training.toy_ddgan",
                     "data_source": f"genviz.backend.toy.datasets.make_dataset({dataset!r}): {ds.description}; "
                                    f"100,000 points drawn with seed {args['seed']}",
                     "method": "DDGAN Algorithm 1, non-saturating loss, R1 on real x_{t-1}, Adam (0.5, 0.9), EMA G",
                     "iterations": done, "seconds": round(seconds, 1), "d_loss_final": d_loss, "g_loss_final": g_loss,
                     "weights": "EMA", **args, **({"figures": figures} if figures else {})},
    }


def evaluate(model, dataset: str = "25gaussians", n: int = 2000, seed: int = 1) -> dict:
    """Mode coverage, high-quality share (within 3 std of a centre) and MMD² of ``n`` samples of a 2-D model.

    ``model``: a 2-D ``DDGANModel`` (sampled with the ``ddgan`` sampler, T steps) or any family object with
    ``generate(z)`` / ``decode(z)`` (the toy GAN: decoded from z ~ N(0, I)). Returns a dict with
    ``modes_covered``, ``modes``, ``high_quality`` (share in [0, 1]) and ``mmd2``.
    """
    from ..toy.metrics import mmd2, mode_coverage
    ds = make_dataset(dataset)
    g = torch.Generator().manual_seed(seed)
    if getattr(model, "family", None) == "ddgan":
        from ..samplers.ddgan import ddgan
        x = torch.randn((n, 2), generator=g)
        for rec in ddgan(model, x, steps=model.num_timesteps, generator=g):
            x = rec.x
    else:
        z = torch.randn((n, *model.latent_shape), generator=g)
        with torch.no_grad():
            x = model.decode(z)
    x = x.detach().float().cpu()
    if ds.centres is None or ds.std is None:
        raise ValueError(f"{dataset} is not a Gaussian mixture: mode coverage does not apply")
    cov = mode_coverage(x, ds.centres, ds.std)
    return {"modes_covered": cov["modes_covered"], "modes": cov["modes"], "high_quality": round(cov["high_quality"], 4),
            "mmd2": round(mmd2(x, ds.sample(n, seed=seed + 1)), 5)}


def train(out="checkpoints/toy-25gaussians-ddgan.safetensors", dataset: str = "25gaussians", iters=DEFAULTS["iters"],
          batch_size=DEFAULTS["batch_size"], lr_g=DEFAULTS["lr_g"], lr_d=DEFAULTS["lr_d"], r1_gamma=DEFAULTS["r1_gamma"],
          ema=DEFAULTS["ema"], d_fourier=DEFAULTS["d_fourier"], d_fourier_scale=DEFAULTS["d_fourier_scale"],
          seed=DEFAULTS["seed"], state: str | Path | None = STATE, resume: bool = False,
          save_every: int = 500, log_every: int = 250, log=print):
    """Train a toy DDGAN (module docstring); returns the ``DDGANModel`` (EMA weights; ``path`` = ``out`` or None).

    Args:
        out: checkpoint path (None: don't save); state: resume-state path (None: none).
        iters: total iterations (counting a resumed run's); resume: continue from ``state``.
    Raises:
        FileNotFoundError: ``resume`` without a state file. ValueError: iters < 1 or a non-finite loss.
    """
    from ..ddgan import DDGANModel
    if int(iters) < 1:
        raise ValueError(f"iters must be >= 1, got {iters}")
    args = dict(iters=int(iters), batch_size=batch_size, lr_g=lr_g, lr_d=lr_d, r1_gamma=r1_gamma, ema=ema,
                d_fourier=d_fourier, d_fourier_scale=d_fourier_scale, seed=seed, T=T, dataset=dataset)
    ds = make_dataset(dataset)
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    pool = ds.sample(100_000, seed=seed)
    sched = DDGANSchedule(T)
    gen = ToyDDGANGenerator(**NET)
    disc = ToyDDGANDiscriminator(T, NET["hidden"], NET["depth"], NET["temb"], NET["scale"], int(d_fourier), float(d_fourier_scale))
    ema_gen = copy.deepcopy(gen).requires_grad_(False)
    opt_g = torch.optim.Adam(gen.parameters(), lr=lr_g, betas=(0.5, 0.9))
    opt_d = torch.optim.Adam(disc.parameters(), lr=lr_d, betas=(0.5, 0.9))
    start, before, avg_d, avg_g = 0, 0.0, None, None
    if resume:
        if state is None or not Path(state).exists():
            raise FileNotFoundError(f"no resume state at {state}")
        st = torch.load(state, weights_only=True)  # tensors and numbers only: never runs code
        for mod, key in ((gen, "gen"), (disc, "disc"), (ema_gen, "ema_gen"), (opt_g, "opt_g"), (opt_d, "opt_d")):
            mod.load_state_dict(st[key])
        torch.set_rng_state(st["torch_rng"])
        g.set_state(st["gen_rng"])
        start, before, avg_d, avg_g = st["iteration"], st["seconds"], st["avg_d"], st["avg_g"]
        if log is not None:
            log(f"resumed from {state} at iteration {start}")
    t0 = time.time()

    def save(it):
        secs = before + time.time() - t0
        if out is not None:
            save_checkpoint(out, ema_gen.state_dict(), metadata(dataset, ds, it, args, secs, avg_d, avg_g))
        if state is not None:
            Path(state).parent.mkdir(parents=True, exist_ok=True)
            torch.save({"gen": gen.state_dict(), "disc": disc.state_dict(), "ema_gen": ema_gen.state_dict(),
                        "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict(), "torch_rng": torch.get_rng_state(),
                        "gen_rng": g.get_state(), "iteration": it, "seconds": secs, "avg_d": avg_d, "avg_g": avg_g},
                       state)

    B = int(batch_size)
    for it in range(start + 1, int(iters) + 1):
        x0 = pool[torch.randint(0, len(pool), (B,), generator=g)]
        i = torch.randint(0, T, (B,), generator=g)
        x_prev = sched.q_sample_prev(x0, i, torch.randn((B, 2), generator=g))
        x_t = sched.q_step(x_prev, i, torch.randn((B, 2), generator=g))
        x0_hat = gen(x_t, torch.randn((B, NET["latent_dim"]), generator=g), i)
        fake_prev, _ = sched.posterior_sample(x0_hat, x_t, i, torch.randn((B, 2), generator=g))
        ld, lg = adversarial_step(gen, disc, opt_g, opt_d, x_prev, x_t, fake_prev, i, r1_gamma=r1_gamma)
        ema_update(ema_gen, gen, it, ema)
        if not (abs(ld) < 1e6 and abs(lg) < 1e6):
            raise ValueError(f"training diverged at iteration {it} (D {ld}, G {lg})")
        avg_d = ld if avg_d is None else 0.98 * avg_d + 0.02 * ld
        avg_g = lg if avg_g is None else 0.98 * avg_g + 0.02 * lg
        if log is not None and it % log_every == 0:
            el = time.time() - t0
            log(f"iter {it}/{iters} D {avg_d:.3f} G {avg_g:.3f} {(it - start) / el:.1f} it/s {before + el:.0f} s")
        if it % save_every == 0 or it == iters:
            save(it)
    model = DDGANModel(ema_gen, metadata(dataset, ds, max(start, int(iters)), args, before + time.time() - t0, avg_d, avg_g))
    model.path = str(out) if out is not None else None
    return model


def main(argv=None):
    """``genviz train toy-ddgan``: parse ``argv``, train, evaluate and write the figures into the checkpoint."""
    p = argparse.ArgumentParser(prog="genviz train toy-ddgan")
    p.add_argument("--out", default=None, help="default checkpoints/toy-DATASET-ddgan.safetensors")
    p.add_argument("--dataset", default="25gaussians")
    for k, v in DEFAULTS.items():
        p.add_argument("--" + k.replace("_", "-"), type=type(v), default=v)
    p.add_argument("--state", default=STATE, help="resume-state file (untracked)")
    p.add_argument("--resume", action="store_true")
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args(argv)
    torch.set_num_threads(max(1, a.threads))
    out = a.out or f"checkpoints/toy-{a.dataset}-ddgan.safetensors"
    kw = {k: getattr(a, k) for k in DEFAULTS}
    model = train(out, a.dataset, state=a.state, resume=a.resume, **kw)
    figures = evaluate(model, a.dataset)
    meta = model.metadata
    meta["training"]["figures"] = figures
    save_checkpoint(out, model.net.state_dict(), meta)
    print(f"wrote {out}: {figures}")


if __name__ == "__main__":
    main()
