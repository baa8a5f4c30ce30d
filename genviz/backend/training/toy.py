"""Recipe for the 2-D toy models (``genviz train toy --dataset D --model M [--steps N] --out PATH``):
the same function trains the bundled ``toy-<dataset>-<model>`` checkpoints and the density panel's
live models.

Families (one recipe each; hyper-parameters in ``RECIPES``):

- ``ebm``: an MLP energy E(x) trained by maximum likelihood with short-run Langevin negatives
  (Nijkamp et al. 2019; Xiao 2022 Ch. 5): every step starts chains from uniform noise over the data
  range, runs K steps of ``genviz.backend.samplers.langevin.ula`` (convention B,
  x ← x − (η/2)∇E(x) + s·√η ξ, clipped to the range) with the current energy, and descends
  E(data) − E(samples) + λ (E(data)² + E(samples)²) (Du & Mordatch 2019's regulariser). That chain is
  the checkpoint's default sampler.
- ``diffusion``: an MLP ε-network with a sinusoidal time input, DDPM loss ‖ε − ε̂(√ᾱ_t x0 + √(1−ᾱ_t) ε, t)‖²
  (Ho et al. 2020, Eq. 14), linear β 1e-4..0.02, T = 1000, weights averaged by EMA (0.999, with the warm-up
  min(0.999, (1 + i)/(10 + i)) at step i, ``ema_decay``); a genviz
  ``DiffusionModel``, so the DDPM/DDIM/ODE samplers run it. Default sampler: DDPM, 100 steps (strided).
- ``flow``: a neural spline flow (zuko ``NSF``, Durkan et al. 2019) trained by exact maximum likelihood.
- ``vae``: an MLP VAE with a 2-D latent and fixed observation std, trained on the negative ELBO
  (Kingma & Welling 2014); the ELBO is its (lower-bound) density.
- ``gan``: an MLP GAN with the non-saturating loss (Goodfellow et al. 2014, §3); no density. Optional
  discriminator regularisers ``r1`` = γ (R1, Mescheder et al. 2018) and ``clc`` = λ (closed-loop control,
  Xu et al. 2020), see ``training.gan_reg``; both 0 by default.

Data: fresh draws from ``genviz.backend.toy.datasets.make_dataset(D)`` (a pool of 100,000 points drawn
once with the seed). Runs on one CPU thread in seconds to minutes.
"""
from __future__ import annotations

import argparse
import copy
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Generator, NamedTuple

import torch
from torch import nn

from ..checkpoints import save_checkpoint
from ..toy.datasets import DATASETS, make_dataset

if TYPE_CHECKING:
    from ..families import BaseModel

MODELS = ("ebm", "diffusion", "flow", "vae", "gan")
# hyper-parameters of mixed types (ints such as steps and widths, floats such as lr), per model
RECIPES: dict[str, dict[str, Any]] = {
    "ebm": dict(steps=2000, batch_size=256, lr=2e-3, hidden=128, depth=3, fourier=64, fourier_scale=1.5, K=30, eta=0.1,
                noise_scale=0.1, reg=0.01),
    "diffusion": dict(steps=15000, batch_size=512, lr=1e-3, hidden=128, depth=4, temb=32, ema=0.999, T=1000),
    "flow": dict(steps=6000, batch_size=512, lr=2e-3, transforms=5, bins=16, hidden=64, scale=2.0),
    "vae": dict(steps=4000, batch_size=256, lr=1e-3, hidden=128, latent=2, obs_std=0.1),
    # r1 = γ, clc = λ: discriminator regularisers (``training.gan_reg``: R1, Mescheder et al. 2018; CLC, Xu et al.
    # 2020); 0 = off, the recipe of the bundled models
    "gan": dict(steps=4000, batch_size=256, lr=5e-4, hidden=128, latent=2, r1=0.0, clc=0.0),
}



class LiveRecipe(NamedTuple):
    """How the density panel trains a family live: ``steps`` (its default step count), ``overrides`` (recipe
    hyper-parameters changed for short runs, on top of ``RECIPES``) and ``note`` (what the default trades, shown
    under the panel's step box). Figures measured with ``train_steps`` on one CPU thread (see each note)."""

    steps: int
    note: str
    overrides: dict


LIVE: dict[str, LiveRecipe] = {
    # measured (2,000 samples vs 2,000 data points; two data samples: MMD² ±0.002; bundled models 0.0002-0.006):
    # 8gaussians 8/8 modes, 93 % near a centre, MMD² 0.008; 25gaussians 25/25, 98 %, 0.003; moons 0.018
    "ebm": LiveRecipe(400, "About 15 s (measured on 2 shared CPU cores). Live runs use 15 Langevin steps per update and lr 4e-3 "
                           "(the bundled models: 30 steps, 2,000 updates at 2e-3): it finds every mode, with a "
                           "rougher energy between them; more steps smooth it.", {"K": 15, "lr": 4e-3}),
    # 8gaussians 8/8, 93 %, 0.003; 25gaussians 25/25, 95 %, 0.001; moons 0.002 (1,500 steps). At 1,500 steps
    # 8gaussians has only 35 % of its samples near a centre (lr 3e-3); at the recipe's lr 1e-3, 3,000 steps: 35 %
    "diffusion": LiveRecipe(3000, "About 20 s. Fewer steps leave the modes blurred (8gaussians at 1,500 steps: "
                                  "a third of the samples near a centre, at 3,000: 93 %); live runs use lr 3e-3 "
                                  "(the bundled models: 15,000 steps at 1e-3).", {"lr": 3e-3}),
    # 8gaussians 8/8, 91 %, 0.003 (600 steps: 94 %, 0.002; 25gaussians 25/25, 90 %; moons, swissroll 0.002)
    "flow": LiveRecipe(400, "About 10 s; matches every toy dataset (the bundled flows train 6,000 steps for "
                            "sharper edges).", {}),
    # moons 0.046, swissroll 0.040 (2,000 steps: 0.031, 0.030); 8gaussians 8/8 but 18 % near a centre, 0.15
    # (2,000 steps: 24 %, 0.12)
    "vae": LiveRecipe(1000, "About 5 s. Its samples are decoder means of z ~ N(0, I), so on the Gaussian mixtures "
                            "they fill the gaps between the modes however long it trains (8gaussians: a fifth near "
                            "a centre); moons and swissroll come out close, a little blurred.", {}),
    # moons 0.015, swissroll 0.008 (1,000 steps: 0.010, 0.030); 8gaussians 8/8 but 39 % near a centre, 0.08
    "gan": LiveRecipe(2000, "About 15 s. This small GAN strings samples between the modes of the Gaussian mixtures "
                            "(8gaussians: 39 % near a centre) and can collapse; moons and swissroll come out "
                            "close. Its recipe trains 4,000 steps.", {}),
}


class Cancelled(Exception):
    """Raised inside ``train`` when ``should_stop()`` returned True."""


def _metadata(dataset, ds, model, hp, steps_done, seconds, loss, seed):
    lo, hi = ds.bounds
    meta = {
        "name": f"toy-{dataset}-{model}",
        "description": f"{model} on the 2-D toy dataset {dataset} ({ds.description})",
        "data": {"shape": [2], "range": [lo, hi], "dataset": dataset, "params": dict(ds.params), "kind": "vector"},
        "training": {"recipe": f"genviz train toy --dataset {dataset} --model {model} --steps {hp['steps']}",
                     "module": "genviz.backend.training.toy",
                     "data_source": f"genviz.backend.toy.datasets.make_dataset({dataset!r}): {ds.description}; "
                                    f"100,000 points drawn with seed {seed}",
                     "steps_done": steps_done, "seconds": round(seconds, 1), "loss_final": loss, "seed": seed,
                     **hp},
    }
    if model == "ebm":
        meta.update(family="ebm", network={"class": "ToyEnergyMLP",
                                           "config": dict(hidden=hp["hidden"], depth=hp["depth"], fourier=hp["fourier"],
                                                          fourier_scale=hp["fourier_scale"])},
                    energy={"sign": "energy"},
                    sampler={"name": "ula", "steps": hp["K"], "step_size": hp["eta"], "convention": "B",
                             "noise_scale": hp["noise_scale"], "init": "uniform", "clip": True})
    elif model == "diffusion":
        meta.update(family="diffusion",
                    network={"class": "ToyEpsMLP", "config": dict(hidden=hp["hidden"], depth=hp["depth"], temb=hp["temb"])},
                    schedule={"beta_schedule": "linear", "num_train_timesteps": hp["T"], "beta_start": 1e-4,
                              "beta_end": 0.02, "prediction_type": "epsilon", "clip_sample": True},
                    sampler={"name": "ddpm", "steps": 100})
    elif model == "vae":
        meta.update(family="vae",
                    network={"class": "ToyVAE", "config": dict(hidden=hp["hidden"], latent=hp["latent"], obs_std=hp["obs_std"])},
                    latent={"shape": [hp["latent"]]}, sampler={"name": "decode", "steps": 1})
    elif model == "gan":
        meta.update(family="gan", network={"class": "ToyGAN", "config": dict(hidden=hp["hidden"], latent=hp["latent"])},
                    latent={"shape": [hp["latent"]]}, sampler={"name": "decode", "steps": 1})
    else:
        meta.update(family="flow", network={"class": "ToySplineFlow", "config": dict(transforms=hp["transforms"], bins=hp["bins"],
                                                                                     hidden=hp["hidden"], scale=hp["scale"])},
                    sampler={"name": "flow", "steps": hp["transforms"], "temperature": 1.0})
    return meta


class TrainStep(NamedTuple):
    """One optimisation step of ``train_steps``.

    Attributes:
        step: steps done, 1..steps; steps: the run's total.
        loss: running average (0.98 · previous + 0.02 · this step's) of the family's training loss (finite:
            a non-finite loss stops the run with ValueError).
        seconds: wall-clock seconds since training started.
        snapshot: ``snapshot()`` -> the family object on a deep copy of the current weights (the EMA weights for
            diffusion), metadata ``steps_done = step``: an independent model for previews (about 1 ms).
        state_dict: ``state_dict()`` -> the live weights that a checkpoint saves (EMA for diffusion; not copied).
        metadata: ``metadata()`` -> the checkpoint metadata at this step (recipe, data, figures).
    """

    step: int
    steps: int
    loss: float
    seconds: float
    snapshot: Callable[[], BaseModel]
    state_dict: Callable[[], dict]
    metadata: Callable[[], dict]


def _hyper(model: str, steps: int | None, overrides: dict) -> dict:
    if model not in MODELS:
        raise ValueError(f"unknown toy model {model!r}; available: {', '.join(MODELS)}")
    hp = dict(RECIPES[model])
    for k, v in overrides.items():
        if k not in hp:
            raise ValueError(f"{model} recipe has no parameter {k!r} (parameters: {', '.join(hp)})")
        hp[k] = type(hp[k])(v)
    if steps is not None:
        hp["steps"] = int(steps)
    if hp["steps"] < 1:
        raise ValueError(f"steps must be >= 1, got {hp['steps']}")
    return hp


def ema_decay(ema: float, it: int) -> float:
    """EMA decay at step ``it`` (1-based): min(ema, (1 + it)/(10 + it)), the warm-up of TensorFlow's
    ``tf.train.ExponentialMovingAverage(num_updates=...)`` (also genviz's MNIST DDPM recipe). Without it the
    average keeps ema^it of the random start: 0.999^600 = 55 % after 600 steps. In [0, ema]."""
    return min(float(ema), (1.0 + it) / (10.0 + it))


def train_steps(dataset: str = "25gaussians", model: str = "ebm", steps: int | None = None, seed: int = 0,
                dataset_obj=None, **overrides) -> Generator[TrainStep, None, BaseModel]:
    """Train one toy model, one ``TrainStep`` per optimisation step; return the trained family object.

    Args:
        dataset: a name in ``DATASETS`` (or any label when ``dataset_obj`` — e.g. a user-drawn dataset — is given).
        model: a name in ``MODELS``; steps: optimisation steps (default: the recipe's).
        seed: seeds torch, the data pool (100,000 points) and the batches.
        **overrides: recipe hyper-parameters (see ``RECIPES``).
    Yields:
        ``TrainStep`` after each step (step, steps, loss, seconds, snapshot, state_dict, metadata).
    Returns:
        The trained ``EnergyModel`` / ``DiffusionModel`` (EMA weights) / ``FlowModel`` / ``ToyVAEModel`` /
        ``ToyGANModel`` with the final metadata (``path`` None).
    Raises:
        ValueError: at the call (not the first ``next``) for an unknown dataset/model/hyper-parameter or
        steps < 1; from ``next`` when the loss becomes non-finite.
    """
    hp = _hyper(model, steps, overrides)
    ds = dataset_obj if dataset_obj is not None else make_dataset(dataset)
    return _steps(dataset, ds, model, hp, seed)


def _steps(dataset, ds, model, hp, seed):
    from ..families import DiffusionModel, EnergyModel, FlowModel, ToyGANModel, ToyVAEModel
    from ..nets.toy import ToyEnergyMLP, ToyEpsMLP, ToyGAN, ToySplineFlow, ToyVAE
    from ..samplers.langevin import ula
    from .gan_reg import clc_penalty, r1_penalty
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    pool = ds.sample(100_000, seed=seed)
    lo, hi = ds.bounds
    B = hp["batch_size"]
    meta = lambda done, sec, loss: _metadata(dataset, ds, model, hp, done, sec, loss, seed)  # noqa: E731
    family_cls = {"ebm": EnergyModel, "diffusion": DiffusionModel, "vae": ToyVAEModel, "gan": ToyGANModel,
                  "flow": FlowModel}[model]

    # ``net``: the network being trained, as an ``nn.Module``; ``energy``/``vae``/``gan``/``flow`` name the same
    # object with its own class, for the steps below that call that class's methods
    net: nn.Module
    if model == "ebm":
        net = energy = ToyEnergyMLP(hp["hidden"], hp["depth"], hp["fourier"], hp["fourier_scale"])
        fam = EnergyModel(net, meta(0, 0, None))
        net.train().requires_grad_(True)
        params = dict(steps=hp["K"], step_size=hp["eta"], convention="B", noise_scale=hp["noise_scale"], clip=True)
    elif model == "diffusion":
        net = ToyEpsMLP(hp["hidden"], hp["depth"], hp["temb"])
        diffusion = DiffusionModel(copy.deepcopy(net), meta(0, 0, None))
        ema = diffusion.net
        net.train()
        acp = diffusion.alphas_cumprod
    elif model == "vae":
        net = vae = ToyVAE(hp["hidden"], hp["latent"], hp["obs_std"])
    elif model == "gan":
        net = gan = ToyGAN(hp["hidden"], hp["latent"])
        opt_d = torch.optim.Adam(gan.D.parameters(), lr=hp["lr"], betas=(0.5, 0.999))
    else:
        net = flow = ToySplineFlow(hp["transforms"], hp["bins"], hp["hidden"], hp["scale"])
        net.train()
    kept = ema if model == "diffusion" else net       # the weights a checkpoint saves
    opt = torch.optim.Adam(gan.G.parameters() if model == "gan" else net.parameters(), lr=hp["lr"],
                           betas=(0.5, 0.999) if model == "gan" else (0.9, 0.999))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: 0.5 * (1 + math.cos(math.pi * min(i / hp["steps"], 1.0))) * 0.9 + 0.1)
    t0 = time.time()
    avg = 0.0

    def snapshot_at(done, sec, loss):
        def snapshot():
            return family_cls(copy.deepcopy(kept), meta(done, sec, loss))
        return snapshot

    for it in range(1, hp["steps"] + 1):
        x = pool[torch.randint(0, len(pool), (B,), generator=g)]
        if model == "ebm":
            x_init = torch.rand((B, 2), generator=g) * (hi - lo) + lo
            x_neg = None
            for rec in ula(fam, x_init, generator=g, **params):
                x_neg = rec.x
            e_pos, e_neg = energy(x), energy(x_neg)
            loss = e_pos.mean() - e_neg.mean() + hp["reg"] * (e_pos ** 2 + e_neg ** 2).mean()
        elif model == "diffusion":
            t = torch.randint(0, hp["T"], (B,), generator=g)
            eps = torch.randn((B, 2), generator=g)
            a = acp[t][:, None]
            loss = ((net(a.sqrt() * x + (1 - a).sqrt() * eps, t) - eps) ** 2).mean()
        elif model == "vae":
            loss = -vae.elbo(x, generator=g).mean()
        elif model == "gan":
            bce = torch.nn.functional.binary_cross_entropy_with_logits
            z = torch.randn((B, hp["latent"]), generator=g)
            fake = gan.generate(z)
            d_real, d_fake = gan.discriminate(x), gan.discriminate(fake.detach())
            loss_d = bce(d_real, torch.ones_like(d_real)) + bce(d_fake, torch.zeros_like(d_fake))
            loss_d = loss_d + r1_penalty(gan.discriminate, x, hp["r1"]) + clc_penalty(d_real, d_fake, hp["clc"])
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            d_gen = gan.discriminate(fake)
            loss = bce(d_gen, torch.ones_like(d_gen))      # non-saturating generator loss
        else:
            loss = -flow.log_prob(x).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if model == "flow":
            torch.nn.utils.clip_grad_norm_(net.parameters(), 10.0)
        opt.step()
        sched.step()
        if model == "diffusion":
            d = ema_decay(hp["ema"], it)
            with torch.no_grad():
                for pe, pn in zip(ema.parameters(), net.parameters()):
                    pe.mul_(d).add_(pn.detach(), alpha=1 - d)
        lv = float(loss.detach())
        if not math.isfinite(lv):
            raise ValueError(f"training diverged at step {it} (loss {lv})")
        avg = lv if it == 1 else 0.98 * avg + 0.02 * lv
        sec = time.time() - t0
        yield TrainStep(it, hp["steps"], avg, sec, snapshot_at(it, sec, avg), kept.state_dict,
                        lambda done=it, sec=sec, loss=avg: meta(done, sec, loss))

    final = meta(hp["steps"], time.time() - t0, avg)
    if model == "ebm":
        net.eval().requires_grad_(False)
    result = family_cls(kept, final)
    result.path = None
    return result


def train(dataset: str = "25gaussians", model: str = "ebm", steps: int | None = None, out=None, seed: int = 0,
          dataset_obj=None, log=print, progress=None, should_stop=None, save_every: int = 1000, **overrides):
    """Train one toy model (a loop over ``train_steps``); return the family object (``EnergyModel`` /
    ``DiffusionModel`` / ``FlowModel`` / ``ToyVAEModel`` / ``ToyGANModel``).

    Args:
        dataset: a name in ``DATASETS`` (or any label when ``dataset_obj`` — e.g. a user-drawn dataset — is given).
        model: a name in ``MODELS``.
        steps: optimisation steps (default: the recipe's).
        out: save the checkpoint here (every ``save_every`` steps and at the end); None = don't save.
        log: ``log(line)`` every 500 steps (None: silent).
        progress: called ``progress(step, steps, loss)`` every 10 steps and at the last (for a progress bar).
        should_stop: polled before every step; returning True raises ``Cancelled``.
        **overrides: recipe hyper-parameters (see ``RECIPES``).
    Raises: ValueError for an unknown dataset/model/hyper-parameter, steps < 1 or divergence; Cancelled.
    """
    gen = train_steps(dataset, model, steps, seed, dataset_obj, **overrides)
    done = 0
    while True:
        if should_stop is not None and should_stop():
            gen.close()
            raise Cancelled(f"training cancelled at step {done}")
        try:
            p = next(gen)
        except StopIteration as stop:
            result = stop.value
            break
        done = p.step
        if progress is not None and (p.step % 10 == 0 or p.step == p.steps):
            progress(p.step, p.steps, p.loss)
        if p.step % 500 == 0 and log is not None:
            log(f"step {p.step}/{p.steps} loss {p.loss:+.4f} {p.step / p.seconds:.1f} it/s {p.seconds:.0f} s")
        if out is not None and (p.step % save_every == 0 or p.step == p.steps):
            save_checkpoint(out, p.state_dict(), p.metadata())
    if out is not None:
        result.path = str(out)
    return result


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # becomes one ``genviz: error:`` line in the CLI (exit 1)
        raise ValueError(f"train toy: {message}")


def main(argv=None):
    p = _Parser(prog="genviz train toy",
                                description="Train a 2-D toy model (the recipe of the bundled toy-* checkpoints).")
    p.add_argument("--dataset", required=True, choices=DATASETS)
    p.add_argument("--model", required=True, choices=MODELS)
    p.add_argument("--steps", type=int, default=None, help="optimisation steps (default: the recipe's)")
    p.add_argument("--out", default=None, help="checkpoint path (default checkpoints/toy-D-M.safetensors)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="override a recipe hyper-parameter")
    a = p.parse_args(argv)
    out = Path(a.out or f"checkpoints/toy-{a.dataset}-{a.model}.safetensors")
    if out.suffix != ".safetensors":
        raise ValueError(f"--out {out}: extension must be .safetensors")
    if not (out.parent if str(out.parent) else Path(".")).is_dir():
        raise ValueError(f"--out {out}: folder {out.parent} does not exist")
    if a.steps is not None and a.steps < 1:
        raise ValueError(f"--steps must be >= 1, got {a.steps}")
    overrides = {}
    for item in a.set:
        if "=" not in item:
            raise ValueError(f"--set {item!r}: expected NAME=VALUE")
        k, v = item.split("=", 1)
        overrides[k.strip()] = v.strip()
    torch.set_num_threads(max(1, a.threads))
    train(a.dataset, a.model, a.steps, out, a.seed, **overrides)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
