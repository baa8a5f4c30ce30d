"""Image helpers shared by the CLI, the GUI and exports (numpy + pillow; no torch, no Qt)."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np


def to_uint8(unit: np.ndarray) -> np.ndarray:
    """[0, 1] float array (any shape) -> uint8 0..255 (clipped, rounded)."""
    return (np.clip(unit, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def grid_shape(n: int) -> tuple[int, int]:
    """(rows, cols) of the near-square grid ``make_grid`` lays ``n`` tiles on by default (cols = ceil(sqrt(n)))."""
    cols = max(1, math.ceil(math.sqrt(n)))
    return max(1, math.ceil(n / cols)), cols


def tile_box(i: int, cols: int, h: int, w: int, pad: int = 2) -> tuple[int, int, int, int]:
    """(x, y, w, h) in pixels of tile ``i`` of a ``make_grid`` layout with ``cols`` tiles per row of h×w tiles."""
    r, c = divmod(int(i), int(cols))
    return pad + c * (w + pad), pad + r * (h + pad), w, h


def tile_index(x: float, y: float, n: int, cols: int, h: int, w: int, pad: int = 2) -> int | None:
    """The tile of a ``make_grid`` layout (``n`` tiles, ``cols`` per row) under pixel (x, y), or None."""
    if x < 0 or y < 0:
        return None
    c, r = int((x - pad / 2) // (w + pad)), int((y - pad / 2) // (h + pad))
    if c >= cols:
        return None
    i = r * cols + c
    return i if 0 <= i < n else None


def make_grid(images: np.ndarray, nrow: int | None = None, pad: int = 2, scale: int = 1, pad_value: int = 40,
              background: tuple[int, int, int] | None = None) -> np.ndarray:
    """Tile a batch into one image.

    Args:
        images: (N, C, H, W) float in [0, 1] or uint8; C = 1 (grey) or 3 (RGB); any other C shows its first
            channel as grey.
        nrow: tiles per row (default ceil(sqrt(N))); tile i sits at row i // nrow, column i % nrow.
        pad: pixels between tiles (before scaling).
        scale: integer nearest-neighbour upscaling of each pixel.
        pad_value: grey level 0..255 of the padding (when ``background`` is None).
        background: an (R, G, B) 0..255 colour for the padding; the result is then always RGB (grey tiles
            are repeated over the three channels).
    Returns:
        (H', W') uint8 for C = 1, (H', W', 3) uint8 for C = 3 or when ``background`` is given.
    Raises:
        ValueError: not a 4-D batch.
    """
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"expected (N, C, H, W) images, got shape {images.shape}")
    if images.shape[1] not in (1, 3):
        images = images[:, :1]
    imgs = images if images.dtype == np.uint8 else to_uint8(images)
    if background is not None and imgs.shape[1] == 1:
        imgs = np.repeat(imgs, 3, axis=1)
    n, c, h, w = imgs.shape
    nrow = nrow or max(1, math.ceil(math.sqrt(n)))
    ncol = math.ceil(n / nrow)
    grid = np.full((c, ncol * (h + pad) + pad, nrow * (w + pad) + pad), pad_value, dtype=np.uint8)
    if background is not None:
        grid[:] = np.asarray(background, np.uint8)[:, None, None]
    for i in range(n):
        r, q = divmod(i, nrow)
        y, x = pad + r * (h + pad), pad + q * (w + pad)
        grid[:, y:y + h, x:x + w] = imgs[i]
    if scale > 1:
        grid = grid.repeat(scale, axis=1).repeat(scale, axis=2)
    return grid[0] if c == 1 else grid.transpose(1, 2, 0)


def save_png(path: str | Path, array: np.ndarray) -> None:
    """Write a (H, W) or (H, W, 3) uint8 array as PNG."""
    from PIL import Image
    Image.fromarray(array).save(str(path), format="PNG")


def save_gif(path: str | Path, frames: list[np.ndarray], duration_ms: int = 60, hold_last_ms: int = 1500) -> None:
    """Write uint8 frames ((H, W) or (H, W, 3)) as a looping animated GIF; the last frame is held."""
    from PIL import Image
    if not frames:
        raise ValueError("no frames to write")
    ims = [Image.fromarray(f) for f in frames]
    durations = [duration_ms] * (len(ims) - 1) + [hold_last_ms]
    ims[0].save(str(path), format="GIF", save_all=True, append_images=ims[1:], duration=durations, loop=0)
