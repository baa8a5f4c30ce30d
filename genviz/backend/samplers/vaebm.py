"""VAEBM samplers (Xiao, Kreis, Kautz & Vahdat 2021; Xiao 2022 Ch. 4): Langevin in the VAE's noise space ε,
and the same chain run directly in (x, z) with one step size (the Fig. 4.19 comparison).

``vaebm-langevin``: the target on ε is h(ε) ∝ e^{−E(T(ε))} N(ε; 0, I) (Eq. 4.19), potential
U(ε) = E(T(ε)) + ½‖ε‖², and each step is ε ← ε − (η/2)∇_ε U + √η ω, ω ~ N(0, I) (Xiao 2022 L1934; convention B
of ``samplers.langevin``); ``noise=False`` drops the noise (gradient flow). The chain starts from ε ~ N(0, I),
so record 0 is the base VAE's own sample for that seed. Records carry x = T(ε), stats ``energy`` E(x),
``grad_norm`` ‖∇_ε U‖, ``potential`` U, ``z_norm`` ‖ε‖ and the step's ``drift``/``noise``: the ε-terms pushed
through the generator's Jacobian (J_T(ε)·Δε, forward-mode AD), so they are images of x's shape whose sum is
x's change to first order (``decode_terms=False`` skips that, leaving them None); stats
``eps_drift_norm``/``eps_noise_norm`` are the ε-terms' own norms.

``vaebm-xz``: the joint target p(x, z) ∝ p(x|z) N(z; 0, I) e^{−E(x)} with p(x|z) = N(μ(z), σ_x² I), potential
U(x, z) = E(x) + ‖x − μ(z)‖²/(2σ_x²) + ½‖z‖², one step size η for x and z. Its x-direction curvature is
1/σ_x², so a step that moves z at all is unstable in x, and a stable one leaves z almost still: why VAEBM
samples in ε (Xiao 2022 §4.3.3, Fig. 4.19). x0_hat = μ(z) (what the latent decodes to now).

Both accept, instead of a noise, an image (N, *data_shape) as the start (a branch from a chain record): its ε is
the encoder's posterior mean μ(x) (and, for a Gaussian decoder, ε_x = (x − μ(ε_z))/σ_x), an approximate inverse.
"""
from __future__ import annotations

import math
from typing import Iterator

import torch

from .base import ChainStep, Param, SamplerSpec, register
from .langevin import _check, _noise, _norms


def _start(model, z: torch.Tensor) -> torch.Tensor:
    """The noise ε (N, noise_dim) to start from: z itself, or the encoder's inverse of an image."""
    if tuple(z.shape[1:]) != tuple(model.data_shape) or tuple(z.shape[1:]) == tuple(model.latent_shape):
        return model._check_z(z)
    x = z.to(model.device, torch.float32)
    with torch.inference_mode():
        mu, _ = model.net.vae.encode(x)
        if not model.net.gaussian:
            return mu.clone()
        return torch.cat([mu, (x - model.net.mean(mu)) / model.obs_std], 1)


def vaebm_langevin(model, z: torch.Tensor, *, steps: int, generator: torch.Generator, step_size: float = 0.01,
                   noise: bool = True, decode_terms: bool = True, max_norm: float = 1e4) -> Iterator[ChainStep]:
    """ε-space Langevin of a ``VAEBMModel`` (module docstring).

    Args: z (N, noise_dim) the starting noise (``model.prior_latent``) or an image batch; step_size η > 0.
    Yields: ``steps + 1`` records (record 0 the start). Raises: ChainDiverged when ‖ε‖ exceeds ``max_norm`` or
    turns non-finite.
    """
    eps = _start(model, z)
    u, g, x, en = model.potential(eps)
    yield ChainStep(index=0, steps=steps, t=None, t_next=None, sigma=0.0, x=x,
                    stats={"energy": en, "grad_norm": _norms(g), "potential": u, "z_norm": _norms(eps),
                           "x_norm": _norms(x), "z": eps})
    std = math.sqrt(step_size)
    for i in range(steps):
        d_eps = -(step_size / 2) * g
        n_eps = std * _noise(eps, generator) if noise else torch.zeros_like(eps)
        drift = noise_x = None
        if decode_terms:
            drift, noise_x = model.push_forward(eps, d_eps, n_eps)
        eps = eps + d_eps + n_eps
        _check(eps, i + 1, max_norm)
        u, g, x, en = model.potential(eps)
        yield ChainStep(index=i + 1, steps=steps, t=None, t_next=None, sigma=0.0, x=x, drift=drift, noise=noise_x,
                        stats={"energy": en, "grad_norm": _norms(g), "potential": u, "z_norm": _norms(eps),
                               "x_norm": _norms(x), "eps_drift_norm": _norms(d_eps), "eps_noise_norm": _norms(n_eps),
                               "z": eps})


def _xz_potential(model, x: torch.Tensor, z: torch.Tensor, s: float):
    """U(x, z), ∇_x U, ∇_z U, E(x), μ(z) for the (x, z)-space chain."""
    with torch.inference_mode(False), torch.enable_grad():
        xg = x.detach().clone().requires_grad_(True)
        zg = z.detach().clone().requires_grad_(True)
        mu = model.net.mean(zg)
        en = model.net(xg)
        u = en + ((xg - mu) ** 2).flatten(1).sum(1) / (2 * s * s) + 0.5 * (zg ** 2).sum(1)
        gx, gz = torch.autograd.grad(u.sum(), (xg, zg))
    return u.detach(), gx.detach(), gz.detach(), en.detach(), mu.detach()


def vaebm_xz(model, z: torch.Tensor, *, steps: int, generator: torch.Generator, step_size: float = 0.01,
             obs_std: float = 0.0, noise: bool = True, max_norm: float = 1e4) -> Iterator[ChainStep]:
    """(x, z)-space Langevin of a ``VAEBMModel`` with one step size (module docstring).

    Args: z (N, noise_dim) noise (the start is x = T(ε), z = ε_z: the ε-chain's record 0) or an image batch;
        obs_std σ_x > 0 of p(x|z), 0 = the decoder's own (the toy VAE's; the MNIST VAE's Bernoulli decoder has
        none, so 0 means 0.1 there, in model units).
    Yields: records with x, x0_hat = μ(z), drift/noise the x-parts of the step, stats ``energy``, ``grad_norm``
        (‖∇U‖ over x and z), ``z_norm``, ``x_norm``, ``gap`` ‖x − μ(z)‖. Raises: ChainDiverged.
    """
    s = float(obs_std) if obs_std > 0 else (model.obs_std if model.obs_std > 0 else 0.1)
    eps = _start(model, z)
    d = model.latent_dim
    with torch.inference_mode():
        x = model.net.transform(eps).clone()
    zz = eps[:, :d].clone()
    u, gx, gz, en, mu = _xz_potential(model, x, zz, s)

    def stats():
        return {"energy": en, "grad_norm": torch.sqrt(_norms(gx) ** 2 + _norms(gz) ** 2), "potential": u,
                "z_norm": _norms(zz), "x_norm": _norms(x), "gap": _norms(x - mu), "z": zz}

    yield ChainStep(index=0, steps=steps, t=None, t_next=None, sigma=0.0, x=x, x0_hat=mu, stats=stats())
    std = math.sqrt(step_size)
    for i in range(steps):
        dx, dz = -(step_size / 2) * gx, -(step_size / 2) * gz
        nx = std * _noise(x, generator) if noise else torch.zeros_like(x)
        nz = std * _noise(zz, generator) if noise else torch.zeros_like(zz)
        x, zz = x + dx + nx, zz + dz + nz
        _check(x, i + 1, max_norm)
        _check(zz, i + 1, max_norm)
        u, gx, gz, en, mu = _xz_potential(model, x, zz, s)
        yield ChainStep(index=i + 1, steps=steps, t=None, t_next=None, sigma=0.0, x=x, x0_hat=mu, drift=dx, noise=nx,
                        stats=stats())


_STEP = Param("step_size", "float", 0.01, "η in ε ← ε − (η/2)∇U + √η ω (Xiao 2022 uses 0.01 for small VAEs)",
              minimum=1e-8, maximum=10.0)
_NOISE = Param("noise", "bool", True, "add the Langevin noise √η ω (off: gradient flow down U)")
_MAXN = Param("max_norm", "float", 1e4, "stop when a state's norm exceeds this", minimum=1.0)

register(SamplerSpec(
    name="vaebm-langevin", title="VAEBM Langevin in ε (noise space)", kind="vaebm", fn=vaebm_langevin,
    stochastic=True, grid="latent", plot_keys=("energy", "grad_norm", "x_norm"),
    caption="nudged the VAE's noise toward images the energy likes, plus a random jitter, and decoded it",
    params=(_STEP, _NOISE, Param("decode_terms", "bool", True, "show the drift and noise as images (J_T·Δε; "
                                 "off: faster)"), _MAXN),
    description="Xiao et al. 2021 (VAEBM), Eq. 4.19: Langevin on ε with U = E(T(ε)) + ½‖ε‖²."))
register(SamplerSpec(
    name="vaebm-xz", title="VAEBM Langevin in (x, z), one step size", kind="vaebm", fn=vaebm_xz,
    stochastic=True, grid="latent", plot_keys=("energy", "grad_norm", "x_norm"),
    caption="nudged the image and its latent together with one step size (the badly conditioned way)",
    params=(_STEP, Param("obs_std", "float", 0.0, "σ_x of p(x|z) = N(μ(z), σ_x² I); 0 = the decoder's own "
                         "(0.1 for the MNIST VAE's Bernoulli decoder)", minimum=0.0, maximum=10.0), _NOISE, _MAXN),
    description="Xiao 2022 Fig. 4.19: the VAEBM chain in data and latent space, one step size for both."))
