"""Conditioning a denoising diffusion GAN (Xiao et al. 2022) on an image: stroke editing in T = 4 steps and the
"perturb a real digit" probe (thesis Figs. 6.14–6.15). torch only; no Qt.

Stroke editing (SDEdit, Meng et al. 2022, Alg. 1, on the DDGAN's own T-step grid): from a drawing y (model space),
pick k in 1..T (k = round(t0·T)), noise it to the paper's step t = k,

    x_k = √ᾱ_k y + √(1 − ᾱ_k) ε,   ε ~ N(0, I),

and run the remaining k steps of the ``ddgan`` sampler (``samplers.ddgan.ddgan(model, x_k, steps=k)``: x̂₀ =
G(x_t, z, t), x_{t−1} ~ q(x_{t−1} | x_t, x̂₀)). k = T starts from pure noise x_T ~ N(0, I) (the drawing is then
used only through a mask or ILVR); t0 = 0 returns the drawing. Masks (SDEdit Alg. 3 / RePaint Eq. 8): after every
step to index i − 1 the kept region (m = 0) is replaced by y noised to that level (exactly y after the last step).
ILVR (Choi et al. 2021, Eq. 8): after every step, x ← x − φ_N(x) + φ_N(y_{t'}) with y_{t'} the drawing noised to
the new level (``conditioning.lowpass``), while t' >= ``ilvr_stop``·T. With no mask and no ILVR the chain equals
``ddgan(model, x_k, steps=k, generator=g)`` bit for bit (the steps are run one by one with the same generator).

Perturb a real digit (Figs. 6.14–6.15): for each t = 1..T noise a real x₀ to x_t ~ q(x_t | x₀) and draw K
predictions x̂₀ = G(x_t, z_j, t): at small t they are the digit, at t = T they no longer depend on it.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, Generator, cast

import torch

EDIT_SAMPLERS = ("ddgan",)


def supports(model) -> bool:
    """True when ``model`` is stepped by the ``ddgan`` sampler kind (its traits) and makes images."""
    return "ddgan" in getattr(getattr(model, "traits", None), "sampler_kinds", ()) and len(
        getattr(model, "data_shape", ())) == 3


def t0_to_steps(t0: float, T: int) -> int:
    """Fraction t0 in [0, 1] -> the number of DDGAN steps k = round(t0·T) in 0..T (0: keep the drawing).

    Raises:
        ValueError: t0 not a number in [0, 1].
    """
    try:
        t0 = float(t0)
    except (TypeError, ValueError):
        raise ValueError(f"t0 must be a number in [0, 1], got {t0!r}") from None
    if not 0.0 <= t0 <= 1.0:
        raise ValueError(f"t0 must be a fraction of T in [0, 1], got {t0}")
    return int(round(t0 * T))


def _one_step(model, x: torch.Tensor, s: int, g: torch.Generator):
    from .samplers.ddgan import ddgan
    it = cast(Generator, ddgan(model, x, steps=s, generator=g))
    next(it)
    rec = next(it)
    it.close()
    return rec


def ddgan_sdedit(model, y: torch.Tensor, *, t0: float = 0.5, n: int = 4, seed: int = 0, mask: torch.Tensor | None = None,
                 ilvr: int = 0, ilvr_stop: float = 0.0,
                 callback: Callable[[int, int, torch.Tensor, torch.Tensor | None], bool | None] | None = None):
    """Stroke editing with a DDGAN: noise ``y`` to step k = round(t0·T) and run the remaining k steps (module doc).

    Args:
        model: a ``ddgan.DDGANModel`` of images (``supports``).
        y: (C, H, W) drawing in model space.
        t0: fraction of T in [0, 1]; n: K candidates (>= 1); seed: fixes ε, every z and every posterior noise.
        mask: None or (1, H, W) in [0, 1] (1 = regenerate, 0 = keep); unmasked output pixels equal y.
        ilvr: low-pass factor N (0 or 1: off); ilvr_stop: ILVR acts while the next index >= ilvr_stop·T − 1.
        callback: ``callback(i, k, x, x0_hat)`` after each step; False cancels (``InterruptedError``).
    Returns:
        ``conditioning.SDEditResult``: samples (K, C, H, W) CPU model space, x_t0 (the noised drawing), y, mask,
        t_start (index k − 1; T for pure noise; 0 with no steps), timesteps (indices k − 1..0), seconds.
    Raises:
        ValueError: not a DDGAN of images, bad t0/n/ilvr, y or mask of the wrong shape. InterruptedError.
    """
    from .conditioning import SDEditResult, lowpass
    start = time.perf_counter()
    if not supports(model):
        raise ValueError(f"DDGAN editing needs a denoising diffusion GAN of images, got {getattr(model, 'name', model)!r}")
    shape = tuple(model.data_shape)
    if tuple(y.shape) != shape:
        raise ValueError(f"drawing has shape {tuple(y.shape)}, expected {shape}")
    if mask is not None and tuple(mask.shape) != (1, *shape[1:]):
        raise ValueError(f"mask has shape {tuple(mask.shape)}, expected (1, {shape[1]}, {shape[2]})")
    n, ilvr, T = int(n), int(ilvr), model.num_timesteps
    if n < 1:
        raise ValueError(f"n (candidates) must be >= 1, got {n}")
    if ilvr < 0:
        raise ValueError(f"ilvr factor must be >= 0, got {ilvr}")
    k = t0_to_steps(t0, T)
    y = y.detach().float().cpu()
    m = mask.detach().float().cpu().clamp(0, 1) if mask is not None else None
    yb = y.unsqueeze(0).expand(n, *shape).contiguous()
    if k == 0:
        return SDEditResult(yb.clone(), yb.clone(), y, m, 0, [], time.perf_counter() - start)
    g = torch.Generator().manual_seed(int(seed))
    dev = model.device
    acp = model.schedule.alphas_cumprod
    y_dev = yb.to(dev)
    m_dev = m.to(dev) if m is not None else None

    def noised(i: int) -> torch.Tensor:
        if i < 0:
            return y_dev
        a = float(acp[i])
        return math.sqrt(a) * y_dev + math.sqrt(1 - a) * torch.randn((n, *shape), generator=g).to(dev)

    eps = torch.randn((n, *shape), generator=g).to(dev)
    a0 = float(acp[k - 1])
    x = eps if k == T else math.sqrt(a0) * y_dev + math.sqrt(1 - a0) * eps
    x_first = x.detach().float().cpu().clone()
    with torch.inference_mode():
        for s in range(k, 0, -1):
            rec = _one_step(model, x, s, g)
            x, nxt = rec.x, s - 2  # the new state's index (−1: clean)
            if ilvr > 1 and nxt >= ilvr_stop * T - 1:
                x = x - lowpass(x, ilvr) + lowpass(noised(nxt), ilvr)
            if m_dev is not None:
                x = m_dev * x + (1 - m_dev) * noised(nxt)
            if callback is not None and callback(k - s + 1, k, x, rec.x0_hat) is False:
                raise InterruptedError("DDGAN editing cancelled")
    samples = x.detach().float().cpu()
    if m is not None:
        samples = torch.where(m == 0, y.expand_as(samples), samples)
    return SDEditResult(samples, x_first, y, m, T if k == T else k - 1, list(range(k - 1, -1, -1)),
                        time.perf_counter() - start)


@dataclass
class Perturbation:
    """What ``perturb_real`` returns: ``x0`` (N, C, H, W) the real images; ``x_t`` (T, N, C, H, W) them noised to
    each index i = t − 1; ``x0_hat`` (T, N, K, C, H, W) K generator draws from each; all CPU model space."""

    x0: torch.Tensor
    x_t: torch.Tensor
    x0_hat: torch.Tensor


@torch.inference_mode()
def perturb_real(model, x0: torch.Tensor, k: int = 8, generator: torch.Generator | None = None) -> Perturbation:
    """Noise real images to every step t = 1..T and draw K x̂₀ = G(x_t, z, t) from each (thesis Figs. 6.14–6.15).

    Args:
        model: a ``DDGANModel``; x0: (N, *data_shape) real data in model space; k: draws per step (>= 1);
        generator: CPU generator; per index i = 0..T−1 in turn: ε = randn(x0.shape), then k z's
            (``samplers.ddgan.resample_x0``).
    Returns:
        ``Perturbation``.
    Raises:
        ValueError: k < 1 or x0 of the wrong shape.
    """
    from .samplers.ddgan import resample_x0
    if tuple(x0.shape[1:]) != tuple(model.data_shape):
        raise ValueError(f"x0 has shape {tuple(x0.shape)}, expected (N, {', '.join(map(str, model.data_shape))})")
    if int(k) < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    g = generator if generator is not None else torch.Generator().manual_seed(0)
    x0 = x0.detach().float().cpu()
    xs, hats = [], []
    for i in range(model.num_timesteps):
        idx = torch.full((len(x0),), i, dtype=torch.long)
        x_t = model.schedule.q_sample(x0, idx, torch.randn(x0.shape, generator=g))
        xs.append(x_t)
        hats.append(resample_x0(model, x_t, i, int(k), g).float().cpu())
    return Perturbation(x0, torch.stack(xs), torch.stack(hats))


def perturb_heldout(model, index: int = 0, k: int = 8, seed: int = 0) -> tuple[Perturbation, int]:
    """``perturb_real`` on held-out MNIST digit ``index`` (0..999, ``data.load_mnist("test")``, never trained on);
    returns (the perturbation of that one digit, its label). Raises IndexError for an index outside 0..999."""
    from .data import load_mnist, to_model_space
    images, labels = load_mnist("test")
    if not 0 <= int(index) < len(images):
        raise IndexError(f"held-out digit index must be in 0..{len(images) - 1}, got {index}")
    x0 = to_model_space(images[int(index):int(index) + 1])
    return perturb_real(model, x0, k, torch.Generator().manual_seed(int(seed))), int(labels[int(index)])
