"""The density panel's particle redraw benchmark (``genviz bench``, key ``particles_5k_fps``)."""
from __future__ import annotations

import time

import numpy as np


class _NoEngine:
    """Stands in for the window's engine where nothing is computed (the particle benchmark)."""

    def submit(self, *args, **kwargs) -> None:
        pass

    def submit_job(self, *args, **kwargs) -> None:
        return None

    def pending(self) -> int:
        return 0


def bench_particles_fps(n: int = 5000, frames: int = 60, seed: int = 0) -> float:
    """Redraw rate (frames/s) of the density panel's live particles: ``n`` points taking a random-walk step
    every frame, each frame drawn (dots, trails where n <= 1000, density image above 5,000) and painted
    synchronously in a shown 1000x700 panel. Used by ``genviz bench`` (key ``particles_5k_fps``)."""
    from PySide6.QtWidgets import QApplication

    from genviz.backend.toy.views import ParticleFrame  # (imports the backend before the clock starts)

    from .panel import DensityPanel
    app = QApplication.instance() or QApplication([])
    panel = DensityPanel(_NoEngine())
    panel.timer.stop()
    panel.resize(1000, 700)
    panel.show()
    app.processEvents()
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2)).astype(np.float32) * 2
    steps = [rng.normal(scale=0.05, size=(n, 2)).astype(np.float32) for _ in range(8)]
    t0 = time.perf_counter()
    for i in range(frames):
        x = x + steps[i % len(steps)]
        panel.state.on_frame(ParticleFrame(i, frames, x))
        panel._draw_particles()
        panel.plot.viewport().repaint()
        app.processEvents()
    fps = frames / (time.perf_counter() - t0)
    panel.close()
    panel.deleteLater()
    return fps
