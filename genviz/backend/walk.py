"""Walk a latent path (or a 4-corner grid) and decode it frame by frame, yielding what is decoded so far.

The interpolation panel's work as generators: a GUI runs them on its worker thread one ``next()`` at a
time (``genviz.gui.engine.Engine.submit_job``) and shows the latest value; closing a generator stops
the work between two frames. Each yielded value is a snapshot that nothing changes afterwards (read-only
views of the frames that are final), so it can be handed to another thread as it is.

The paths are those of ``genviz.backend.interpolation`` (``lerp``; ``slerp``: Shoemake 1985, White 2016
"Sampling generative networks"; ``rho``: z_ρ = ρ z1 + √(1−ρ²) z2, Nijkamp et al. 2019; grids: bilinear,
nested slerp, or Real-NVP's four-corner formula, Dinh et al. 2017, Sec. 4.2). Latent spaces are a VAE or
GAN's own latent, or the DDIM latent x_T of a diffusion model decoded by deterministic DDIM (η = 0; Song
et al. 2021), into which real images enter by DDIM inversion.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Generator, Sequence, Union

import numpy as np
import torch

from .interpolation import LatentSpace, endpoint_latent, grid, latent_norms, latent_space, load_image, norm_profiles, path, point

Endpoint = Union[int, str, torch.Tensor]
"""An endpoint: a seed s (z_s = randn(latent_shape, seed s)), an image spec (a file path or ``mnist:K``), or
an image already in model space, (1, *data_shape) or (*data_shape)."""

PROFILE_POINTS = 65


@dataclass(frozen=True)
class WalkProgress:
    """The frames decoded so far.

    Attributes:
        strip: (k, C, H, W) float32 in [0, 1], the first k frames of the strip A → B (0 <= k <= n_strip);
            a read-only array that does not change later.
        grid: (j, C, H, W) float32 in [0, 1], the first j cells of the grid in row-major order (j = 0
            without a grid), likewise.
        n_strip: frames the strip will have.
        n_grid: cells the grid will have (side², 0 without a grid).
    """

    strip: np.ndarray
    grid: np.ndarray
    n_strip: int
    n_grid: int

    @property
    def decoded(self) -> int:
        """Frames decoded so far (strip and grid)."""
        return len(self.strip) + len(self.grid)

    @property
    def total(self) -> int:
        """Frames the whole walk decodes."""
        return self.n_strip + self.n_grid


@dataclass(frozen=True)
class WalkResult:
    """A decoded walk.

    Attributes:
        strip: (N, C, H, W) float32 in [0, 1], frame 0 decodes endpoint A and frame N − 1 endpoint B.
        grid: (side², C, H, W) float32 in [0, 1] (row-major; A top-left, B top-right, C bottom-left, D
            bottom-right), or None without a grid.
        side: frames per side of the grid (0 without a grid).
        norms: (N,) float64, ‖z‖ of the strip's latents.
        profiles: ‖z(t)‖ of every method's path A → B: {method: (65,) float64, "t": (65,)}.
        typical: √d, the typical norm of a N(0, I) latent in d dimensions.
        method: the path's method.
        description: the latent space in words (``LatentSpace.describe``).
        space: the ``LatentSpace`` decoded (for ``decode_point``).
        corners: the endpoints' latents, each (*latent_shape) CPU float32 (A, B, and C, D with a grid).
    """

    strip: np.ndarray
    grid: np.ndarray | None
    side: int
    norms: np.ndarray
    profiles: dict
    typical: float
    method: str
    description: str
    space: LatentSpace
    corners: tuple


def _unit(space: LatentSpace, z: torch.Tensor) -> np.ndarray:
    """Decode (n, *latent_shape) -> (n, C, H, W) float32 in [0, 1]."""
    return space.model.to_unit(space.decode(z)).numpy().astype(np.float32)


def _frozen(buf: np.ndarray, k: int) -> np.ndarray:
    """A read-only view of the first k rows of ``buf``: rows that are final (later frames go to rows >= k)."""
    view = buf[:k]
    view.flags.writeable = False
    return view


def endpoint_to_latent(space: LatentSpace, endpoint: Endpoint) -> torch.Tensor:
    """The latent (*latent_shape), CPU float32, of one endpoint (see ``Endpoint``).

    Raises:
        ValueError: an unreadable image, or a model that cannot encode images (a GAN has no encoder).
    """
    if isinstance(endpoint, bool) or not isinstance(endpoint, (int, str, torch.Tensor)):
        raise ValueError(f"an endpoint is a seed, an image spec or an image tensor, got {type(endpoint).__name__}")
    if isinstance(endpoint, int):
        return endpoint_latent(space, seed=endpoint)
    m = space.model
    if isinstance(endpoint, str):
        endpoint = load_image(endpoint, m.data_shape, m.data_range, model=m)
    return endpoint_latent(space, image=endpoint)


def walk(model, endpoints: Sequence[Endpoint], method: str = "slerp", frames: int = 10, grid_side: int = 0,
         steps: int | None = None) -> Generator[WalkProgress, None, WalkResult]:
    """Encode the endpoints, then decode a strip A → B and, with ``grid_side``, a grid between A, B, C, D.

    Frames are decoded one at a time (batch 1, so that each equals ``genviz sample --n 1`` of its latent);
    after each one the generator yields a ``WalkProgress`` with every frame decoded so far (strip first, then
    the grid), and it returns a ``WalkResult``. Closing it stops the walk before the next frame.

    Args:
        model: an image model with a latent: VAE or GAN (``decode``, z of ``latent_shape``), diffusion (the
            DDIM latent x_T of ``data_shape``; Song et al. 2021, η = 0, decoded and inverted over ``steps``).
        endpoints: A, B (strip), and C, D when ``grid_side`` > 0; extra endpoints are ignored. Each is a seed,
            an image spec or an image tensor (1, *data_shape) in model space (``model.data_range``).
        method: ``lerp``: (1 − t) z1 + t z2; ``slerp``: along the great circle, the norm linear in t (Shoemake
            1985; White 2016, "Sampling generative networks"); ``rho``: z_ρ = ρ z1 + √(1−ρ²) z2 with
            ρ = cos(πt/2) (Nijkamp et al. 2019; Xiao 2022, Fig. 5.2). The grid: bilinear, nested slerp, or for
            ``rho`` Real-NVP's four-corner formula (Dinh et al. 2017, Sec. 4.2).
        frames: frames along the strip, 2 or more.
        grid_side: frames per side of the grid (0: no grid, else 2 or more).
        steps: DDIM steps for diffusion models (None: the checkpoint's default); ignored otherwise.
    Yields:
        ``WalkProgress``: the frames decoded so far (images in [0, 1]).
    Returns:
        ``WalkResult``.
    Raises:
        ValueError: unknown method, frames < 2, grid_side 1 or negative, too few endpoints, a model without a
            latent, a real image for a model without an encoder, an unreadable image.
    """
    frames, side = int(frames), int(grid_side)
    if frames < 2:
        raise ValueError(f"frames must be >= 2, got {frames}")
    if side < 0 or side == 1:
        raise ValueError(f"grid_side must be 0 (no grid) or >= 2, got {side}")
    need = 4 if side else 2
    if len(endpoints) < need:
        raise ValueError(f"a {'grid' if side else 'strip'} needs {need} endpoints, got {len(endpoints)}")
    space = latent_space(model, steps=steps if model.traits.eps else None)
    corners = tuple(endpoint_to_latent(space, e) for e in endpoints[:need])
    zs = path(corners[0], corners[1], method, frames)  # ValueError: method, shapes
    grid_z = (grid(corners[0], corners[1], corners[2], corners[3], method=method, rows=side, cols=side).flatten(0, 1)
              if side else None)
    profiles = norm_profiles(corners[0], corners[1], PROFILE_POINTS)
    strip = np.empty((frames, *model.data_shape), np.float32)
    cells = np.empty((side * side, *model.data_shape), np.float32)
    for i in range(frames):
        strip[i] = _unit(space, zs[i:i + 1])[0]
        yield WalkProgress(_frozen(strip, i + 1), _frozen(cells, 0), frames, side * side)
    for i in range(side * side):
        assert grid_z is not None  # side > 0
        cells[i] = _unit(space, grid_z[i:i + 1])[0]
        yield WalkProgress(_frozen(strip, frames), _frozen(cells, i + 1), frames, side * side)
    return WalkResult(strip=strip, grid=cells if side else None, side=side, norms=latent_norms(zs), profiles=profiles,
                      typical=math.sqrt(float(np.prod(space.latent_shape))), method=method,
                      description=space.describe(), space=space, corners=corners)


def decode_point(space: LatentSpace, z1: torch.Tensor, z2: torch.Tensor, method: str, t: float) -> tuple[np.ndarray, float]:
    """The frame at path parameter t in [0, 1] between latents z1, z2 (*latent_shape).

    Returns:
        (image (1, C, H, W) float32 in [0, 1], ‖z(t)‖). t = 0 and 1 decode z1 and z2 exactly.
    Raises:
        ValueError: unknown method, latents of different shapes.
    """
    z = point(z1, z2, method, float(t))
    return _unit(space, z[None]), float(z.flatten().double().norm())


def seed_samples(model, seeds: Sequence[int], steps: int | None = None) -> Generator[np.ndarray, None, np.ndarray]:
    """Decode z_s for each seed s (the picker's samples), one at a time.

    Yields the (k, C, H, W) float32 images in [0, 1] decoded so far and returns all (len(seeds), C, H, W);
    ``steps`` as in ``walk``. Raises ValueError for a model without a latent.
    """
    space = latent_space(model, steps=steps if model.traits.eps else None)
    out = np.empty((len(seeds), *model.data_shape), np.float32)
    for k, s in enumerate(seeds):
        out[k] = _unit(space, space.seed_latent(int(s))[None])[0]
        yield _frozen(out, k + 1)
    return out
