"""Samplers: each is a generator of ``ChainStep`` records, registered by name in ``SAMPLERS``."""
from .base import SAMPLERS, ChainStep, Param, SamplerSpec, get_sampler, register, samplers_for
from . import denoising  # noqa: F401  (registers ddpm, ddim, ode-euler, ode-heun)
from .denoising import make_timesteps

__all__ = ["SAMPLERS", "ChainStep", "Param", "SamplerSpec", "get_sampler", "register", "samplers_for",
           "make_timesteps"]
