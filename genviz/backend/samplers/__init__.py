"""Samplers: each is a generator of ``ChainStep`` records, registered by name in ``SAMPLERS``."""
from . import autoregressive, ddgan, denoising, flow, gibbs, langevin, latent, schedulers, sde, vaebm  # noqa: F401  (importing a sampler module registers it)
from .base import SAMPLERS, ChainStep, Param, SamplerSpec, get_sampler, register, samplers_for
from .denoising import make_timesteps
from .langevin import ChainDiverged, ReplayBuffer

__all__ = ["ChainDiverged", "ReplayBuffer", "SAMPLERS", "ChainStep", "Param", "SamplerSpec", "get_sampler", "register", "samplers_for",
           "make_timesteps"]
