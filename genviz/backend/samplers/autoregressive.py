"""The ``pixelcnn`` sampler: ancestral sampling of an autoregressive model, x_i ~ p(x_i | x_<i) in raster order
(van den Oord et al. 2016, Sec. 2; Larochelle & Murray 2011).

One chain step draws one pixel (``unit="pixel"``, H·W steps for a whole image) or one row (``unit="row"``, H
steps; the row's W pixels are still drawn one after another, each conditioned on the ones before). With
temperature τ the Bernoulli logit is divided by τ: p_τ(x_i = 1) = σ(ℓ_i/τ) (τ = 1: the model; τ < 1 sharper, τ > 1
more random). Each pixel costs one network pass.

Call contract (``SamplerSpec.grid == "steps"``): ``pixelcnn(model, x, steps=s, generator=g)`` draws the *last* s
units of the raster order and keeps the ones before them as they are in x (binarised at 0: model space has −1 off,
+1 on); s = H·W (or H) is a whole image. The units that are still to be drawn start at −1 (off) and are shown so.
This is how branching works: the chain panel branches from record k with that record's x and steps = total − k, so
pixel k onward is re-drawn. Random numbers: one u = rand((N,)) per pixel, in raster order, from the passed CPU
``generator`` (a seed replays the chain bit for bit; x_init's draw in ``api.chain`` is not used).
"""
from __future__ import annotations

from typing import Iterator

import torch

from .base import ChainStep, Param, SamplerSpec, register


def _units(model, unit: str) -> tuple[int, int]:
    """(number of units in the raster order, pixels per unit)."""
    _, h, w = model.data_shape
    return (h * w, 1) if unit == "pixel" else (h, w)


@torch.inference_mode()
def pixelcnn(model, x: torch.Tensor, *, steps: int, generator: torch.Generator, temperature: float = 1.0,
             unit: str = "pixel") -> Iterator[ChainStep]:
    """Sample an ``AutoregressiveModel`` pixel by pixel, yielding one ``ChainStep`` per pixel (or row).

    Args:
        model: a ``genviz.backend.autoregressive.AutoregressiveModel``.
        x: (N, 1, H, W) model space; the units before the last ``steps`` are kept (binarised at 0).
        steps: s in 1..H·W (``unit="pixel"``) or 1..H (``unit="row"``).
        generator: CPU generator for the Bernoulli draws (one rand((N,)) per pixel, raster order).
        temperature: τ > 0 dividing every logit.
        unit: ``"pixel"`` or ``"row"``: what one step draws.
    Yields:
        ``steps + 1`` records. ``x``: the partial image (drawn pixels ±1, the rest −1). ``t``: the raster index of
        the next pixel to draw (t_next likewise after the step; H·W when done). ``x0_hat``: the belief map, in model
        space, of p(x_j = 1 | x_<j) as drawn for every drawn pixel j and for the next pixel, −1 (p = 0) elsewhere.
        Stats (N,): ``p_next`` p_τ(x_i = 1 | x_<i) of the next pixel i (NaN when done), ``nll`` the running
        −log p_τ of the pixels drawn in this chain (nats), ``x_norm``.
    Raises:
        ValueError: steps out of range, an unknown unit, τ <= 0 or x of the wrong shape.
    """
    if unit not in ("pixel", "row"):
        raise ValueError(f"unit must be 'pixel' or 'row', got {unit!r}")
    n_units, per = _units(model, unit)
    if not 1 <= int(steps) <= n_units:
        raise ValueError(f"steps must be in 1..{n_units} with unit={unit!r} (one step draws one {unit}), got {steps}")
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    s = int(steps)
    hw = model.num_pixels
    start = (n_units - s) * per
    v = (model.unit(x) > 0.5).float().flatten(1).clone()
    v[:, start:] = 0.0
    n = v.shape[0]
    shape = (n, *model.data_shape)
    belief = torch.zeros_like(v)
    nll = torch.zeros(n, device=v.device)

    w = model.data_shape[2]

    def prob(i: int) -> torch.Tensor:  # (N,) p_τ(x_i = 1 | x_<i): one pass on the rows pixel i can see
        return torch.sigmoid(model.logits_row(v.view(shape), i // w)[:, i % w] / temperature)

    def record(k: int, i: int, p_i: torch.Tensor | None) -> ChainStep:
        b = belief.clone()
        p_next = torch.full((n,), float("nan"), device=v.device)
        if p_i is not None and i < hw:
            b[:, i] = p_i
            p_next = p_i
        xs = model.from_unit(v.view(shape).clone())
        return ChainStep(index=k, steps=s, t=i, t_next=i, sigma=float("nan"), x=xs,
                         x0_hat=model.from_unit(b.view(shape)) if k > 0 or start > 0 else None,
                         stats={"p_next": p_next, "nll": nll.clone(), "x_norm": xs.flatten(1).norm(dim=1)})

    p_i: torch.Tensor | None = prob(start) if start < hw else None
    yield record(0, start, p_i)
    i = start
    for k in range(1, s + 1):
        for _ in range(per):
            assert p_i is not None  # computed after every pixel but the image's last
            p = p_i
            u = torch.rand((n,), generator=generator).to(v.device)
            bit = (u < p).float()
            v[:, i] = bit
            belief[:, i] = p
            nll -= torch.where(bit > 0, p, 1 - p).clamp_min(1e-30).log()
            i += 1
            p_i = prob(i) if i < hw else None
        rec = record(k, i, p_i)
        rec.t = i - per
        yield rec


register(SamplerSpec(
    name="pixelcnn", title="Autoregressive (raster order)", kind="autoregressive", fn=pixelcnn, stochastic=True,
    grid="steps", plot_keys=("p_next", "nll"),
    params=(Param("temperature", "float", 1.0, "divides each pixel's logit (1 = the model; < 1 sharper)",
                  minimum=0.05, maximum=10.0),
            Param("unit", "choice", "pixel", "what one step draws: one pixel, or one row of pixels",
                  choices=("pixel", "row"))),
    description="van den Oord et al. 2016 (PixelCNN): draw x_i ~ Bernoulli(σ(ℓ_i(x_<i))/τ) pixel by pixel in "
                "raster order, each conditioned on every pixel drawn before it.",
    caption="drew the next pixel (or row) as a coin flip with the probability the model gives it, seeing only the "
            "pixels above and to the left"))
