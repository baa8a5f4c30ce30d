"""Image mosaics and exports (grid PNG, chain GIF) with numpy and Pillow only."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..backend.imaging import grid_shape, make_grid

BACKGROUND = (38, 40, 46)


def mosaic(images: np.ndarray, pad: int = 2, background=BACKGROUND) -> np.ndarray:
    """A batch (N, C, H, W) uint8 as one RGB image on the window's background: ``imaging.make_grid`` (the one grid
    helper) with a near-square layout (``grid_shape``). Returns (rows*(H+pad)+pad, cols*(W+pad)+pad, 3) uint8."""
    return make_grid(images, nrow=grid_shape(len(images))[1], pad=pad, background=background)


def upscale(img: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour upscaling of an (H, W, C) image by an integer factor."""
    return img.repeat(factor, axis=0).repeat(factor, axis=1) if factor > 1 else img


def save_grid_png(images: np.ndarray, path, scale: int = 4) -> Path:
    """Write a batch (N, C, H, W) uint8 as one crisp grid PNG, upscaled ``scale`` times."""
    from PIL import Image
    path = Path(path)
    Image.fromarray(upscale(mosaic(images), scale)).save(path, format="PNG")
    return path


def gif_frame_indices(n_records: int, max_frames: int = 100) -> list[int]:
    """Indices of at most ``max_frames`` records, evenly spread, always including the first and last."""
    if n_records <= 0:
        return []
    if n_records <= max_frames:
        return list(range(n_records))
    idx = np.unique(np.round(np.linspace(0, n_records - 1, max_frames)).astype(int))
    return [int(i) for i in idx]


def save_chain_gif(frames: list, path, scale: int = 3, frame_ms: int = 60, hold_ms: int = 1500,
                   max_frames: int = 100) -> Path:
    """Write an animated GIF of a chain: one frame per record (subsampled to ``max_frames``).

    Args:
        frames: list of (N, C, H, W) uint8 batches, one per recorded step.
        frame_ms: duration of each frame; the last frame is held for ``hold_ms``.
    Returns:
        the path written. Raises ValueError when there is no frame.
    """
    from PIL import Image
    idx = gif_frame_indices(len(frames), max_frames)
    if not idx:
        raise ValueError("the chain has no recorded step to export")
    imgs = [Image.fromarray(upscale(mosaic(frames[i]), scale)) for i in idx]
    durations = [frame_ms] * (len(imgs) - 1) + [hold_ms]
    path = Path(path)
    imgs[0].save(path, format="GIF", save_all=True, append_images=imgs[1:], duration=durations, loop=0)
    return path
