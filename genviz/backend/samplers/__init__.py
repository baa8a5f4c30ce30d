"""Samplers: each is a generator of ``ChainStep`` records, registered by name in ``SAMPLERS``."""
from .base import SAMPLERS, ChainStep, Param, SamplerSpec, get_sampler, register, samplers_for
from . import denoising, flow, langevin, latent  # noqa: F401  (register the samplers)
from .langevin import ChainDiverged, ReplayBuffer
from .denoising import make_timesteps

__all__ = ["ChainDiverged", "ReplayBuffer", "SAMPLERS", "ChainStep", "Param", "SamplerSpec", "get_sampler", "register", "samplers_for",
           "make_timesteps"]
