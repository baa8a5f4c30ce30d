"""Latent-variable families: VAEs and GANs (decode z ~ N(0, I)), their 2-D toy variants, and normalizing flows."""
from __future__ import annotations

from typing import Iterator, Protocol, cast

import torch
from torch import nn

from ..registry import FamilySpec, register_family, traits
from .base import BaseModel, toy_data_sampler


class _ConvVAENet(Protocol):
    """What ``VAEModel`` calls on its network (``nets.latent.ConvVAE``). This and the protocols below name the
    methods a family's network classes provide and ``nn.Module`` does not declare."""

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]: ...
    def decode_logits(self, z: torch.Tensor) -> torch.Tensor: ...


class _FlowNet(Protocol):
    def log_prob(self, x: torch.Tensor) -> torch.Tensor: ...
    def sample_from(self, z: torch.Tensor) -> torch.Tensor: ...
    def inverse_layers(self, z: torch.Tensor) -> Iterator[torch.Tensor]: ...
    def encode(self, x: torch.Tensor) -> torch.Tensor: ...


class _ToyVAENet(Protocol):
    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]: ...
    def decode(self, z: torch.Tensor) -> torch.Tensor: ...
    def elbo(self, x: torch.Tensor, k: int = 1, generator: torch.Generator | None = None) -> torch.Tensor: ...


class _ToyGANNet(Protocol):
    def discriminate(self, x: torch.Tensor) -> torch.Tensor: ...


def _toy_sample_data(self, n: int, generator: torch.Generator) -> torch.Tensor:
    """n exact samples (n, 2) of a 2-D toy model's dataset (metadata ``data``), for ``init="data"``; ValueError
    when the dataset is not a known toy."""
    toy = toy_data_sampler(self.metadata)
    if toy is None:
        raise ValueError(f"{self.name}: no data samples available for init='data'")
    return toy(n, generator)


class LatentModel(BaseModel):
    """A decoder from a Gaussian latent z ~ N(0, I) of shape ``latent_shape`` to data (VAE, GAN).

    Seed s maps to the latent ``z_s = torch.randn(latent_shape, generator=torch.Generator().manual_seed(s))``
    (``prior_latent(1, s)[0]``); the ``decode`` sampler (``genviz sample CKPT --n 1 --seed s``) and
    every interpolation path decode exactly this latent.
    """

    family = "latent"
    TRAITS = traits("decode", latent=True)

    def __init__(self, net: nn.Module, metadata: dict, device="cpu"):
        super().__init__(net, metadata, device)
        shape = metadata.get("latent", {}).get("shape")
        if shape is None:
            shape = [int(getattr(net, "latent_dim"))] if hasattr(net, "latent_dim") else None
        if not shape or not all(isinstance(s, int) and s > 0 for s in shape):
            raise ValueError(f"latent.shape must be a list of positive integers, got {shape!r}")
        self.latent_shape = tuple(shape)

    @property
    def default_sampler(self) -> dict:
        return dict(self.metadata.get("sampler", {"name": "decode", "steps": 1}))


    def prior_latent(self, n: int = 1, seed: int = 0, generator: torch.Generator | None = None) -> torch.Tensor:
        """(n, *latent_shape) z ~ N(0, I): one ``torch.randn`` draw on a CPU generator seeded ``seed``.

        n = 1 gives exactly z_seed. (For n > 1, row 0 is *not* z_seed in general: torch's CPU ``randn``
        fills tensors of 16 or more elements with a different, vectorised algorithm.)
        """
        g = generator if generator is not None else torch.Generator().manual_seed(int(seed))
        return torch.randn((n, *self.latent_shape), generator=g)

    def _check_z(self, z: torch.Tensor) -> torch.Tensor:
        if tuple(z.shape[1:]) != self.latent_shape:
            raise ValueError(f"latent has shape {tuple(z.shape)}, expected (N, {', '.join(map(str, self.latent_shape))})")
        return z.to(self.device, torch.float32)

    def decode(self, z: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError


class VAEModel(LatentModel):
    """A variational autoencoder (Kingma & Welling 2014).

    ``encode(x)``: (N, *data_shape) model space -> (μ, log σ²), each (N, *latent_shape): q(z|x) = N(μ, σ²).
    ``decode(z)``: (N, *latent_shape) -> (N, *data_shape) in model space: the mean of p(x|z)
    (for the Bernoulli likelihood, sigmoid(logits) mapped from [0, 1] to the data range).
    Raises ValueError on a wrongly shaped input.
    """

    family = "vae"
    TRAITS = traits("decode", latent=True, encoder=True)

    @torch.inference_mode()
    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if tuple(x.shape[1:]) != self.data_shape:
            raise ValueError(f"image has shape {tuple(x.shape)}, expected (N, {', '.join(map(str, self.data_shape))})")
        mu, logvar = cast(_ConvVAENet, self.net).encode(x.to(self.device, torch.float32))
        return mu, logvar

    @torch.inference_mode()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        logits = cast(_ConvVAENet, self.net).decode_logits(self._check_z(z))
        return self.from_unit(torch.sigmoid(logits))


class GANModel(LatentModel):
    """A GAN generator G: z ~ N(0, I) -> x (Goodfellow et al. 2014; DCGAN, Radford et al. 2016).

    ``generate(z)`` (alias ``decode``): (N, *latent_shape) -> (N, *data_shape) in model space. The
    network runs in eval mode (BatchNorm uses stored statistics), so an image does not depend on the
    batch it is generated in. A GAN has no encoder: ``encode`` raises ValueError.
    """

    family = "gan"
    TRAITS = traits("decode", latent=True)

    @torch.inference_mode()
    def generate(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(self._check_z(z))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.generate(z)

    def encode(self, x):
        raise ValueError(f"{self.name}: a GAN has no encoder; real images can be endpoints for a VAE "
                         "(encoder) or a diffusion model (DDIM inversion)")


class FlowModel(BaseModel):
    """A normalizing flow with exact density (Dinh et al. 2017; Durkan et al. 2019, neural spline flows).

    The network maps data x to base noise z ~ N(0, I) invertibly; ``log_prob(x)`` = log N(f(x); 0, I)
    + log|det ∂f/∂x| (change of variables), exact. Sampling pushes z through f⁻¹; the ``flow`` sampler
    yields the state after each inverse layer (``steps`` = number of layers).

    ``log_prob(x)``: (N, *data_shape) -> (N,) nats. ``sample_from(z)``: (N, *data_shape) -> same.
    """

    family = "flow"
    TRAITS = traits("flow", density=True, latent=True, encoder=True)

    def __init__(self, net, metadata: dict, device="cpu"):
        if not all(hasattr(net, a) for a in ("log_prob", "inverse_layers", "sample_from")):
            raise ValueError(f"network {type(net).__name__} is not supported as a flow model "
                             "(needs log_prob, inverse_layers and sample_from, e.g. ToySplineFlow)")
        super().__init__(net, metadata, device)

    @property
    def n_layers(self) -> int:
        return int(getattr(self.net, "n_layers", 1))

    @property
    def default_sampler(self) -> dict:
        return dict(self.metadata.get("sampler", {"name": "flow", "steps": self.n_layers, "temperature": 1.0}))


    @torch.inference_mode()
    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        return cast(_FlowNet, self.net).log_prob(x.to(self.device))

    @torch.inference_mode()
    def sample_from(self, z: torch.Tensor) -> torch.Tensor:
        return cast(_FlowNet, self.net).sample_from(z.to(self.device))

    def inverse_layers(self, z: torch.Tensor):
        with torch.inference_mode():
            yield from cast(_FlowNet, self.net).inverse_layers(z.to(self.device))

    @property
    def latent_shape(self) -> tuple:
        """The base space has the data's shape (a flow is a bijection)."""
        return tuple(self.data_shape)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """x = f⁻¹(z): (N, *data_shape) base noise to data (what interpolation decodes)."""
        return self.sample_from(z)

    @torch.inference_mode()
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """z = f(x): (N, *data_shape) data to base noise; ValueError for a network without ``encode``."""
        if not callable(getattr(self.net, "encode", None)):
            raise ValueError(f"{self.name}: this flow network cannot map data to its base space")
        return cast(_FlowNet, self.net).encode(x.to(self.device))

    sample_data = _toy_sample_data


class ToyVAEModel(VAEModel):
    """A 2-D toy VAE (``ToyVAE`` network): Gaussian decoder p(x|z) = N(dec(z), obs_std² I), so ``decode``
    returns the decoder mean in data units (no sigmoid), and ``elbo(x)`` -> (N,) nats is a lower bound
    on log p(x) (Kingma & Welling 2014, Eq. 3), averaged over ``k`` fixed-seed posterior draws."""

    TRAITS = traits("decode", latent=True, encoder=True, elbo=True)

    def __init__(self, net, metadata: dict, device="cpu"):
        if not all(hasattr(net, a) for a in ("latent_dim", "decode", "elbo")):
            raise ValueError(f"network {type(net).__name__} is not supported as a toy vae model "
                             "(needs latent_dim, decode and elbo, e.g. ToyVAE)")
        super().__init__(net, metadata, device)


    @torch.inference_mode()
    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return cast(_ToyVAENet, self.net).encode(x.to(self.device, torch.float32))

    @torch.inference_mode()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return cast(_ToyVAENet, self.net).decode(self._check_z(z))

    @torch.inference_mode()
    def elbo(self, x: torch.Tensor, k: int = 8) -> torch.Tensor:
        return cast(_ToyVAENet, self.net).elbo(x.to(self.device), k=k, generator=torch.Generator().manual_seed(0))

    sample_data = _toy_sample_data


class ToyGANModel(GANModel):
    """A 2-D toy GAN (``ToyGAN`` network: generator and discriminator). No density; ``discriminate(x)``
    -> (N,) logits of D (Goodfellow et al. 2014)."""

    TRAITS = traits("decode", latent=True, discriminator=True)

    def __init__(self, net, metadata: dict, device="cpu"):
        if not all(hasattr(net, a) for a in ("latent_dim", "generate", "discriminate")):
            raise ValueError(f"network {type(net).__name__} is not supported as a toy gan model "
                             "(needs latent_dim, generate and discriminate, e.g. ToyGAN)")
        super().__init__(net, metadata, device)


    def elbo(self, x, k: int = 8):
        raise ValueError(f"a {self.family} model has no density or ELBO")

    @torch.inference_mode()
    def discriminate(self, x: torch.Tensor) -> torch.Tensor:
        return cast(_ToyGANNet, self.net).discriminate(x.to(self.device))

    sample_data = _toy_sample_data


def _net(module: str, name: str):
    def load():
        import importlib
        return getattr(importlib.import_module(f"genviz.backend.nets.{module}"), name)
    return load


register_family(FamilySpec("vae", "Variational autoencoder", VAEModel,
                           networks={"ConvVAE": _net("latent", "ConvVAE"), "ToyVAE": _net("toy", "ToyVAE")},
                           variants={"ToyVAE": ToyVAEModel}))
register_family(FamilySpec("gan", "Generative adversarial network", GANModel,
                           networks={"DCGANGenerator": _net("latent", "DCGANGenerator"), "ToyGAN": _net("toy", "ToyGAN")},
                           variants={"ToyGAN": ToyGANModel}))
register_family(FamilySpec("flow", "Normalizing flow (exact density)", FlowModel,
                           networks={"ToySplineFlow": _net("toy", "ToySplineFlow")}))
