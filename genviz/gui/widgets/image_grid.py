"""A crisp, clickable grid of small images (pyqtgraph ImageItem, fixed levels, no autorange)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsRectItem

from ...backend.imaging import grid_shape, tile_box, tile_index
from ..export import mosaic
from .scaling import px_font, text_px

PAD = 2
HIGHLIGHT = "#ffb000"
TITLE_PX = 15  # the title above the grid (11 pt)
MESSAGE_PX = 13


class ImageGrid(pg.GraphicsLayoutWidget):
    """Shows a batch (N, C, H, W) uint8 as a tiled grid; click a tile to select that sample.

    Nearest-neighbour scaling (no smoothing) keeps 28x28 digits crisp at any size. Emits
    ``tileClicked(index)``.
    """

    tileClicked = Signal(int)

    def __init__(self, title: str, parent=None):
        super().__init__(parent)
        self.setBackground("#26282e")
        self.ci.setContentsMargins(2, 2, 2, 2)
        self._title = title
        self.scale = 1.0
        self.label = self.addLabel(title, row=0, col=0, size=f"{TITLE_PX}px", color="#e8e8e8")
        self.view = self.addViewBox(row=1, col=0, lockAspect=True, invertY=True, enableMouse=False,
                                    enableMenu=False)
        self.view.disableAutoRange()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.view.addItem(self.image)
        self.highlight = QGraphicsRectItem()
        pen = QPen(QColor(HIGHLIGHT))
        pen.setWidthF(2.5)
        pen.setCosmetic(True)
        self.highlight.setPen(pen)
        self.highlight.setZValue(10)
        self.view.addItem(self.highlight)
        self.message = pg.TextItem("", color="#9aa0aa", anchor=(0.5, 0.5))
        self.view.addItem(self.message)
        self._shape = None  # (N, H, W) of the tiles shown
        self._mosaic_shape = None
        self.selected = 0
        self.scene().sigMouseClicked.connect(self._on_click)
        self.view.sigResized.connect(self._fit)

    def _fit(self, *_) -> None:
        if self._mosaic_shape is not None:
            h, w = self._mosaic_shape[:2]
            self.view.setRange(QRectF(0, 0, w, h), padding=0.01)

    def set_title(self, html: str) -> None:
        """Set the caption above the grid."""
        self.label.setText(html, size=f"{text_px(TITLE_PX, 1 + (self.scale - 1) * 0.75)}px", color="#e8e8e8")

    def set_scale(self, scale: float) -> None:
        """Title and message at ``scale`` times their size (presentation mode; 1: normal)."""
        self.scale = float(scale)
        self.set_title(self.label.text)
        self.message.setFont(px_font(text_px(MESSAGE_PX, self.scale)))

    def set_images(self, images: np.ndarray | None, n: int | None = None, shape=None, message: str = "") -> None:
        """Show ``images`` (N, C, H, W) uint8; ``None`` shows an empty grid of ``n`` tiles of ``shape``."""
        if images is None:
            if n is None or shape is None:
                self.image.clear()
                self.highlight.hide()
                self.message.setText(message)
                return
            c, h, w = shape
            images = np.full((n, c, h, w), 60, np.uint8)
        m = mosaic(images, PAD)
        self.image.setImage(m, levels=(0, 255), autoLevels=False)
        self._shape = (images.shape[0], images.shape[2], images.shape[3])
        if m.shape != self._mosaic_shape:
            self._mosaic_shape = m.shape
            self._fit()
        self.message.setText(message)
        self.message.setPos(m.shape[1] / 2, m.shape[0] / 2)
        self.set_selected(self.selected)

    def tile_rect(self, i: int) -> QRectF | None:
        """Rectangle of tile ``i`` in image coordinates (None when nothing is shown)."""
        if self._shape is None:
            return None
        n, h, w = self._shape
        x, y, w, h = tile_box(i, grid_shape(n)[1], h, w, PAD)
        return QRectF(x - 1, y - 1, w + 2, h + 2)

    def set_selected(self, i: int) -> None:
        """Draw the highlight frame around tile ``i``."""
        self.selected = i
        rect = self.tile_rect(i) if self._shape is not None and 0 <= i < self._shape[0] else None
        if rect is None:
            self.highlight.hide()
        else:
            self.highlight.setRect(rect)
            self.highlight.show()

    def tile_at(self, x: float, y: float) -> int | None:
        """Index of the tile under image coordinates (x, y), or None."""
        if self._shape is None:
            return None
        n, h, w = self._shape
        return tile_index(x, y, n, grid_shape(n)[1], h, w, PAD)

    def _on_click(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        p = self.view.mapSceneToView(ev.scenePos())
        i = self.tile_at(p.x(), p.y())
        if i is not None:
            self.tileClicked.emit(i)
