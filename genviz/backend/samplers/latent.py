"""Decoder sampling for latent-variable models (VAE decoder, GAN generator): x = decode(z), z ~ N(0, I)."""
from __future__ import annotations

from typing import Iterator

import torch

from .base import ChainStep, SamplerSpec, register


@torch.inference_mode()
def decode(model, z: torch.Tensor, *, steps: int = 1, generator: torch.Generator | None = None) -> Iterator[ChainStep]:
    """Ancestral sampling of a latent-variable model: x = decode(z) (VAE: the mean of p(x|z)).

    Args:
        model: a ``VAEModel`` or ``GANModel`` (anything with ``decode`` and ``latent_shape``).
        z: (N, *latent_shape) latents (``chain`` draws them as ``model.prior_latent(n, seed)``).
        steps: must be 1 (the chain is one decoder pass).
    Yields:
        record 0 and record 1, both with ``x`` = decode(z) (N, *data_shape) in model space (there is no
        data-space state before the decoder runs); ``stats["z"]`` holds z and ``stats["z_norm"]`` ‖z‖.
    Raises:
        ValueError: steps != 1.
    """
    if steps != 1:
        raise ValueError(f"the decode sampler takes exactly 1 step, got {steps}")
    x = model.decode(z)
    stats = {"z": z, "z_norm": z.flatten(1).norm(dim=1), "x_norm": x.flatten(1).norm(dim=1)}
    yield ChainStep(index=0, steps=1, t=None, t_next=None, sigma=0.0, x=x, stats=stats)
    yield ChainStep(index=1, steps=1, t=None, t_next=None, sigma=0.0, x=x, x0_hat=x, stats=stats)


register(SamplerSpec(
    name="decode", title="Decoder (z ~ N(0, I))", kind="decode", fn=decode, params=(), stochastic=True,
    description="Draw z from the standard normal prior and decode it (VAE decoder mean, GAN generator).",
    grid="latent"))
