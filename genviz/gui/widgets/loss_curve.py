"""A small live loss curve (pyqtgraph): training loss against optimisation step, redrawn as training runs."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

ACCENT = "#4fa3ff"


class LossCurve(pg.PlotWidget):
    """Loss (y) over step (x), one line; ``set_points`` replaces it, ``clear_points`` empties it."""

    def __init__(self, title: str = "training loss", height: int = 110, parent=None):
        super().__init__(parent)
        self.setFixedHeight(height)
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.setTitle(title, size="8pt")
        self.showGrid(x=True, y=True, alpha=0.15)
        self.curve = self.plot([], [], pen=pg.mkPen(ACCENT, width=2))

    def set_points(self, points) -> None:
        """Draw (K, 2) [step, loss] rows (non-finite losses are skipped)."""
        p = np.asarray(points, np.float64).reshape(-1, 2)
        p = p[np.isfinite(p).all(1)]
        self.curve.setData(p[:, 0], p[:, 1])
        if len(p):
            self.enableAutoRange()

    def clear_points(self) -> None:
        """Empty the curve."""
        self.curve.setData([], [])

    def points(self) -> np.ndarray:
        """The drawn (K, 2) [step, loss] rows."""
        x, y = self.curve.getData()
        if x is None:
            return np.empty((0, 2))
        return np.stack([x, y], 1)
