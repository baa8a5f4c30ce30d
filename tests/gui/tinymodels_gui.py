"""A tiny random 28×28 diffusion model for the compare panel's backend test (no checkpoint file)."""
import torch

from genviz.backend import DiffusionModel
from genviz.backend.nets.unet import UNet

META = {"name": "tiny-digits", "family": "diffusion",
        "network": {"class": "UNet", "config": {"in_channels": 1, "base": 8, "mults": [1, 2], "blocks": 1,
                                                "attn_lowest": False, "dropout": 0.0}},
        "data": {"shape": [1, 28, 28], "range": [-1, 1], "dataset": "mnist", "kind": "image"},
        "schedule": {"beta_schedule": "squaredcos_cap_v2", "num_train_timesteps": 1000, "prediction_type": "epsilon"}}


def tiny_digit_model(num_train_timesteps: int = 1000) -> DiffusionModel:
    """A random genviz UNet (base 8) on 1×28×28 'digits', cosine schedule with T steps, on the CPU."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net = UNet(base=8, mults=[1, 2], blocks=1, attn_lowest=False).eval()
    meta = {**META, "schedule": {**META["schedule"], "num_train_timesteps": int(num_train_timesteps)}}
    return DiffusionModel(net, meta, "cpu")
