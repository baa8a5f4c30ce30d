"""genviz.backend: models, samplers and chains, with torch and numpy only (never Qt).

Everything a panel can do, a script can do here::

    from genviz.backend import load_checkpoint, sample, chain
    model = load_checkpoint("mnist-ddpm")
    x = sample(model, "ddim", steps=50, n=16, seed=0)      # (16, 1, 28, 28) in [-1, 1]
    for rec in chain(model, "ddpm", steps=1000, n=4):      # one ChainStep per step
        ...

The names below are imported on first use (PEP 562), so importing a torch-free submodule such as
``genviz.backend.imaging`` or ``genviz.backend.registry`` does not import torch.
"""
from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "api": ("chain", "initial_noise", "sample"),
    "checkpoints": ("CheckpointError", "CheckpointInfo", "list_checkpoints", "load_checkpoint", "read_metadata",
                    "save_checkpoint"),
    "families": ("ClassifierModel", "DiffusionModel", "EnergyModel", "FlowModel", "GANModel", "LatentModel",
                 "ScoreModel", "VAEModel", "resolve_device"),
    "samplers": ("SAMPLERS", "ChainDiverged", "ChainStep", "Param", "ReplayBuffer", "SamplerSpec", "get_sampler",
                 "make_timesteps", "samplers_for"),
}
_MODULE_OF = {name: mod for mod, names in _WHERE.items() for name in names}
__all__ = list(_MODULE_OF)


def __getattr__(name: str) -> Any:
    mod = _MODULE_OF.get(name)
    if mod is None:
        raise AttributeError(f"module 'genviz.backend' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{mod}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
