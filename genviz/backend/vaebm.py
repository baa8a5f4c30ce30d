"""The VAEBM family ``vaebm`` (Xiao, Kreis, Kautz & Vahdat 2021; Xiao 2022 Ch. 4): a VAE tilted by an energy.

p(x) ∝ p_VAE(x) e^{−E(x)} (Eq. 4.12). Sampling runs Langevin in the VAE's noise space: with x = T(ε) the
VAE's generator (Eq. 4.18), the target on ε is h(ε) ∝ e^{−E(T(ε))} N(ε; 0, I) (Eq. 4.19), potential
U(ε) = E(T(ε)) + ½‖ε‖². The bundled ``mnist-vae`` has a Bernoulli decoder whose mean is a deterministic
function of z, so there ε = ε_z and U(z) = E(μ(z)) + ½‖z‖² (the samples are decoder means, as the VAE's own
``decode`` sampler shows them); the 2-D toy VAE's decoder is Gaussian, so there ε = (ε_z, ε_x) and
x = μ(ε_z) + σ_x ε_x. Samplers: ``samplers.vaebm`` (ε-space Langevin, and the (x, z)-space chain of Fig. 4.19).
"""
from __future__ import annotations

import math
from typing import Any

import torch

from .families.base import toy_data_sampler
from .families.latent import LatentModel
from .registry import FamilySpec, register_family, traits

LOG2PI = math.log(2 * math.pi)


class VAEBMModel(LatentModel):
    """A VAEBM: base VAE (frozen) + energy network (``nets.vaebm.VAEBMNet``).

    ``latent_shape`` = (noise_dim,): the noise ε the sampler moves (ε_z, plus ε_x for a Gaussian decoder);
    ``prior_latent(n, seed)`` draws it from N(0, I) exactly as the base VAE's ``decode`` sampler draws z, so
    the same seed starts a VAEBM chain from the base VAE's own sample.
    ``decode(eps)``: (N, noise_dim) -> x = T(ε) (N, *data_shape), the base VAE's sample for that noise.
    ``energy(x)``: (N, *data_shape) -> (N,) E(x) (differentiable). ``potential(eps)`` -> (U, ∇_ε U, x, E(x)):
    (N,), (N, noise_dim), (N, *data_shape), (N,), with gradients on even under inference mode.
    Raises ValueError on a wrongly shaped input.
    """

    family = "vaebm"
    TRAITS = traits("vaebm", energy=True)

    def __init__(self, net, metadata: dict, device="cpu"):
        if not all(hasattr(net, a) for a in ("transform", "mean", "noise_dim", "energy")):
            raise ValueError(f"network {type(net).__name__} is not supported as a vaebm model (e.g. VAEBMNet)")
        super().__init__(net, metadata, device)
        if self.latent_shape != (int(net.noise_dim),):
            raise ValueError(f"latent.shape {list(self.latent_shape)} does not match the network's noise size "
                             f"{int(net.noise_dim)}")

    @property
    def _v(self) -> Any:
        """The ``VAEBMNet`` (typed loosely: its submodules are whitelisted classes)."""
        return self.net

    @property
    def default_sampler(self) -> dict:
        return dict(self.metadata.get("sampler", {"name": "vaebm-langevin", "steps": 100, "step_size": 0.01}))

    @property
    def latent_dim(self) -> int:
        return int(self._v.latent_dim)

    @property
    def obs_std(self) -> float:
        """σ_x of a Gaussian decoder (0 for the Bernoulli decoder of the MNIST VAE)."""
        return float(self._v.obs_std)

    @torch.inference_mode()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self._v.transform(self._check_z(z))

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[1:]) != self.data_shape:
            raise ValueError(f"x has shape {tuple(x.shape)}, expected (N, {', '.join(map(str, self.data_shape))})")
        return self.net(x.to(self.device, torch.float32))

    def potential(self, eps: torch.Tensor):
        """U(ε) = E(T(ε)) + ½‖ε‖² (Eq. 4.19) and its gradient by autograd; see the class docstring."""
        eps = self._check_z(eps)
        with torch.inference_mode(False), torch.enable_grad():
            e_ = eps.detach().clone().requires_grad_(True)
            x = self._v.transform(e_)
            en = self.net(x)
            u = en + 0.5 * (e_ ** 2).sum(1)
            (g,) = torch.autograd.grad(u.sum(), e_)
        return u.detach(), g.detach(), x.detach(), en.detach()

    def push_forward(self, eps: torch.Tensor, *vs: torch.Tensor) -> list[torch.Tensor]:
        """J_T(ε) v for each v (N, noise_dim): what a small ε-move does to x, to first order (forward-mode AD);
        each result has x's shape. Used to show an ε-step's drift and noise as images."""
        from torch.func import jvp
        eps = self._check_z(eps)
        with torch.inference_mode(False), torch.enable_grad():
            return [jvp(self._v.transform, (eps.detach().clone(),), (v.detach().clone(),))[1].detach()
                    for v in vs]

    # ---- 2-D toy densities (Gaussian decoder) ------------------------------------------------------------
    def iwae(self, x: torch.Tensor, k: int = 1000, seed: int = 0, chunk: int = 100, grad: bool = False) -> torch.Tensor:
        """The base VAE's importance-weighted bound (Burda et al. 2016, Eq. 8) on log p_VAE(x), (N,) nats:
        log (1/k) Σ_i p(x|z_i) p(z_i) / q(z_i|x), z_i ~ q(z|x); increases with k towards log p_VAE(x).
        x: (N, 2). ValueError for a model without a Gaussian decoder (the MNIST VAE's Bernoulli likelihood
        has no density on continuous x). ``grad=True`` keeps the graph (for ∇_x; call it with grad enabled)."""
        if not self._v.gaussian:
            raise ValueError(f"{self.name}: the IWAE bound needs the toy VAE's Gaussian decoder")
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        g = torch.Generator().manual_seed(int(seed))
        x = x.to(self.device, torch.float32)
        vae, s = self._v.vae, self.obs_std
        with torch.inference_mode(not grad):
            mu, logvar = vae.encode(x)
            std = (0.5 * logvar).exp()
            parts = []
            for start in range(0, k, chunk):
                kk = min(chunk, k - start)
                e = torch.randn((kk, *mu.shape), generator=g).to(self.device)
                z = mu + std * e                                                    # (kk, N, d)
                xm = vae.decode(z.reshape(-1, mu.shape[1])).reshape(kk, *x.shape)
                log_px = (-((x - xm) ** 2).sum(-1) / (2 * s * s) - x.shape[-1] * (math.log(s) + 0.5 * LOG2PI))
                log_pz = -0.5 * (z ** 2).sum(-1) - 0.5 * z.shape[-1] * LOG2PI
                log_q = -0.5 * (e ** 2).sum(-1) - (0.5 * logvar).sum(-1) - 0.5 * z.shape[-1] * LOG2PI
                parts.append(log_px + log_pz - log_q)
            w = torch.cat(parts).double()
            return (torch.logsumexp(w, 0) - math.log(k)).float()

    def log_unnorm(self, x: torch.Tensor, k: int = 1000) -> torch.Tensor:
        """log p_VAE(x) − E(x) (N,): the VAEBM's unnormalised log-density (Eq. 4.12), p_VAE by ``iwae``."""
        with torch.inference_mode():
            return self.iwae(x, k) - self.energy(x)

    def sample_data(self, n: int, generator: torch.Generator) -> torch.Tensor:
        toy = toy_data_sampler(self.metadata)
        if toy is None:
            raise ValueError(f"{self.name}: no data samples available")
        return toy(n, generator)


def _net():
    from .nets.vaebm import VAEBMNet
    return VAEBMNet


register_family(FamilySpec("vaebm", "VAEBM (VAE tilted by an energy, ε-space Langevin)", VAEBMModel,
                           networks={"VAEBMNet": _net}))
