"""The interpolation panel's exports (numpy and Pillow only): the strip as one PNG, the walk as a looping GIF."""
from __future__ import annotations

from pathlib import Path

import numpy as np

NOTHING = "nothing to export yet: run an interpolation first"


def save_strip_png(frames_unit: np.ndarray | None, path) -> Path:
    """Write the strip (N, C, H, W) in [0, 1] as one PNG: frames side by side, 3x nearest-neighbour.
    Raises ValueError when there is no strip."""
    if frames_unit is None:
        raise ValueError(NOTHING)
    from genviz.backend.imaging import make_grid, save_png  # imported late: genviz.backend imports torch
    save_png(path, make_grid(frames_unit, nrow=len(frames_unit), scale=3))
    return Path(path)


def save_walk_gif(frames_unit: np.ndarray | None, path, frame_ms: int = 80) -> int:
    """Write the walk A → B → A (the ends once) as a looping GIF, 4x; returns the number of frames.
    Raises ValueError when there is no strip."""
    if frames_unit is None:
        raise ValueError(NOTHING)
    from genviz.backend.imaging import make_grid, save_gif
    frames = [make_grid(f[None], nrow=1, pad=0, scale=4) for f in frames_unit]
    seq = frames + frames[-2:0:-1]
    save_gif(path, seq, duration_ms=frame_ms, hold_last_ms=frame_ms)
    return len(seq)
