"""What the density panel draws, as plain functions (torch + NumPy, never Qt): every view of a 2-D toy model
on its dataset (``compute_views``), the score arrows, live particle frames of the model's default sampler,
and the NumPy geometry of the drawn layers (arrow and trail segments, image colour levels).

Coordinates are the toy data space (the dataset's square ``bounds`` [lo, hi]², unitless); log-densities are in
nats. Grids follow ``genviz.backend.toy.density.Grid``: row i of a (res, res) image is y_i, column j is x_j.
"""
from __future__ import annotations

import time
from typing import Generator, NamedTuple

import numpy as np

from ..api import chain, resolve_sampler
from .density import Grid, evaluate_on_grid, histogram_density, normalised_density
from .lab import grid_views, model_samples, readouts, score_field

LOG_SPAN = 30.0      # log images show at most this many nats below their maximum
ARROW_GRID = 21      # score arrows: an ARROW_GRID x ARROW_GRID grid over the dataset's range


def compute_views(model, dataset, res: int = 150, n: int = 2500, seed: int = 0, score_t: int | None = None,
                  ode_res: int = 56, ode_steps: int = 40, with_readouts: bool = True) -> dict:
    """Everything the density panel draws for ``model`` (None: data only) on ``dataset``, as NumPy arrays.

    Args:
        model: a 2-D toy family object (``family`` in ebm, diffusion, flow, vae, gan) or None.
        dataset: a ``ToyDataset`` (its ``bounds`` set the grid range).
        res: grid cells per side (>= 2) for the images; diffusion uses ``ode_res`` (the ODE is costly).
        n: data points and model samples to draw.
        seed: model samples use ``seed``, data points ``seed + 1``.
        score_t: diffusion only: the timestep of the score arrows (default 0).
        ode_steps: Heun steps of the diffusion's probability-flow ODE log-density.
        with_readouts: also compute ``genviz.backend.toy.lab.readouts`` (test log-likelihood, modes, MMD).

    Returns:
        ``data`` (n, 2) float32; ``samples`` (n, 2) or None; ``grid`` (lo, hi, res); ``logp`` (res, res)
        float64 (−E(x), flow log p, ELBO, ODE log p in nats, or a GAN's discriminator logit); ``density``
        (res, res) with Σ density·h² = 1, or None (GAN / no model); ``data_density`` ((res, res), grid) or
        None where the dataset has no closed form; ``score`` ((M, 2) points, (M, 2) vectors) or None;
        ``readouts`` dict or None; ``kind`` (``neg_energy``, ``flow``, ``ode``, ``elbo``, ``discriminator``
        or None); ``log_z``; ``model`` and ``dataset`` (the objects, to tell stale results).

    Raises:
        ValueError: a grid with res < 2 or an empty dataset range.
    """
    lo, hi = dataset.bounds
    out = {"data": dataset.sample(n, seed=seed + 1).numpy(), "samples": None, "logp": None, "density": None,
           "score": None, "readouts": None, "kind": None, "log_z": None, "model": model, "dataset": dataset}
    fam = getattr(model, "family", None)
    g = Grid(lo, hi, ode_res if fam == "diffusion" else res)
    out["grid"] = (g.lo, g.hi, g.res)
    if dataset.has_density:
        dg = Grid(lo, hi, res)
        ld = evaluate_on_grid(dataset.log_prob, dg)
        out["data_density"] = (normalised_density(ld, dg)[0], (dg.lo, dg.hi, dg.res))
    else:
        out["data_density"] = None
    if model is None:
        return out
    x = model_samples(model, n, seed)
    out["samples"] = x.numpy()
    if fam == "gan":  # no density: show the discriminator's logit instead (Goodfellow et al. 2014)
        out.update(logp=evaluate_on_grid(lambda p: model.discriminate(p).cpu(), g).numpy(), kind="discriminator")
    elif "ddgan" in model.traits.sampler_kinds:  # a DDGAN ships no D and has no density: its samples' histogram
        dens = histogram_density(out["samples"], g)
        out.update(density=dens, logp=np.log(dens.astype(np.float64) + 1e-3), kind="samples")
    else:
        v = grid_views(model, g, ode_steps=ode_steps)
        out.update(logp=v["log_density"], density=v["density"], kind=v["kind"], log_z=v["log_z"])
        out["score"] = score_arrows(model, dataset, score_t)
    if with_readouts:
        out["readouts"] = readouts(model, dataset, samples=x, seed=seed, grid=Grid(lo, hi, res), ode_steps=100)
    return out


def view_dataset(name: str, params: dict | None = None, points=None, user_std: float = 0.1,
                 user_bounds: tuple = (-5.0, 5.0)):
    """The dataset the density panel shows: ``make_dataset(name, **params)``, or for ``name == "user"`` the
    Gaussian mixture (std ``user_std``) on the drawn ``points`` (M, 2) with the fixed range ``user_bounds``
    (None when no point is drawn yet).

    Raises:
        ValueError: an unknown dataset or parameter, non-finite points.
    """
    from .datasets import make_dataset, user_dataset
    if name == "user":
        pts = np.asarray([] if points is None else points, np.float32).reshape(-1, 2)
        if not len(pts):
            return None
        ds = user_dataset(pts, std=user_std)
        ds.bounds = tuple(user_bounds)
        return ds
    return make_dataset(name, **(params or {}))


def score_arrows(model, dataset, t: int | None = None, m: int = ARROW_GRID) -> tuple[np.ndarray, np.ndarray]:
    """The score ∇_x log p(x) on an m × m grid over the dataset's range (``lab.score_field``).

    Args:
        model: a toy EBM, diffusion, flow or VAE model.
        dataset: its ``ToyDataset`` (``bounds``).
        t: diffusion only: timestep 0..T−1 of −ε̂(x, t)/√(1−ᾱ_t) (default 0).
        m: arrows per side (>= 2).
    Returns:
        (points (m², 2) float32, vectors (m², 2) float32), per unit of x.
    Raises:
        ValueError: a GAN (no score), or m < 2.
    """
    lo, hi = dataset.bounds
    pts = Grid(lo, hi, m).points()
    return pts.numpy(), score_field(model, pts, t).numpy()


def segment_pairs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Interleave start points ``a`` (N, 2) and end points ``b`` (N, 2) into (2N, 2) rows a0, b0, a1, b1, …
    (the ``connect="pairs"`` layout of a line-segment plot)."""
    a, b = np.asarray(a, np.float64).reshape(-1, 2), np.asarray(b, np.float64).reshape(-1, 2)
    s = np.empty((2 * len(a), 2))
    s[0::2], s[1::2] = a, b
    return s


def arrow_segments(points: np.ndarray, vectors: np.ndarray, lo: float, hi: float, m: int = ARROW_GRID,
                   fill: float = 0.8) -> tuple[np.ndarray, np.ndarray]:
    """Arrows of a vector field for drawing: each arrow points along its vector, the longest are ``fill`` of
    one grid cell ((hi − lo)/m) long, shorter ones scale with ‖v‖ / median ‖v‖, clipped to [0.2, 1].

    Args:
        points: (M, 2) arrow tails; vectors: (M, 2) field values (any unit); lo, hi: the plotted range.
    Returns:
        (segments (2M, 2) tail/head pairs, heads (M, 2)).
    """
    pts, vec = np.asarray(points, np.float64).reshape(-1, 2), np.asarray(vectors, np.float64).reshape(-1, 2)
    norm = np.linalg.norm(vec, axis=1, keepdims=True)
    step = (hi - lo) / m * fill
    d = vec / np.maximum(norm, 1e-12) * step * np.clip(norm / (np.median(norm) + 1e-12), 0.2, 1.0)
    heads = pts + d
    return segment_pairs(pts, heads), heads


def trail_segments(frames: list) -> np.ndarray:
    """Segments joining each particle's successive positions: ``frames`` F arrays (N, 2) -> (2N(F−1), 2)
    (empty (0, 2) for fewer than two frames)."""
    if len(frames) < 2:
        return np.empty((0, 2))
    return np.concatenate([segment_pairs(a, b) for a, b in zip(frames[:-1], frames[1:])])


def image_levels(values, log: bool = False, log_span: float = LOG_SPAN):
    """Colour levels of an image: (finite float32 image, lo, hi), or None when no value is finite.

    Linear images (densities) span [0, max]; log images (log-densities in nats) span from their 1st percentile,
    but at most ``log_span`` nats below the maximum (else a few very low border values flatten the picture).
    Non-finite cells take the lowest level; hi > lo always.
    """
    a = np.asarray(values, np.float64)
    finite = np.isfinite(a)
    if not finite.any():
        return None
    hi_v = float(a[finite].max())
    lo_v = float(max(np.percentile(a[finite], 1.0), hi_v - log_span)) if log else 0.0
    a = np.where(finite, a, lo_v).astype(np.float32)
    return a, lo_v, hi_v if hi_v > lo_v else lo_v + 1.0


def density_mass(density, grid: tuple) -> float:
    """Σ density · h² over a (res, res) image on ``grid`` = (lo, hi, res) (1 for a normalised density);
    NaN for None."""
    if density is None:
        return float("nan")
    lo, hi, res = grid
    return float(np.sum(density) * ((hi - lo) / res) ** 2)


class ParticleFrame(NamedTuple):
    """One drawn state of a particle chain.

    Attributes:
        step: the record's index 0..steps; steps: the chain's steps.
        x: (N, 2) float32 particle positions (data space).
        moves: Langevin chains: (step, x_before (k, 2), drift (k, 2), noise (k, 2)) of the last move of the first
            k particles (x_after = x_before + drift + noise), or None for other samplers.
        image: (res, res) float32 histogram density of x (when N exceeds the dots limit), else None.
    """

    step: int
    steps: int
    x: np.ndarray
    moves: tuple | None = None
    image: np.ndarray | None = None


def particle_frames(model, n: int, seed: int = 0, bounds: tuple = (-5.0, 5.0), arrows: int = 64,
                    dots_limit: int = 5000, image_res: int = 256,
                    delay_s: float = 0.0) -> Generator[ParticleFrame, None, tuple | None]:
    """Run ``model``'s default sampler (``api.resolve_sampler``) with ``n`` particles, one frame per record.

    Args:
        model: a 2-D toy model; n: particles (>= 1); seed: the chain's seed (it replays exactly).
        bounds: (lo, hi) of the histogram image drawn above ``dots_limit`` particles.
        arrows: Langevin: how many particles' drift/noise split to keep (``ParticleFrame.moves``).
        delay_s: sleep this long after each frame (a slow chain to watch).
    Yields:
        ``steps + 1`` ``ParticleFrame`` records. Returns (step, steps) of the last one (None if none).
    Raises:
        ValueError: as ``api.chain`` (a default sampler that does not fit, bad n).
    """
    name, steps, params = resolve_sampler(model, None, None, {})
    prev, moves, last = None, None, None
    lo, hi = bounds
    for rec in chain(model, name, steps=steps, n=n, seed=seed, **params):
        x = rec.x.detach().float().cpu().numpy().reshape(-1, 2)
        if rec.drift is not None and prev is not None:  # Langevin: the last move of the first particles, split in two
            k = min(arrows, len(x))
            noise = rec.noise[:k] if rec.noise is not None else rec.drift[:k] * 0
            moves = (rec.index, prev[:k].reshape(-1, 2), rec.drift[:k].float().cpu().numpy().reshape(-1, 2),
                     noise.float().cpu().numpy().reshape(-1, 2))
        image = histogram_density(np.nan_to_num(x), Grid(lo, hi, image_res)) if len(x) > dots_limit else None
        yield ParticleFrame(rec.index, rec.steps, x, moves, image)
        prev, last = x, (rec.index, rec.steps)
        if delay_s > 0:
            time.sleep(delay_s)
    return last

