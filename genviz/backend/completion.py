"""Completing an image with clamped pixels: an autoregressive model fills the unknown pixels in raster order, an
RBM runs block Gibbs sweeps with the known pixels clamped. The canvas (through ``conditioning.sdedit``) and
``genviz complete`` use it. torch + numpy only.

Known and unknown. ``unknown`` is a (H, W) bool map (a mask's white pixels: mask >= 0.5). Known pixels are given to
the model binarised at the middle of the data range (threshold 0.5 in [0, 1]) and are copied into every output
from the input *bit for bit* (also grey ones: the output is exactly the input there).

- Autoregressive (``AutoregressiveModel``): for each unknown pixel i in raster order, x_i ~ p(x_i | x_<i), where
  x_<i holds the known pixels and the ones drawn before. This is exact conditional sampling only for the known
  pixels *before* pixel i; the known pixels after the first unknown one cannot influence the pixels before them (a
  causal model cannot see ahead), so the fill ignores them: ``visibility`` marks them.
- RBM (``RBMModel``): unknown pixels start as coin flips; then ``steps`` sweeps h ~ p(h | v), v ~ p(v | h), after
  each of which the known pixels are put back. The chain's stationary law is p(v_unknown | v_known) exactly (the
  RBM is undirected: every known pixel counts).

Without a mask, the canvas asks for the last ``t0`` fraction of the raster order (``tail_mask``): t0 = 0 keeps the
drawing, t0 = 0.5 redraws the bottom half, t0 = 1 samples from scratch.
"""
from __future__ import annotations

import math
import time
from typing import Callable

import numpy as np
import torch

FILL_SAMPLERS = ("pixelcnn", "gibbs")
DEFAULT_SWEEPS = 200


def supports(model) -> bool:
    """True for image models stepped by the ``autoregressive`` or ``gibbs`` sampler kinds (their traits)."""
    kinds = getattr(getattr(model, "traits", None), "sampler_kinds", ())
    return ("autoregressive" in kinds or "gibbs" in kinds) and len(getattr(model, "data_shape", ())) == 3


def is_causal(model) -> bool:
    """True for autoregressive models (they see only earlier pixels in raster order)."""
    return "autoregressive" in getattr(getattr(model, "traits", None), "sampler_kinds", ())


def fill_samplers(model) -> tuple:
    """The canvas's sampler names for ``model``: ("pixelcnn",) or ("gibbs",)."""
    return ("pixelcnn",) if is_causal(model) else ("gibbs",)


def tail_mask(shape, t0: float) -> torch.Tensor:
    """(H, W) bool: the last round(t0·H·W) pixels of the raster order are unknown.

    Raises:
        ValueError: t0 not a finite number in [0, 1].
    """
    t0 = float(t0)
    if not (math.isfinite(t0) and 0.0 <= t0 <= 1.0):
        raise ValueError(f"t0 must be a fraction in [0, 1], got {t0}")
    h, w = int(shape[-2]), int(shape[-1])
    flat = torch.zeros(h * w, dtype=torch.bool)
    flat[h * w - int(round(t0 * h * w)):] = True
    return flat.view(h, w)


def unknown_from_mask(mask: torch.Tensor | None, shape, t0: float = 1.0) -> torch.Tensor:
    """(H, W) bool unknown map: mask (1, H, W) or (H, W) in [0, 1] >= 0.5, or ``tail_mask(shape, t0)`` for None."""
    if mask is None:
        return tail_mask(shape, t0)
    m = torch.as_tensor(mask).float()
    m = m[0] if m.dim() == 3 else m
    if tuple(m.shape) != tuple(shape[-2:]):
        raise ValueError(f"mask has shape {tuple(m.shape)}, expected {tuple(shape[-2:])}")
    return m >= 0.5


def visibility(unknown: torch.Tensor, causal: bool = True) -> np.ndarray:
    """(H, W) uint8 codes: 0 known and seen, 1 unknown, 2 known but after the first unknown pixel in raster order
    (a causal model cannot see it when it fills the pixels before it; never for an RBM, ``causal=False``)."""
    u = unknown.reshape(-1).numpy()
    codes = u.astype(np.uint8)
    if causal and u.any():
        first = int(np.argmax(u))
        after = np.arange(u.size) > first
        codes[after & ~u] = 2
    return codes.reshape(unknown.shape)


def visibility_rgb(y_unit: np.ndarray, unknown: torch.Tensor, causal: bool = True) -> np.ndarray:
    """(H, W, 3) uint8 picture of what the model is given: known pixels in grey (the binarised drawing), unknown ones
    blue, known pixels it cannot see (``visibility`` code 2) in orange over their grey level."""
    codes = visibility(unknown, causal)
    g = (np.asarray(y_unit, np.float32).reshape(codes.shape) >= 0.5).astype(np.float32)
    rgb = np.stack([g, g, g], -1) * 220
    rgb[codes == 1] = (40, 90, 200)
    rgb[codes == 2] = 0.45 * rgb[codes == 2] + 0.55 * np.array([255, 150, 30])
    return rgb.round().clip(0, 255).astype(np.uint8)


def nll_map(model, x: torch.Tensor) -> torch.Tensor:
    """Per-pixel −log p(x_i | x_<i) in nats of images x (N, 1, H, W) in model space (binarised at the middle of the
    data range), (N, 1, H, W) on the CPU; sums to −log p(x). Autoregressive models only (ValueError otherwise)."""
    if not is_causal(model):
        raise ValueError(f"{model.name}: a per-pixel NLL needs an autoregressive model (an RBM's p(x) needs Z)")
    v = (model.to_unit(x.float()) >= 0.5).float()
    return model.nll_map(model.from_unit(v)).cpu()


def heat_rgb(values: np.ndarray, vmax: float | None = None) -> np.ndarray:
    """(H, W) non-negative values -> (H, W, 3) uint8 heat map, black (0) through red to yellow (``vmax``)."""
    a = np.asarray(values, np.float32)
    top = float(vmax if vmax is not None else max(float(a.max()), 1e-6))
    t = np.clip(a / top, 0, 1)
    rgb = np.stack([np.clip(2 * t, 0, 1), np.clip(2 * t - 1, 0, 1), np.clip(4 * t - 3, 0, 1) * 0.6], -1)
    return (rgb * 255).round().astype(np.uint8)


@torch.inference_mode()
def complete(model, y: torch.Tensor, unknown: torch.Tensor, *, n: int = 4, seed: int = 0, steps: int = DEFAULT_SWEEPS,
             temperature: float = 1.0, callback: Callable[[int, int], bool | None] | None = None) -> torch.Tensor:
    """K = ``n`` completions of the image y (C, H, W) (model space) with the ``unknown`` pixels filled.

    Args:
        model: an ``AutoregressiveModel`` or an ``RBMModel`` of images (``supports``).
        y: (1, H, W) the image, model space; its known pixels are kept exactly.
        unknown: (H, W) bool, True where the model draws.
        n: number of completions, >= 1.
        seed: CPU generator seed: the autoregressive fill draws rand((n,)) per unknown pixel in raster order; the
            RBM draws the unknown pixels' start rand((n, 1, H, W)) and then per sweep as ``RBMModel.sweep``.
        steps: Gibbs sweeps (RBM; >= 1); ignored by an autoregressive model.
        temperature: τ > 0 dividing the autoregressive logits (1 = the model).
        callback: ``callback(done, total)`` after each pixel (autoregressive) or sweep (RBM); False cancels
            (``InterruptedError``).
    Returns:
        (n, 1, H, W) float32 on the CPU in model space: unknown pixels ±1, known pixels equal to y bit for bit.
    Raises:
        ValueError: an unsupported model, shapes that do not fit, n or steps < 1, τ <= 0. InterruptedError.
    """
    if not supports(model):
        raise ValueError(f"{getattr(model, 'name', model)!r}: clamped completion needs an autoregressive model or an RBM")
    shape = tuple(model.data_shape)
    y = torch.as_tensor(y).float().cpu()
    y = y[0] if y.dim() == 4 and y.shape[0] == 1 else y
    if tuple(y.shape) != shape:
        raise ValueError(f"image has shape {tuple(y.shape)}, expected {shape}")
    unknown = torch.as_tensor(unknown, dtype=torch.bool).cpu()
    if tuple(unknown.shape) != shape[1:]:
        raise ValueError(f"unknown map has shape {tuple(unknown.shape)}, expected {shape[1:]}")
    n, steps = int(n), int(steps)
    if n < 1 or steps < 1:
        raise ValueError(f"n and steps must be >= 1, got {n}, {steps}")
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    g = torch.Generator().manual_seed(int(seed))
    v_known = (model.to_unit(y) >= 0.5).float().expand(n, *shape).contiguous()
    unk = unknown.expand(n, *shape).to(model.device)
    v = v_known.to(model.device) * (~unk)
    if is_causal(model):
        order = torch.nonzero(unknown.reshape(-1)).reshape(-1).tolist()
        flat = v.view(n, -1)
        w = shape[2]
        for done, i in enumerate(order, 1):
            p = torch.sigmoid(model.logits_row(v, i // w)[:, i % w] / temperature)
            flat[:, i] = (torch.rand((n,), generator=g).to(p.device) < p).float()
            if callback is not None and callback(done, len(order)) is False:
                raise InterruptedError("completion cancelled")
    elif bool(unknown.any()):
        start = (torch.rand((n, *shape), generator=g) < 0.5).float().to(model.device)
        kept = v_known.to(model.device)
        v = torch.where(unk, start, kept)
        for done in range(1, steps + 1):
            _, _, v = model.sweep(v, g)
            v = torch.where(unk, v, kept)
            if callback is not None and callback(done, steps) is False:
                raise InterruptedError("completion cancelled")
    out = model.from_unit(v.float().cpu())
    return torch.where(unknown.expand(n, *shape), out, y.expand(n, *shape))


def canvas_fill(model, y: torch.Tensor, *, t0: float, n: int, seed: int, mask: torch.Tensor | None, steps: int,
                callback=None):
    """The canvas's generation for these models (``conditioning.sdedit`` calls it): ``complete`` with the mask's
    unknown pixels, or the last ``t0`` of the raster order without a mask. Returns a ``conditioning.SDEditResult``
    whose ``x_t0`` (K, C, H, W) is what the model is given: known pixels binarised, unknown ones at the middle of
    the data range (grey); ``t_start`` is the number of unknown pixels."""
    from .conditioning import SDEditResult
    start = time.perf_counter()
    unknown = unknown_from_mask(mask, model.data_shape, t0)
    cb = None if callback is None else (lambda done, total: callback(done, total, None, None))
    samples = complete(model, y, unknown, n=n, seed=seed, steps=steps, callback=cb)
    lo, hi = model.data_range
    given = torch.where(unknown, torch.tensor((lo + hi) / 2), model.from_unit((model.to_unit(y) >= 0.5).float()))
    return SDEditResult(samples, given.expand(n, *model.data_shape).clone(), y, mask, int(unknown.sum()), [],
                        time.perf_counter() - start)


def canvas_strip(model, y: torch.Tensor, mask: torch.Tensor | None, t0: float, scale: int = 3) -> np.ndarray:
    """(H', W', 3) uint8 strip for the canvas's middle view: what the model is given (``visibility_rgb``) and, for an
    autoregressive model, the per-pixel NLL map of the binarised drawing (``nll_map``, ``heat_rgb``, 0..4 nats)."""
    unknown = unknown_from_mask(mask, model.data_shape, t0)
    y_unit = model.to_unit(y.float()).numpy()[0]
    tiles = [visibility_rgb(y_unit, unknown, is_causal(model))]
    if is_causal(model):
        tiles.append(heat_rgb(nll_map(model, y[None])[0, 0].numpy(), vmax=4.0))
    gap = np.full((tiles[0].shape[0], 2, 3), 64, np.uint8)
    strip = np.concatenate([t for tile in tiles for t in (tile, gap)][:-1], axis=1)
    return strip.repeat(scale, 0).repeat(scale, 1)
