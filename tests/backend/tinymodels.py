"""Tiny models for the backend tests: a random genviz UNet on 1x8x8 images, ε-networks given as functions,
and (lazily imported) diffusers UNet2DModel folders.

The tests run on a shared 2-core machine: the networks are a few ten thousand parameters and torch uses
one thread (with two threads on a loaded machine a forward of the tiny UNet takes ~30x longer).
"""
from __future__ import annotations

import copy
import os

import torch
from torch import nn

from genviz.backend import DiffusionModel, save_checkpoint
from genviz.backend.nets.unet import UNet

torch.set_num_threads(int(os.environ.get("GENVIZ_TEST_THREADS", "1")))

SHAPE = (1, 8, 8)
UNET_CONFIG = {"in_channels": 1, "base": 8, "mults": [1, 2], "blocks": 1, "attn_lowest": False, "dropout": 0.0}


def tiny_metadata(schedule: str = "linear", prediction_type: str = "epsilon", shape=SHAPE, **extra) -> dict:
    """genviz metadata of the tiny UNet (JSON types only, so that it survives a save/load round trip)."""
    meta = {
        "name": "tiny", "family": "diffusion", "description": "tiny random UNet for tests",
        "network": {"class": "UNet", "config": copy.deepcopy(UNET_CONFIG)},
        "data": {"shape": list(shape), "range": [-1.0, 1.0], "dataset": "testset", "kind": "image"},
        "schedule": {"beta_schedule": schedule, "num_train_timesteps": 1000, "beta_start": 1e-4, "beta_end": 0.02,
                     "prediction_type": prediction_type},
        "sampler": {"name": "ddim", "steps": 4, "eta": 0.0},
        "training": {"recipe": "tests (random weights)", "data_source": "none"},
    }
    meta.update(extra)
    return meta


def tiny_unet(seed: int = 0, out_std: float = 0.2) -> UNet:
    """A random genviz UNet whose (zero-initialised) output conv is randomised so that ε̂ is non-trivial."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = UNet(**UNET_CONFIG)
        with torch.no_grad():
            net.conv_out.weight.normal_(0.0, out_std)
            net.conv_out.bias.normal_(0.0, 0.1)
    return net.eval()


def tiny_model(schedule: str = "linear", prediction_type: str = "epsilon", seed: int = 0) -> DiffusionModel:
    """A DiffusionModel around ``tiny_unet`` on CPU, data shape (1, 8, 8)."""
    return DiffusionModel(tiny_unet(seed), tiny_metadata(schedule, prediction_type), "cpu")


def denoiser_model(schedule: str = "linear", prediction_type: str = "epsilon", seed: int = 0, s2: float = 0.25):
    """The tiny random UNet plus the exact denoiser of data ~ N(0, s2 I), as a DiffusionModel.

    Network output = ideal(x_t, t) + unet(x_t, t), where ideal is the exact ε (x0, v) prediction for that
    Gaussian data, ε* = √(1−ᾱ) x_t / (ᾱ s2 + 1 − ᾱ). Its chains contract like a trained model's; a bare random
    UNet's chains are chaotic (1-ulp differences grow to 1e-2 over 20 linear-schedule DDIM steps), so two
    correct float32 implementations cannot agree to 1e-4 on them. ``model.raw(x, t)`` is the network output.
    """
    meta = tiny_metadata(schedule, prediction_type)
    net = tiny_unet(seed)
    acp = DiffusionModel(nn.Identity(), meta, "cpu").alphas_cumprod

    def raw(n, x, t):
        a = acp.to(x.device)[t].view(-1, *([1] * (x.dim() - 1)))
        eps = (1 - a).sqrt() * x / (a * s2 + 1 - a)
        x0 = (x - (1 - a).sqrt() * eps) / a.sqrt()
        ideal = {"epsilon": eps, "sample": x0, "v_prediction": a.sqrt() * eps - (1 - a).sqrt() * x0}[prediction_type]
        return ideal + n(x, t)

    m = DiffusionModel(net, meta, "cpu", forward=raw)
    m.raw = lambda x, t: raw(m.net, x, t)
    return m


def fn_model(fn, shape=(4,), schedule: str = "linear", prediction_type: str = "epsilon") -> DiffusionModel:
    """A DiffusionModel whose network output is ``fn(x, t)`` (e.g. ``lambda x, t: 0.1 * x``)."""
    meta = {"name": "fn", "family": "diffusion", "data": {"shape": list(shape), "range": [-1.0, 1.0]},
            "schedule": {"beta_schedule": schedule, "num_train_timesteps": 1000, "prediction_type": prediction_type}}
    return DiffusionModel(nn.Identity(), meta, "cpu", forward=lambda net, x, t: fn(x, t))


def save_tiny(path, schedule: str = "linear", seed: int = 0, **extra):
    """Save the tiny UNet as a genviz .safetensors file; returns (path, state_dict, metadata)."""
    net = tiny_unet(seed)
    meta = tiny_metadata(schedule, **extra)
    save_checkpoint(path, net.state_dict(), meta)
    return path, net.state_dict(), meta


DIFFUSERS_UNET = dict(sample_size=8, in_channels=1, out_channels=1, block_out_channels=(8, 16),
                      down_block_types=("DownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "UpBlock2D"),
                      layers_per_block=1, norm_num_groups=4)


def diffusers_unet(seed: int = 0):
    """A tiny random diffusers UNet2DModel (its output layer randomised too)."""
    from diffusers import UNet2DModel
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        unet = UNet2DModel(**DIFFUSERS_UNET)
        with torch.no_grad():
            unet.conv_out.weight.normal_(0.0, 0.2)
    return unet.eval()
