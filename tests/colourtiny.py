"""Tiny models at any channel count and size for the colour tests (a uniquely named module, importable from
every test folder): genviz UNet checkpoints, diffusers UNet2DModel folders and classifiers of the emoji judges.

Random weights, a few thousand parameters: they test shapes, channel order and plumbing, never quality.
"""
from __future__ import annotations

import copy
import os
from pathlib import Path

import torch

torch.set_num_threads(int(os.environ.get("GENVIZ_TEST_THREADS", "1")))  # as tinymodels: faster on a busy machine

UNET = {"in_channels": 1, "base": 8, "mults": [1, 2], "blocks": 1, "attn_lowest": False, "dropout": 0.0}
SHAPES = ((3, 32, 32), (1, 64, 64), (1, 28, 28), (3, 28, 28), (3, 64, 64), (1, 32, 32))


def genviz_ddpm(path: Path, shape=(3, 32, 32), dataset: str = "emoji", name: str = "tiny-colour") -> Path:
    """A genviz diffusion checkpoint (tiny random UNet, cosine schedule) of ``shape``; returns the path."""
    from genviz.backend import save_checkpoint
    from genviz.backend.nets.unet import UNet
    cfg = copy.deepcopy(UNET)
    cfg["in_channels"] = shape[0]
    torch.manual_seed(0)
    net = UNet(**cfg)
    with torch.no_grad():
        net.conv_out.weight.normal_(0.0, 0.05)
    conv = "RGB on white" if dataset == "emoji" else "white ink on black"
    meta = {"name": name, "family": "diffusion", "network": {"class": "UNet", "config": cfg},
            "data": {"shape": list(shape), "range": [-1.0, 1.0], "dataset": dataset, "kind": "image",
                     "convention": conv},
            "schedule": {"beta_schedule": "squaredcos_cap_v2", "num_train_timesteps": 1000,
                         "prediction_type": "epsilon"},
            "sampler": {"name": "ddim", "steps": 4, "eta": 1.0, "timestep_spacing": "trailing"},
            "training": {"recipe": "tests (random weights)"}}
    return save_checkpoint(path, net.state_dict(), meta)


def diffusers_folder(path: Path, shape=(3, 32, 32)) -> Path:
    """A diffusers UNet2DModel folder (config.json + safetensors, scheduler/) of ``shape``; returns the folder."""
    from diffusers import DDPMScheduler, UNet2DModel
    torch.manual_seed(0)
    unet = UNet2DModel(sample_size=shape[1], in_channels=shape[0], out_channels=shape[0],
                       block_out_channels=(8, 16), layers_per_block=1, norm_num_groups=4,
                       down_block_types=("DownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "UpBlock2D"))
    unet.save_pretrained(path, safe_serialization=True)
    DDPMScheduler(num_train_timesteps=1000, beta_schedule="linear").save_pretrained(Path(path) / "scheduler")
    return Path(path)


def emoji_judges(folder: Path) -> None:
    """Tiny random ``emoji-classifier`` (9 categories) and ``emoji-realism`` checkpoints in ``folder``."""
    from genviz.backend import save_checkpoint
    from genviz.backend.emoji_data import CATEGORIES
    from genviz.backend.nets.classifier import DigitCNN
    for name, classes in (("emoji-classifier", list(CATEGORIES)), ("emoji-realism", ["stroke", "real"])):
        cfg = dict(in_channels=3, num_classes=len(classes), width=4, feat=8, size=32)
        torch.manual_seed(0)
        save_checkpoint(Path(folder) / f"{name}.safetensors", DigitCNN(**cfg).state_dict(), {
            "name": name, "family": "classifier", "network": {"class": "DigitCNN", "config": cfg},
            "data": {"shape": [3, 32, 32], "range": [-1.0, 1.0], "dataset": "emoji", "kind": "image"},
            "classes": classes, "training": {"recipe": "test"}})
