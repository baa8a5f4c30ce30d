"""The ``gibbs`` sampler: block Gibbs sampling of a restricted Boltzmann machine (Geman & Geman 1984; Hinton 2002).

One step is one block sweep: h ~ p(h | v) = ∏_j Bernoulli(σ(c_j + (vᵀW)_j)), then v ~ p(v | h) =
∏_i Bernoulli(σ(b_i + (Wh)_i)). The chain's stationary distribution is the RBM's p(v) = exp(−F(v))/Z; how fast it
gets there (mixing) is what the chain panel shows: a chain started from a digit drifts to other digits only
rarely (``rbm.class_switches`` counts it).

Call contract (``SamplerSpec.grid == "steps"``): ``gibbs(model, x, steps=s, generator=g)`` runs s sweeps from x
(model space; binarised at 0). ``api.chain`` draws x_init with ``init``: ``"data"`` (training digits, the slides'
picture) or ``"uniform"`` (uniform noise, binarised: a random binary image). Random numbers per sweep, from the
passed CPU ``generator``: rand((N, H)) for h, then rand((N, *data_shape)) for v (``RBMModel.sweep``).
"""
from __future__ import annotations

from typing import Iterator

import torch

from .base import ChainStep, Param, SamplerSpec, register


@torch.inference_mode()
def gibbs(model, x: torch.Tensor, *, steps: int, generator: torch.Generator) -> Iterator[ChainStep]:
    """Run ``steps`` block Gibbs sweeps of an ``RBMModel``.

    Args:
        model: a ``genviz.backend.rbm.RBMModel``.
        x: (N, *data_shape) model space; binarised at the middle of the data range (v = 1 where x > 0 for [−1, 1]).
        steps: number of sweeps, >= 1.
        generator: CPU generator (order in the module docstring).
    Yields:
        ``steps + 1`` records: ``x`` the binary sample v_k (model space), ``x0_hat`` the mean-field image
        p(v | h_k) (model space, grey levels), ``t`` None (no timestep), stats (N,) ``energy`` the free energy F(v_k)
        and ``x_norm`` (the chain panel plots the free energy).
    Raises:
        ValueError: steps < 1 or x of the wrong shape.
    """
    if int(steps) < 1:
        raise ValueError(f"steps (Gibbs sweeps) must be >= 1, got {steps}")
    v = (model.to_unit(x.to(model.device, torch.float32)) > 0.5).float()
    if tuple(v.shape[1:]) != tuple(model.data_shape):
        raise ValueError(f"x has shape {tuple(x.shape)}, expected (N, {', '.join(map(str, model.data_shape))})")

    def rec(k: int, pv=None) -> ChainStep:
        xs = model.from_unit(v)
        return ChainStep(index=k, steps=int(steps), t=None, t_next=None, sigma=float("nan"), x=xs,
                         x0_hat=None if pv is None else model.from_unit(pv),
                         stats={"energy": model.energy(xs), "x_norm": xs.flatten(1).norm(dim=1)})

    yield rec(0)
    for k in range(1, int(steps) + 1):
        _, pv, v = model.sweep(v, generator)
        yield rec(k, pv)


register(SamplerSpec(
    name="gibbs", title="Block Gibbs sampling", kind="gibbs", fn=gibbs, stochastic=True, grid="steps",
    plot_keys=("energy",),
    params=(Param("init", "choice", "data", "where the chains start: training digits, or random binary images",
                  choices=("data", "uniform")),),
    description="Hinton 2002: one step is one block sweep of an RBM, h ~ p(h | v) then v ~ p(v | h); the chain's "
                "stationary distribution is p(v) ∝ exp(−F(v)).",
    caption="redrew every hidden unit given the image, then every pixel given the hidden units (one Gibbs sweep)"))
