"""genviz.backend: models, samplers and chains, with torch and numpy only (never Qt).

Everything a panel can do, a script can do here::

    from genviz.backend import load_checkpoint, sample, chain
    model = load_checkpoint("mnist-ddpm")
    x = sample(model, "ddim", steps=50, n=16, seed=0)      # (16, 1, 28, 28) in [-1, 1]
    for rec in chain(model, "ddpm", steps=1000, n=4):      # one ChainStep per step
        ...
"""
from .api import chain, initial_noise, sample
from .checkpoints import CheckpointError, CheckpointInfo, list_checkpoints, load_checkpoint, read_metadata, save_checkpoint
from .families import (
                          ClassifierModel,
                          DiffusionModel,
                          EnergyModel,
                          FlowModel,
                          GANModel,
                          LatentModel,
                          ScoreModel,
                          VAEModel,
                          resolve_device,
)
from .samplers import (
                          SAMPLERS,
                          ChainDiverged,
                          ChainStep,
                          Param,
                          ReplayBuffer,
                          SamplerSpec,
                          get_sampler,
                          make_timesteps,
                          samplers_for,
)

__all__ = ["chain", "sample", "initial_noise", "CheckpointError", "CheckpointInfo", "list_checkpoints",
           "load_checkpoint", "read_metadata", "save_checkpoint", "ClassifierModel", "DiffusionModel",
           "VAEModel", "GANModel", "LatentModel", "FlowModel",
           "resolve_device", "EnergyModel", "ScoreModel", "ChainDiverged", "ReplayBuffer", "SAMPLERS", "ChainStep", "Param", "SamplerSpec", "get_sampler", "make_timesteps",
           "samplers_for"]
