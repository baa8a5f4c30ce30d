"""Restricted Boltzmann machines on binary images (Smolensky 1986; Hinton 2002, "Training products of experts by
minimizing contrastive divergence"; Hinton 2010, "A practical guide to training RBMs").

Energy and free energy, with v ∈ {0,1}^V (the pixels, flattened) and h ∈ {0,1}^H::

    E(v, h) = −bᵀv − cᵀh − vᵀWh,     p(v, h) = exp(−E(v, h))/Z,
    F(v) = −log Σ_h exp(−E(v, h)) = −bᵀv − Σ_j softplus(c_j + (vᵀW)_j),     p(v) = exp(−F(v))/Z.

The conditionals factorise: p(h_j = 1 | v) = σ(c_j + (vᵀW)_j), p(v_i = 1 | h) = σ(b_i + (Wh)_i), so block Gibbs
sampling alternates two parallel draws (the ``gibbs`` sampler). genviz uses its own torch code rather than
scikit-learn's ``BernoulliRBM``: that one's ``score_samples`` is a pseudo-likelihood (one flipped pixel), it has no
PCD-vs-CD-k choice beyond its PCD, no clamped (conditional) Gibbs chains and no torch tensors for the chain panel;
here F(v) is exact and ``tests/backend/test_rbm.py`` checks it against brute-force marginalisation over h.

This module also gives the hidden units' filters as images (``filters``), clamped inpainting is in
``genviz.backend.completion``, and the mixing figure "class switches per 1,000 sweeps" (``class_switches``) uses
the bundled digit classifier.
"""
from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, cast

import torch

from .families.base import BaseModel
from .registry import FamilySpec, register_family, traits

if TYPE_CHECKING:
    from .nets.rbm import BernoulliRBM


class RBMModel(BaseModel):
    """A Bernoulli–Bernoulli RBM on data of shape ``data_shape`` (flattened to V = prod(shape) visible units);
    ``net`` is a ``nets.rbm.BernoulliRBM`` on v ∈ {0, 1}.

    Spaces: model space is the data range (the bundled ``mnist-rbm``: [−1, 1] like every MNIST model, a pixel
    x = 2v − 1); ``energy(x)`` and ``p_h(x)`` take model space, ``sweep`` and ``p_v`` work on v ∈ {0, 1}.
    ``energy(x)`` is the free energy F(v): (N, *data_shape) -> (N,) (nats, up to the constant log Z);
    ``p_h(x)`` (N, H), ``p_v(h)`` (N, *data_shape) in [0, 1]; ``sweep(v, generator)`` one block Gibbs sweep.

    Raises:
        ValueError: from the constructor when prod(data_shape) differs from the network's V; from the methods for
            inputs of the wrong shape.
    """

    family = "rbm"
    TRAITS = traits("gibbs", energy=True, sdedit=True)  # energy: the free energy F(v); sdedit: clamped inpainting

    def __init__(self, net, metadata: dict, device="cpu"):
        super().__init__(net, metadata, device)
        v = 1
        for s in self.data_shape:
            v *= s
        if v != net.W.shape[0]:
            raise ValueError(f"data.shape {list(self.data_shape)} has {v} pixels but the RBM has {net.W.shape[0]} "
                             "visible units")
        self.visible, self.hidden = int(net.W.shape[0]), int(net.W.shape[1])

    @property
    def rbm(self) -> BernoulliRBM:
        """The network, typed (``nets.rbm.BernoulliRBM``)."""
        return cast("BernoulliRBM", self.net)

    @property
    def default_sampler(self) -> dict:
        """{"name": "gibbs", "steps": 1000, "init": "data"}: the slides' picture (chains from digits, drifting)."""
        return dict(self.metadata.get("sampler", {"name": "gibbs", "steps": 1000, "init": "data"}))

    def _flat(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() < 1 or tuple(x.shape[1:]) != self.data_shape:
            raise ValueError(f"x has shape {tuple(x.shape)}, expected (N, {', '.join(map(str, self.data_shape))})")
        return self.to_unit(x.to(self.device, torch.float32)).reshape(x.shape[0], self.visible)

    @torch.inference_mode()
    def energy(self, x: torch.Tensor) -> torch.Tensor:
        """F(v) = −bᵀv − Σ_j softplus(c_j + (vᵀW)_j), v = to_unit(x): (N, *data_shape) model space -> (N,) nats."""
        return self.rbm(self._flat(x))

    free_energy = energy

    @torch.inference_mode()
    def p_h(self, x: torch.Tensor) -> torch.Tensor:
        """(N, *data_shape) model space -> (N, H) p(h_j = 1 | v)."""
        return self.rbm.p_h(self._flat(x))

    @torch.inference_mode()
    def p_v(self, h: torch.Tensor) -> torch.Tensor:
        """(N, H) -> (N, *data_shape) mean-field p(v_i = 1 | h)."""
        return self.rbm.p_v(h.to(self.device, torch.float32)).reshape(h.shape[0], *self.data_shape)

    @torch.inference_mode()
    def sweep(self, v: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One block Gibbs sweep from v (N, *data_shape) in {0, 1} (unit space): h ~ p(h | v), then v' ~ p(v | h).

        Random numbers: u_h = rand((N, H)), then u_v = rand((N, *data_shape)) from the CPU ``generator``.
        Returns (h (N, H), mean-field p(v | h) (N, *data_shape), v' (N, *data_shape)), on the model's device.
        """
        ph = self.rbm.p_h(v.to(self.device, torch.float32).reshape(v.shape[0], self.visible))
        h = (torch.rand(ph.shape, generator=generator).to(ph.device) < ph).float()
        pv = self.p_v(h)
        v_new = (torch.rand(pv.shape, generator=generator).to(pv.device) < pv).float()
        return h, pv, v_new

    def filters(self) -> torch.Tensor:
        """The hidden units' weight vectors as images: (H, *data_shape) float32 on the CPU, each scaled to [0, 1]
        by its own max |w| (0.5 = zero weight); unit j is the column W[:, j]."""
        w = self.rbm.W.detach().float().cpu().t()
        w = w / w.abs().amax(1, keepdim=True).clamp_min(1e-12)
        return (0.5 + 0.5 * w).reshape(self.hidden, *self.data_shape)

    def sample_data(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """n training digits binarised at 0.5 (``init="data"``), model space: (n, *data_shape). ValueError for
        a non-MNIST model."""
        if self.dataset != "mnist":
            raise ValueError(f"{self.name}: no data samples available for init='data'")
        from .autoregressive import binarise
        from .data import load_mnist
        imgs, _ = load_mnist("train")
        idx = torch.randint(0, len(imgs), (int(n),), generator=generator).numpy()
        return self.from_unit(binarise(imgs[idx][:, None]).reshape(int(n), *self.data_shape))


def all_binary(k: int) -> torch.Tensor:
    """(2^k, k) float32: every binary vector of length k (k <= 20)."""
    if not 0 < k <= 20:
        raise ValueError(f"k must be in 1..20 for enumeration, got {k}")
    return torch.tensor(list(itertools.product((0.0, 1.0), repeat=k)))


def exact_distribution(model: RBMModel) -> tuple[torch.Tensor, torch.Tensor]:
    """(states (2^V, V), p(v) (2^V,)) of a small RBM by enumerating every visible state (V <= 20), float64."""
    vs = all_binary(model.visible)
    f = model.rbm(vs.to(model.device)).detach().double().cpu()
    return vs, torch.softmax(-f, 0)


@torch.inference_mode()
def ais_log_z(model: RBMModel, base_p: torch.Tensor, *, steps: int = 2000, runs: int = 64, seed: int = 0) -> dict:
    """Annealed importance sampling estimate of log Z (Salakhutdinov & Murray 2008, "On the quantitative analysis
    of deep belief networks", Sec. 4).

    Intermediate distributions, β_0 = 0 < ... < β_K = 1 (linear)::

        log f_β(v) = (1 − β) b_Aᵀv + β bᵀv + Σ_j softplus(β (c_j + (vᵀW)_j)),

    with the base-rate model b_A = logit(base_p) (no weights): Z_0 = 2^H ∏_i (1 + e^{b_A,i}). Each run starts from
    v ~ p_A exactly, is moved by one Gibbs sweep that leaves f_β invariant (h_j ~ σ(β(c_j + (vᵀW)_j)), v_i ~
    σ((1 − β) b_A,i + β (b_i + (Wh)_i))) and accumulates log w += log f_{β_k}(v) − log f_{β_{k−1}}(v).

    Args:
        base_p: (V,) the base rates (e.g. the training pixels' means), clamped to [0.001, 0.999].
        steps: K, runs: M, seed: the CPU generator's seed.
    Returns:
        {"log_z": log Z_0 + log mean w, "log_z_std": the spread of log Z over halves of the runs, "steps", "runs"}.
    """
    rbm = model.rbm
    dev = rbm.W.device
    g = torch.Generator().manual_seed(int(seed))
    p = base_p.to(dev).float().clamp(0.001, 0.999)
    b_a = torch.log(p / (1 - p))
    W, b, c = rbm.W.float(), rbm.b.float(), rbm.c.float()

    def log_f(v, beta):
        return (1 - beta) * (v @ b_a) + beta * (v @ b) + torch.nn.functional.softplus(beta * (v @ W + c)).sum(1)

    v = (torch.rand((runs, model.visible), generator=g).to(dev) < p).float()
    log_w = torch.zeros(runs, dtype=torch.float64, device=dev)
    betas = torch.linspace(0, 1, int(steps) + 1).tolist()
    for prev, beta in zip(betas, betas[1:]):
        log_w += (log_f(v, beta) - log_f(v, prev)).double()
        h = (torch.rand((runs, model.hidden), generator=g).to(dev) < torch.sigmoid(beta * (v @ W + c))).float()
        v = (torch.rand((runs, model.visible), generator=g).to(dev)
             < torch.sigmoid((1 - beta) * b_a + beta * (h @ W.t() + b))).float()
    log_z0 = model.hidden * float(torch.log(torch.tensor(2.0))) + float(torch.nn.functional.softplus(b_a).sum())

    def est(lw):
        return log_z0 + float(torch.logsumexp(lw, 0) - torch.log(torch.tensor(float(len(lw)), dtype=torch.float64)))

    half = runs // 2
    spread = abs(est(log_w[:half]) - est(log_w[half:])) / 2 if half else float("nan")
    return {"log_z": est(log_w), "log_z_std": spread, "steps": int(steps), "runs": int(runs)}


@torch.inference_mode()
def class_switches(model: RBMModel, classifier, *, chains: int = 16, sweeps: int = 1000, seed: int = 0,
                   init: str = "data") -> dict:
    """Mixing figure: how often the digit class of a Gibbs chain changes, per 1,000 sweeps.

    ``chains`` chains run ``sweeps`` block Gibbs sweeps (``init`` ``"data"``: training digits; ``"uniform"``:
    random binary images); after every sweep the classifier judges the mean-field image p(v | h); a switch is a
    change of its argmax between consecutive sweeps.

    Returns:
        {"switches_per_1000": mean over chains, "per_chain": list, "classes_visited": mean distinct classes,
         "chains", "sweeps", "seed"}.
    Raises:
        ValueError: sweeps or chains < 1, or an unknown init.
    """
    if sweeps < 1 or chains < 1:
        raise ValueError(f"sweeps and chains must be >= 1, got {sweeps}, {chains}")
    g = torch.Generator().manual_seed(int(seed))
    if init == "data":
        v = model.to_unit(model.sample_data(chains, g)).to(model.device)
    elif init == "uniform":
        v = (torch.rand((chains, *model.data_shape), generator=g) < 0.5).float().to(model.device)
    else:
        raise ValueError(f"init must be 'data' or 'uniform', got {init!r}")
    prev = None
    switches = torch.zeros(chains)
    seen: list[set[int]] = [set() for _ in range(chains)]
    for _ in range(int(sweeps)):
        _, pv, v = model.sweep(v, g)
        cls = classifier.probs(classifier.from_unit(pv.to(classifier.device).float())).argmax(1).cpu()
        if prev is not None:
            switches += (cls != prev).float()
        for i, c in enumerate(cls.tolist()):
            seen[i].add(c)
        prev = cls
    per = (switches * 1000.0 / sweeps).tolist()
    return {"switches_per_1000": float(sum(per) / len(per)), "per_chain": [round(p, 1) for p in per],
            "classes_visited": float(sum(len(s) for s in seen) / chains), "chains": chains, "sweeps": int(sweeps),
            "seed": int(seed), "init": init}


def _net(name: str):
    def load():
        from .nets import rbm
        return getattr(rbm, name)
    return load


FAMILY = register_family(FamilySpec("rbm", "Restricted Boltzmann machine", RBMModel,
                                    networks={"BernoulliRBM": _net("BernoulliRBM")}))
