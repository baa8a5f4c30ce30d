"""The ``flow`` sampler: base noise z ~ N(0, T² I) pushed through a normalizing flow's inverse layer by
layer (Dinh et al. 2017; temperature T as in Glow, Kingma & Dhariwal 2018)."""
from __future__ import annotations

from typing import Iterator

import torch

from .base import ChainStep, Param, SamplerSpec, register


def flow_sample(model, x: torch.Tensor, *, steps: int, generator: torch.Generator,
                temperature: float = 1.0) -> Iterator[ChainStep]:
    """Yield record 0 = z·T (x is the chain's N(0, I) initial state) and one record per inverse layer;
    the last record is the sample x = f⁻¹(T z). ``steps`` is ignored: a flow has exactly
    ``model.n_layers`` layers, and the records say so in ``ChainStep.steps``."""
    z = x * float(temperature)
    L = model.n_layers
    yield ChainStep(index=0, steps=L, t=None, t_next=None, sigma=0.0, x=z,
                    stats={"x_norm": z.flatten(1).norm(dim=1)})
    for i, u in enumerate(model.inverse_layers(z), start=1):
        yield ChainStep(index=i, steps=L, t=None, t_next=None, sigma=0.0, x=u,
                        stats={"x_norm": u.flatten(1).norm(dim=1)})


register(SamplerSpec(
    name="flow", title="Flow (inverse layers)", kind="flow", fn=flow_sample, grid="steps",
    stochastic=False, description="z ~ N(0, T²I) through the flow's inverse, one record per layer",
    params=(Param("temperature", "float", 1.0, "T: base noise std (1 = the model's density)",
                  minimum=0.0, maximum=10.0),)))

