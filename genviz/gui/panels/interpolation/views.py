"""The interpolation panel's right side: the strip and its info line, the grid, the big frame with the
scrub slider, and the latent-norm plot."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSlider, QSplitter, QVBoxLayout, QWidget

from ...widgets.scaling import scale_plot_item, text_px
from ...widgets.tile_view import TileView
from .norm_plot import NormPlot
from .settings import SCRUB_TICKS

VIEW_NAMES = ("strip", "info", "grid_view", "live", "slider", "norm_plot")
CONTROLS_WIDTH = 300  # the control column outside presentation mode


def present(panel, on: bool, scale: float = 1.0) -> None:
    """The interpolation panel's ``set_presenting`` (the panel protocol): caption, image titles, info line and the
    norm plot at ``scale`` times their size, the control column as wide as its texts need in the window's font;
    ``on=False`` gives all of it back."""
    s = float(scale) if on else 1.0
    panel.caption.set_scale(s)
    for view in (panel.strip, panel.grid_view, panel.live, panel.samples_grid, panel.digits_grid):
        view.set_scale(s)
    panel.info.setStyleSheet(f"color: #c8ccd4; font-size: {text_px(12, s)}px;")
    scale_plot_item(panel.norm_plot.getPlotItem(), s)
    need = panel.controls.minimumSizeHint().width() if on else 0
    panel.controls.setFixedWidth(max(CONTROLS_WIDTH, need))


class WalkViews(QSplitter):
    """Strip A → B on top; grid, big frame + slider and norm plot below (splitters the user can drag)."""

    def __init__(self, parent=None):
        super().__init__(Qt.Orientation.Vertical, parent)
        top = QWidget()
        tl = QVBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        self.strip = TileView("strip A → B", cols=10)
        tl.addWidget(self.strip, 1)
        self.info = QLabel("")
        self.info.setObjectName("info")
        self.info.setWordWrap(True)
        self.info.setStyleSheet("color: #c8ccd4;")
        tl.addWidget(self.info)
        self.addWidget(top)
        bottom = QSplitter(Qt.Orientation.Horizontal)
        self.grid_view = TileView("grid (Real-NVP 4 corners)", cols=5)
        bottom.addWidget(self.grid_view)
        mid = QWidget()
        ml = QVBoxLayout(mid)
        ml.setContentsMargins(0, 0, 0, 0)
        self.live = TileView("t = 0.00", cols=1)
        ml.addWidget(self.live, 1)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("scrub")
        self.slider.setRange(0, SCRUB_TICKS)
        ml.addWidget(self.slider)
        bottom.addWidget(mid)
        self.norm_plot = NormPlot()
        bottom.addWidget(self.norm_plot)
        bottom.setSizes([380, 300, 380])
        self.addWidget(bottom)
        self.setSizes([230, 560])

    def draw_walk(self, state) -> None:
        """Show the strip, the grid and the info line of ``state`` (an ``InterpolationState``)."""
        strip, grid = state.strip_images(), state.grid_images()
        if strip is None:
            self.strip.set_images(None, message=state.strip_message())
        else:
            self.strip.set_images(strip, cols=len(strip))
        if grid is None:
            self.grid_view.set_images(None, message=state.grid_message())
        else:
            self.grid_view.set_images(grid, cols=state.grid_cols())
        self.strip.set_title(state.strip_title())
        self.grid_view.set_title(state.grid_title())
        self.info.setText(state.info_text())

    def draw_live(self, state) -> None:
        """Show the big frame of ``state`` and its title."""
        img = state.live_image()
        if img is None:
            self.live.set_images(None, message=state.live_message())
        else:
            self.live.set_images(img, cols=1)
        self.live.set_title(state.live_title_text)
