"""Registers the 2-D toy denoising diffusion GAN network with the ``ddgan`` family (Xiao et al. 2022, thesis
Fig. 6.9): a checkpoint naming ``network.class = "ToyDDGANGenerator"`` loads as a ``ddgan.DDGANModel`` with
data shape (2,), sampled by the ``ddgan`` sampler (T = 4). Recipe: ``genviz.backend.training.toy_ddgan``.

Importing this module registers it (``registry.register_family`` merges the networks of one family).
"""
from __future__ import annotations

from .ddgan import DDGANModel
from .registry import FamilySpec, register_family


def _net():
    from .nets.toy_ddgan import ToyDDGANGenerator
    return ToyDDGANGenerator


FAMILY = register_family(FamilySpec("ddgan", "Denoising diffusion GAN (Xiao et al. 2022)", DDGANModel,
                                    networks={"ToyDDGANGenerator": _net}))
