"""An ``ImageGrid`` with a fixed number of columns: a strip when cols = N, a grid otherwise."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF

from ...backend.imaging import tile_box, tile_index
from ..export import BACKGROUND
from .image_grid import PAD, ImageGrid

PLACEHOLDER = 60  # grey level of a tile not decoded yet


class TileView(ImageGrid):
    """Shows (N, C, H, W) uint8 images, ``cols`` tiles per row (tile i at row i // cols); click a tile to
    select it (``tileClicked(index)``)."""

    def __init__(self, title: str, cols: int = 8, parent=None):
        self.cols = cols
        super().__init__(title, parent)

    def set_images(self, images, n=None, shape=None, message: str = "", cols: int | None = None) -> None:
        """Show ``images`` (N, C, H, W) uint8 with ``cols`` tiles per row (unchanged when None). ``images``
        None: ``n`` grey placeholder tiles of ``shape`` (C, H, W), or, without them, nothing but ``message``."""
        if cols is not None:
            self.cols = max(1, int(cols))
        if images is None:
            if n is None or shape is None:
                self.image.clear()
                self.highlight.hide()
                self._shape = None
                self.message.setText(message)
                return
            images = np.full((n, *shape), PLACEHOLDER, np.uint8)
        from genviz.backend.imaging import make_grid  # numpy only, but genviz.backend imports torch: not at import time
        m = np.ascontiguousarray(make_grid(images, nrow=self.cols, pad=PAD, background=BACKGROUND))
        self.image.setImage(m, levels=(0, 255), autoLevels=False)
        self._shape = (images.shape[0], images.shape[2], images.shape[3])
        if m.shape != self._mosaic_shape:
            self._mosaic_shape = m.shape
            self._fit()
        self.message.setText(message)
        self.message.setPos(m.shape[1] / 2, m.shape[0] / 2)
        self.set_selected(self.selected)

    def tile_rect(self, i: int):
        """Rectangle of tile ``i`` in image coordinates (None when nothing is shown)."""
        if self._shape is None:
            return None
        x, y, w, h = tile_box(i, self.cols, self._shape[1], self._shape[2], PAD)
        return QRectF(x - 1, y - 1, w + 2, h + 2)

    def tile_at(self, x: float, y: float):
        """Index of the tile under image coordinates (x, y), or None."""
        if self._shape is None:
            return None
        n, h, w = self._shape
        return tile_index(x, y, n, self.cols, h, w, PAD)
