"""The density panel's zoomable plot: an image (−E / log p / density), data and sample dots, score arrows, live
particles with trails (or their density image), Langevin drift / noise segments and a latent path, plus
painting a dataset with the mouse. Drawing only: the arrays come from ``genviz.backend.toy.views``."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QRectF, Qt, Signal

from .model import MAX_DOTS, TRAIL_MAX

COLORS = {"data": (120, 180, 255, 150), "samples": (255, 150, 60, 170), "particles": (255, 255, 255, 220)}
LEGEND_TEXT = (235, 238, 245)        # light text on a dark translucent box: legible over any image colour
LEGEND_BOX = (18, 20, 26, 200)


def cmap_lut(name: str = "viridis"):
    """A 256-entry lookup table of the pyqtgraph colour map ``name``."""
    return pg.colormap.get(name).getLookupTable(nPts=256)


def set_image(item: pg.ImageItem, arr, grid, log: bool = False) -> tuple[float, float] | None:
    """Show (res, res) values ``arr`` (row i = y_i) on ``grid`` = (lo, hi, res) in ``item``; hide it for None.
    Log images span at most ``views.LOG_SPAN`` nats (see ``views.image_levels``). Returns the colour levels
    (lo, hi) in the image's units, or None when nothing is shown."""
    if arr is None:
        item.clear()
        item.setVisible(False)
        return None
    from genviz.backend.toy.views import image_levels
    lv = image_levels(arr, log=log)
    if lv is None:
        item.clear()
        item.setVisible(False)
        return None
    a, lo_v, hi_v = lv
    item.setImage(np.ascontiguousarray(a.T), levels=(lo_v, hi_v))
    lo, hi, _ = grid
    item.setRect(QRectF(lo, lo, hi - lo, hi - lo))
    item.setVisible(True)
    return lo_v, hi_v


class ColorBar(pg.ColorBarItem):
    """A read-only colour bar (viridis, as the images) with its units as the axis label, placed right of a plot;
    ``show_levels`` sets its range and label, or hides it for None."""

    WIDTH = 14 + 70 + 6       # bar, tick values and units label

    def __init__(self, plot_item: pg.PlotItem, cmap: str = "viridis"):
        super().__init__(values=(0.0, 1.0), width=14, colorMap=cmap, interactive=False, colorMapMenu=False)
        self.axis.setTextPen(pg.mkPen(LEGEND_TEXT))    # the right axis: tick values, then the units label
        self.axis.setPen(pg.mkPen(LEGEND_TEXT))
        self.axis.setWidth(70)
        plot_item.layout.addItem(self, 2, 5)        # (where ``setImageItem(insert_in=...)`` puts it)
        plot_item.layout.setColumnFixedWidth(4, 5)
        plot_item.layout.setColumnFixedWidth(5, self.WIDTH)   # never squeezed
        self.setMinimumWidth(self.WIDTH)
        self.label = ""
        self._plot_item = plot_item

    def set_scale(self, scale: float) -> None:
        """Room for tick values and units at ``scale`` times their size (presentation mode; 1 restores)."""
        axis = round(70 * scale)
        width = 14 + axis + 6
        self.axis.setWidth(axis)
        self._plot_item.layout.setColumnFixedWidth(5, width)
        self.setMinimumWidth(width)

    @property
    def shown(self) -> bool:
        """Whether the bar is drawn (it always keeps its place, so the plot does not jump when it comes and goes:
        hidden is transparent)."""
        return self.opacity() > 0

    def show_levels(self, levels: tuple[float, float] | None, label: str = "") -> None:
        """Show the range ``levels`` = (lo, hi) of the image under the dots, labelled ``label`` (units); None
        hides the bar (transparent, keeping its place)."""
        if levels is None:
            self.setOpacity(0.0)
            return
        self.setLevels(levels)
        if label != self.label:
            self.label = label
            self.axis.setLabel(label, color="#ebeef5")
        self.setOpacity(1.0)


def _set_segments(curve: pg.PlotCurveItem, seg) -> None:
    if seg is None or len(seg) == 0:
        curve.setData([], [])
    else:
        curve.setData(seg[:, 0], seg[:, 1])


class DensityPlot(pg.PlotWidget):
    """The shared plot. While ``painting`` is on, a left-button drag emits ``painted(x, y)`` (data coordinates)
    for each mouse position and ``paintFinished()`` on release, instead of panning."""

    painted = Signal(float, float)
    paintFinished = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.painting = False
        self.setAspectLocked(True)
        self.showGrid(x=False, y=False)
        self.image = pg.ImageItem()
        self.image.setLookupTable(cmap_lut())
        self.addItem(self.image)
        self.data_dots = pg.ScatterPlotItem(size=3, pen=None, brush=pg.mkBrush(*COLORS["data"]))
        self.sample_dots = pg.ScatterPlotItem(size=3, pen=None, brush=pg.mkBrush(*COLORS["samples"]))
        self.trail_curve = pg.PlotCurveItem(pen=pg.mkPen(255, 255, 255, 70, width=1), connect="pairs")
        self.particle_dots = pg.ScatterPlotItem(size=3, pen=None, brush=pg.mkBrush(*COLORS["particles"]))
        self.particle_image = pg.ImageItem()
        self.particle_image.setLookupTable(cmap_lut("inferno"))
        self.score_curve = pg.PlotCurveItem(pen=pg.mkPen(240, 240, 240, 200, width=1), connect="pairs")
        self.path_curve = pg.PlotCurveItem(pen=pg.mkPen(255, 176, 0, 230, width=2))
        self.drift_curve = pg.PlotCurveItem(pen=pg.mkPen(255, 176, 0, 240, width=2), connect="pairs")
        self.noise_curve = pg.PlotCurveItem(pen=pg.mkPen(79, 163, 255, 240, width=2), connect="pairs")
        self.path_dots = pg.ScatterPlotItem(size=7, pen=pg.mkPen(20, 20, 20), brush=pg.mkBrush(255, 176, 0, 240))
        self.score_heads = pg.ScatterPlotItem(size=3, pen=None, brush=pg.mkBrush(255, 80, 80, 230))
        for it in (self.particle_image, self.data_dots, self.sample_dots, self.trail_curve, self.particle_dots,
                   self.score_curve, self.score_heads, self.path_curve, self.path_dots, self.drift_curve,
                   self.noise_curve):
            self.addItem(it)
        self.legend = self.addLegend(offset=(10, 10), labelTextColor=LEGEND_TEXT, brush=pg.mkBrush(*LEGEND_BOX),
                                     pen=pg.mkPen(90, 95, 110))
        self.legend.addItem(self.data_dots, "data")
        self.legend.addItem(self.sample_dots, "model samples")
        self.legend.addItem(self.particle_dots, "particles")
        self.colorbar = ColorBar(self.getPlotItem())
        self.colorbar.show_levels(None)
        self.viewport().installEventFilter(self)

    def set_square(self, lo: float, hi: float) -> None:
        """Show [lo, hi]² (with a small margin)."""
        self.setRange(xRange=(lo, hi), yRange=(lo, hi), padding=0.02)

    def set_painting(self, on: bool) -> None:
        """Paint with the mouse (``on``) or pan and zoom."""
        self.painting = bool(on)
        self.setMouseEnabled(x=not on, y=not on)

    # ---- static views ----------------------------------------------------------------------------------
    def show_views(self, r: dict, image: str, shown: dict, units: str = "") -> None:
        """Draw a ``compute_views`` result: the ``image`` view (``model.IMAGE_VIEWS``, its colour bar labelled
        ``units``) and the layers on in ``shown`` (data, samples, score)."""
        if image == "logp":
            levels = set_image(self.image, r["logp"], r["grid"], log=True)
        elif image == "density":
            levels = set_image(self.image, r["density"], r["grid"])
        elif image == "data" and r["data_density"] is not None:
            levels = set_image(self.image, r["data_density"][0], r["data_density"][1])
        else:
            levels = set_image(self.image, None, None)
        self.colorbar.show_levels(levels, units)
        self.data_dots.setData(pos=r["data"]) if shown["data"] else self.data_dots.clear()
        if shown["samples"] and r["samples"] is not None:
            self.sample_dots.setData(pos=np.nan_to_num(r["samples"]))
        else:
            self.sample_dots.clear()
        if shown["score"] and r["score"] is not None:
            from genviz.backend.toy.views import arrow_segments
            lo, hi, _ = r["grid"]
            seg, heads = arrow_segments(*r["score"], lo, hi)
            _set_segments(self.score_curve, seg)
            self.score_heads.setData(pos=heads)
        else:
            self.score_curve.setData([], [])
            self.score_heads.clear()

    def show_points(self, pts: np.ndarray) -> None:
        """Show (K, 2) drawn data points as the data dots."""
        self.data_dots.setData(pos=pts)

    def clear_views(self) -> None:
        """Empty the dots, arrows, trails and image."""
        for it in (self.data_dots, self.sample_dots, self.particle_dots, self.score_heads):
            it.clear()
        for it in (self.score_curve, self.trail_curve, self.drift_curve, self.noise_curve, self.path_curve):
            it.setData([], [])
        self.path_dots.clear()
        self.image.setVisible(False)
        self.particle_image.setVisible(False)
        self.colorbar.show_levels(None)

    # ---- live particles --------------------------------------------------------------------------------
    def show_moves(self, moves) -> None:
        """Langevin: each listed particle's last move as two segments, the drift (orange, from x) then the noise
        (blue, from x + drift); x_new = x + drift + noise. ``moves`` None hides them."""
        if moves is None:
            self.drift_curve.setData([], [])
            self.noise_curve.setData([], [])
            return
        from genviz.backend.toy.views import segment_pairs
        _, x0, d, n = moves
        _set_segments(self.drift_curve, segment_pairs(x0, x0 + d))
        _set_segments(self.noise_curve, segment_pairs(x0 + d, x0 + d + n))

    def hide_particles(self) -> None:
        """Hide the particles, their trails and density image."""
        self.particle_dots.clear()
        self.trail_curve.setData([], [])
        self.particle_image.setVisible(False)

    def show_particles(self, x: np.ndarray, trail: list, image=None, bounds=(-5.0, 5.0)) -> None:
        """Draw (N, 2) particles ``x``: dots (with trails over the ``trail`` frames up to ``TRAIL_MAX`` particles)
        up to ``MAX_DOTS``, above that the density image ``image`` ((res, res) on ``bounds``; computed here
        when None)."""
        if len(x) <= MAX_DOTS:
            self.particle_image.setVisible(False)
            self.particle_dots.setData(pos=x)
            seg = None
            if len(x) <= TRAIL_MAX and len(trail) >= 2:
                from genviz.backend.toy.views import trail_segments
                seg = trail_segments(trail)
            _set_segments(self.trail_curve, seg)
            return
        lo, hi = bounds
        if image is None:
            from genviz.backend.toy.density import Grid, histogram_density
            image = histogram_density(x, Grid(lo, hi, 256))
        self.particle_dots.clear()
        self.trail_curve.setData([], [])
        set_image(self.particle_image, image, (lo, hi, image.shape[0]))

    # ---- latent path -----------------------------------------------------------------------------------
    def show_path(self, x: np.ndarray | None) -> None:
        """Draw a latent path's image in data space, (F, 2) points joined in order (None clears it)."""
        if x is None:
            self.path_curve.setData([], [])
            self.path_dots.clear()
            return
        self.path_curve.setData(x[:, 0], x[:, 1])
        self.path_dots.setData(pos=x)

    def eventFilter(self, obj, ev):  # noqa: N802 (Qt override): painting on the viewport
        if self.painting and obj is self.viewport():
            t = ev.type()
            if t in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove) and (ev.buttons() & Qt.MouseButton.LeftButton):
                p = self.getViewBox().mapSceneToView(self.mapToScene(ev.position().toPoint()))
                self.painted.emit(float(p.x()), float(p.y()))
                return True
            if t == QEvent.Type.MouseButtonRelease:
                self.paintFinished.emit()
                return True
        return super().eventFilter(obj, ev)
