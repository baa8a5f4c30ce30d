"""The VAEBM network (Xiao, Kreis, Kautz & Vahdat 2021; Xiao 2022 Ch. 4): a frozen base VAE and an energy E(x).

``VAEBMNet`` holds both, named by class from a whitelist (``VAES``/``ENERGIES``): the 28x28 ``ConvVAE``
(Bernoulli decoder: its mean is deterministic in z, so the sampling noise is ε_z alone) or the 2-D ``ToyVAE``
(Gaussian decoder N(μ(z), obs_std² I): the noise is (ε_z, ε_x), x = μ(ε_z) + obs_std · ε_x, Eq. 4.18), with a
``ConvEnergy`` or ``ToyEnergyMLP``.
"""
from __future__ import annotations

import torch
from torch import nn


def _vaes() -> dict:
    from .latent import ConvVAE
    from .toy import ToyVAE
    return {"ConvVAE": ConvVAE, "ToyVAE": ToyVAE}


def _energies() -> dict:
    from .energy import ConvEnergy
    from .toy import ToyEnergyMLP
    return {"ConvEnergy": ConvEnergy, "ToyEnergyMLP": ToyEnergyMLP}


class VAEBMNet(nn.Module):
    """``vae`` + ``energy``; ``transform(eps)`` -> x is the VAE's generator T(ε) of Eq. 4.18.

    Args:
        vae_class / energy_class: names from the whitelists above; ``*_config`` their constructor arguments.
    Attributes: ``latent_dim`` (of the VAE), ``gaussian`` (decoder has continuous noise ε_x), ``obs_std``,
        ``data_dim`` (size of ε_x; 0 for the Bernoulli decoder), ``noise_dim`` = latent_dim + data_dim.
    ``mean(z)`` (N, latent_dim) -> decoder mean in model space ([-1, 1] images, 2-D points);
    ``transform(eps)`` (N, noise_dim) -> x; ``forward(x)`` = E(x) (N,).
    Raises ValueError for an unknown class name.
    """

    def __init__(self, vae_class: str = "ConvVAE", vae_config: dict | None = None, energy_class: str = "ConvEnergy",
                 energy_config: dict | None = None):
        super().__init__()
        vaes, energies = _vaes(), _energies()
        if vae_class not in vaes:
            raise ValueError(f"unknown VAE class {vae_class!r} (known: {', '.join(vaes)})")
        if energy_class not in energies:
            raise ValueError(f"unknown energy class {energy_class!r} (known: {', '.join(energies)})")
        self.config = dict(vae_class=vae_class, vae_config=dict(vae_config or {}), energy_class=energy_class,
                           energy_config=dict(energy_config or {}))
        self.vae = vaes[vae_class](**(vae_config or {}))
        self.energy = energies[energy_class](**(energy_config or {}))
        self.latent_dim = int(self.vae.latent_dim)
        self.gaussian = vae_class == "ToyVAE"
        self.obs_std = float(getattr(self.vae, "obs_std", 0.0)) if self.gaussian else 0.0
        self.data_dim = 2 if self.gaussian else 0
        self.noise_dim = self.latent_dim + self.data_dim

    def mean(self, z: torch.Tensor) -> torch.Tensor:
        if self.gaussian:
            return self.vae.decode(z)
        return 2 * torch.sigmoid(self.vae.decode_logits(z)) - 1

    def transform(self, eps: torch.Tensor) -> torch.Tensor:
        z = eps[:, : self.latent_dim]
        x = self.mean(z)
        if self.gaussian:
            x = x + self.obs_std * eps[:, self.latent_dim:]
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.energy(x).reshape(x.shape[0])
