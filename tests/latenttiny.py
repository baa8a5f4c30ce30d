"""Tiny random latent models (a ConvVAE and a DCGAN generator on 1x28x28) for the interpolation tests.

Random weights, a few thousand parameters: they load, decode and encode in milliseconds. Saved with the
same metadata layout as the bundled mnist-vae / mnist-gan recipes.
"""
from __future__ import annotations

import torch

from genviz.backend import GANModel, VAEModel, save_checkpoint
from genviz.backend.nets.latent import ConvVAE, DCGANGenerator

VAE_CFG = dict(in_channels=1, latent_dim=6, width=4)
GAN_CFG = dict(latent_dim=8, width=8, out_channels=1)


def _meta(name, family, cls, cfg, latent):
    return {"name": name, "family": family, "network": {"class": cls, "config": cfg},
            "data": {"shape": [1, 28, 28], "range": [-1.0, 1.0], "dataset": "mnist", "kind": "image"},
            "latent": {"shape": [latent]}, "sampler": {"name": "decode", "steps": 1},
            "training": {"recipe": "tests (random weights)", "data_source": "none"}}


def tiny_vae_net(seed: int = 0) -> ConvVAE:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return ConvVAE(**VAE_CFG).eval()


def tiny_gan_net(seed: int = 0) -> DCGANGenerator:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        g = DCGANGenerator(**GAN_CFG)
        for m in g.modules():  # non-trivial BatchNorm statistics, so eval mode matters
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 2.0)
        return g.eval()


def vae_meta():
    return _meta("tiny-vae", "vae", "ConvVAE", VAE_CFG, VAE_CFG["latent_dim"])


def gan_meta():
    return _meta("tiny-gan", "gan", "DCGANGenerator", GAN_CFG, GAN_CFG["latent_dim"])


def tiny_vae(seed: int = 0) -> VAEModel:
    return VAEModel(tiny_vae_net(seed), vae_meta(), "cpu")


def tiny_gan(seed: int = 0) -> GANModel:
    return GANModel(tiny_gan_net(seed), gan_meta(), "cpu")


def save_latent_ckpts(folder) -> dict:
    """Write tiny-vae.safetensors and tiny-gan.safetensors into ``folder``; returns {name: path}."""
    out = {}
    for name, net, meta in (("tiny-vae", tiny_vae_net(), vae_meta()), ("tiny-gan", tiny_gan_net(), gan_meta())):
        p = folder / f"{name}.safetensors"
        save_checkpoint(p, net.state_dict(), meta)
        out[name] = str(p)
    return out
