"""The density panel's figure layout (Xiao 2022 Fig 5.3): four columns — data, samples, −E(x) / log p(x) on the
grid, normalised density — and a caption line; exportable as a PNG."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from .plot import COLORS, cmap_lut, set_image


class DensityFigure(pg.GraphicsLayoutWidget):
    """Four fixed (not zoomable) square plots in a row, with a caption below."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.fig_plots = []
        for col, title in enumerate(("data", "samples", "−E(x) on grid", "normalised density")):
            p = self.addPlot(row=0, col=col, title=title)
            p.setAspectLocked(True)
            p.hideAxis("left")
            p.hideAxis("bottom")
            p.setMouseEnabled(x=False, y=False)
            p.hideButtons()
            self.fig_plots.append(p)
        self.fig_data = pg.ScatterPlotItem(size=2, pen=None, brush=pg.mkBrush(*COLORS["data"]))
        self.fig_samples = pg.ScatterPlotItem(size=2, pen=None, brush=pg.mkBrush(*COLORS["samples"]))
        self.fig_logp = pg.ImageItem()
        self.fig_logp.setLookupTable(cmap_lut())
        self.fig_dens = pg.ImageItem()
        self.fig_dens.setLookupTable(cmap_lut())
        for p, it in zip(self.fig_plots, (self.fig_data, self.fig_samples, self.fig_logp, self.fig_dens)):
            p.addItem(it)
        for col in range(4):
            self.ci.layout.setColumnStretchFactor(col, 1)
        self.fig_caption = self.addLabel("", row=1, col=0, colspan=4)

    def draw(self, r: dict, titles: tuple[str, str], caption: str) -> None:
        """Draw a ``compute_views`` result ``r``; ``titles`` of the third and fourth columns; the caption line."""
        self.fig_data.setData(pos=r["data"])
        if r["samples"] is not None:
            self.fig_samples.setData(pos=np.nan_to_num(r["samples"]))
        else:
            self.fig_samples.clear()
        set_image(self.fig_logp, r["logp"], r["grid"], log=True)
        set_image(self.fig_dens, r["density"], r["grid"])
        lo, hi, _ = r["grid"]
        for p in self.fig_plots:
            p.setRange(xRange=(lo, hi), yRange=(lo, hi), padding=0.02)
        self.fig_plots[2].setTitle(titles[0])
        self.fig_plots[3].setTitle(titles[1])
        self.fig_caption.setText(caption)

    def clear_views(self) -> None:
        """Empty the four plots and the caption (a new model is on its way)."""
        for it in (self.fig_data, self.fig_samples):
            it.clear()
        for it in (self.fig_logp, self.fig_dens):
            it.clear()
            it.setVisible(False)
        self.fig_caption.setText("")

    def save_png(self, path, size=(1600, 470)) -> None:
        """Render at ``size`` (pixels) and write a PNG; OSError when it cannot be written."""
        self.resize(*size)
        if not self.grab().save(str(path), "PNG"):
            raise OSError(f"could not write {path}")
