"""One adversarial update of a denoising diffusion GAN (Xiao et al. 2022, Algorithm 1), shared by the MNIST and
the toy recipes."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def adversarial_step(gen, disc, opt_g, opt_d, x_prev: torch.Tensor, x_t: torch.Tensor, fake_prev: torch.Tensor,
                     i: torch.Tensor, r1_gamma: float = 0.0, r1_scale: float = 1.0,
                     train_g: bool = True) -> tuple[float, float]:
    """The discriminator's then (``train_g``) the generator's step on one batch; returns (D loss, G loss) as floats.

    Non-saturating losses: L_D = softplus(−D(x_{t−1}, x_t, t)) + softplus(D(x'_{t−1}, x_t, t)) with x_{t−1} the
    real pair's state and x'_{t−1} ~ q(x_{t−1} | x_t, G(x_t, z, t)) the fake one; L_G = softplus(−D(x'_{t−1}, x_t,
    t)), through the updated D. With ``r1_gamma`` > 0, L_D adds the R1 penalty r1_scale · (γ/2) ‖∇_{x_{t−1}}
    D‖² on the real state (Mescheder et al. 2018; thesis Eq. 6.16; ``r1_scale`` = k when it is applied lazily
    every k steps).

    Args:
        x_prev, x_t: (N, ...) a real pair (x_{t−1}, x_t); x_prev gets requires_grad for R1.
        fake_prev: (N, ...) the generator's x'_{t−1} (with its graph, for the generator's step).
        i: (N,) step indices 0..T−1.
        train_g: False for a discriminator-only step (a fresh D's warm-up against a warm-started G): G's loss is
            only measured.
    """
    r1 = r1_gamma > 0
    x_prev.requires_grad_(r1)
    d_real = disc(x_prev, x_t, i)
    d_loss = F.softplus(-d_real).mean() + F.softplus(disc(fake_prev.detach(), x_t, i)).mean()
    if r1:
        (grad,) = torch.autograd.grad(d_real.sum(), x_prev, create_graph=True)
        d_loss = d_loss + r1_scale * 0.5 * r1_gamma * grad.pow(2).flatten(1).sum(1).mean()
    opt_d.zero_grad(set_to_none=True)
    d_loss.backward()
    opt_d.step()
    if not train_g:
        with torch.no_grad():
            return float(d_loss.detach()), float(F.softplus(-disc(fake_prev, x_t, i)).mean())
    g_loss = F.softplus(-disc(fake_prev, x_t, i)).mean()
    opt_g.zero_grad(set_to_none=True)
    g_loss.backward()
    opt_g.step()
    return float(d_loss.detach()), float(g_loss.detach())


@torch.no_grad()
def ema_update(ema_model, model, it: int, decay: float) -> None:
    """ema ← d·ema + (1 − d)·θ with the warm-up d = min(decay, (1 + it)/(10 + it)) (early weights are not
    dominated by the random start)."""
    d = min(decay, (1 + it) / (10 + it))
    for pe, pn in zip(ema_model.parameters(), model.parameters()):
        pe.lerp_(pn, 1 - d)
