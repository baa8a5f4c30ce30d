"""The density panel's latent-path group: method, endpoint seeds, frames, and a small plot of the path in the
model's latent space (circles at ‖z‖ = 1, 2, 3)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QPushButton

from .controls import spin
from .model import PATH_METHODS, Settings


class LatentPathBox(QGroupBox):
    """Controls of a latent walk z_A → z_B and the latent-space plot (first two coordinates of z)."""

    def __init__(self, s: Settings, parent=None):
        super().__init__("Latent path", parent)
        lf = QFormLayout(self)
        self.path_method = QComboBox()
        for m in PATH_METHODS:
            self.path_method.addItem(m, m)
        self.path_method.setCurrentIndex(PATH_METHODS.index(s.path_method))
        self.path_method.setToolTip("how to walk between the two base-noise points (lerp: straight line; slerp: arc "
                                    "that keeps a typical length; rho: variance-preserving z_ρ)")
        lf.addRow("method", self.path_method)
        seeds = QHBoxLayout()
        tip = "endpoint z_s = randn(2) with this seed (the same z that `genviz sample --n 1 --seed s` uses)"
        self.path_seed_a = spin("path_seed_a", s.path_seed_a, tip)
        self.path_seed_b = spin("path_seed_b", s.path_seed_b, tip)
        seeds.addWidget(self.path_seed_a)
        seeds.addWidget(self.path_seed_b)
        lf.addRow("seeds A, B", seeds)
        self.path_frames = spin("path_frames", s.path_frames)
        lf.addRow("frames", self.path_frames)
        self.path_btn = QPushButton("Draw latent path")
        self.path_btn.setToolTip("walk between two points of the model's latent (a flow's base noise, a VAE/GAN code) "
                                 "and draw the path in latent space (small plot) and in data space (big plot)")
        lf.addRow(self.path_btn)
        self.latent_plot = pg.PlotWidget()
        self.latent_plot.setFixedHeight(190)
        self.latent_plot.setAspectLocked(True)
        self.latent_plot.setMenuEnabled(False)
        self.latent_plot.setTitle("latent z (circles: ‖z‖ = 1, 2, 3)", size="8pt")
        t = np.linspace(0, 2 * np.pi, 97)
        for r in (1, 2, 3):
            self.latent_plot.plot(r * np.cos(t), r * np.sin(t), pen=pg.mkPen(150, 150, 160, 90))
        self.latent_curve = self.latent_plot.plot([], [], pen=pg.mkPen(255, 176, 0, 230, width=2))
        self.latent_dots = pg.ScatterPlotItem(size=5, pen=None, brush=pg.mkBrush(255, 176, 0, 230))
        self.latent_plot.addItem(self.latent_dots)
        lf.addRow(self.latent_plot)

    def show_path(self, z: np.ndarray | None) -> None:
        """Draw (F, 2) latent points joined in order (None clears the plot)."""
        if z is None:
            self.latent_curve.setData([], [])
            self.latent_dots.clear()
            return
        self.latent_curve.setData(z[:, 0], z[:, 1])
        self.latent_dots.setData(pos=z)
