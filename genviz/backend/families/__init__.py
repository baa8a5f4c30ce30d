"""Model families: thin, documented wrappers around a network plus what a sampler needs to know.

One module per group of families; each model class declares its ``TRAITS`` and each module registers its
families (``registry.register_family``) with the network classes their checkpoints may name.
"""
from .base import BaseModel, resolve_device, toy_data_sampler
from .diffusion import ClassifierModel, DiffusionModel
from .energy import EnergyModel, ScoreModel, energy_and_score
from .latent import FlowModel, GANModel, LatentModel, ToyGANModel, ToyVAEModel, VAEModel

__all__ = ["BaseModel", "resolve_device", "toy_data_sampler", "ClassifierModel", "DiffusionModel", "EnergyModel",
           "ScoreModel", "energy_and_score", "FlowModel", "GANModel", "LatentModel", "ToyGANModel", "ToyVAEModel",
           "VAEModel"]
