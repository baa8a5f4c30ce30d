"""The ``flow`` sampler (and ``decode`` for VAEs and GANs): base noise z ~ N(0, T² I) pushed through a normalizing flow's inverse layer by
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
    name="flow", title="Flow (inverse layers)", families=("flow",), fn=flow_sample, grid="steps",
    stochastic=False, description="z ~ N(0, T²I) through the flow's inverse, one record per layer",
    params=(Param("temperature", "float", 1.0, "T: base noise std (1 = the model's density)",
                  minimum=0.0, maximum=10.0),)))


def decode_sample(model, x: torch.Tensor, *, steps: int, generator: torch.Generator,
                  obs_noise: bool = False) -> Iterator[ChainStep]:
    """Record 0: z (the chain's N(0, I) initial state, of the model's latent size); record 1:
    x = g(z) (VAE decoder mean, + N(0, obs_std² I) with ``obs_noise``; GAN generator). ``steps`` is
    ignored (one step)."""
    z = x if x.shape[1:] == (model.latent_dim,) else torch.randn((x.shape[0], model.latent_dim), generator=generator).to(x.device)
    yield ChainStep(index=0, steps=1, t=None, t_next=None, sigma=0.0, x=z, stats={"x_norm": z.flatten(1).norm(dim=1)})
    out = model.generate(z)
    if obs_noise and model.family == "vae":
        out = out + model.net.obs_std * torch.randn(out.shape, generator=generator).to(out.device)
    yield ChainStep(index=1, steps=1, t=None, t_next=None, sigma=0.0, x=out, stats={"x_norm": out.flatten(1).norm(dim=1)})


register(SamplerSpec(
    name="decode", title="Decode z (VAE / GAN)", families=("vae", "gan"), fn=decode_sample, grid="steps",
    stochastic=True, description="z ~ N(0, I) through the decoder / generator",
    params=(Param("obs_noise", "bool", False, "VAE: add the decoder's observation noise N(0, obs_std² I)"),)))
