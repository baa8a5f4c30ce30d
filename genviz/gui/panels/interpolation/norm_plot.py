"""The latent-norm plot: ‖z(t)‖ along lerp, slerp and z_ρ between A and B, √d and the slider's t."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt

from .settings import METHOD_TITLES, METHODS

METHOD_COLORS = {"lerp": "#ff6b6b", "slerp": "#4fc3f7", "rho": "#ffd54f"}


class NormPlot(pg.PlotWidget):
    """‖z(t)‖ along lerp, slerp and z_ρ between A and B, the typical norm √d of N(0, I), and the slider."""

    def __init__(self, parent=None):
        super().__init__(parent=parent, background="#26282e")
        self.setTitle("latent norm ‖z(t)‖ along the path", color="#e8e8e8", size="10pt")
        self.setLabel("bottom", "t (A → B)")
        self.setLabel("left", "‖z‖")
        self.showGrid(x=True, y=True, alpha=0.2)
        self.addLegend(offset=(-8, -8), labelTextSize="9pt")
        self.setMouseEnabled(False, False)
        self.hideButtons()
        self.curves = {m: self.plot([], [], pen=pg.mkPen(METHOD_COLORS[m], width=2), name=METHOD_TITLES[m])
                       for m in METHODS}
        self.typical = pg.InfiniteLine(angle=0, pen=pg.mkPen("#9aa0aa", width=1, style=Qt.PenStyle.DashLine),
                                       label="√d", labelOpts={"color": "#9aa0aa", "position": 0.05})
        self.addItem(self.typical)
        self.typical.hide()
        self.cursor = pg.InfiniteLine(angle=90, pen=pg.mkPen("#e8e8e8", width=1))
        self.addItem(self.cursor)

    def set_profiles(self, profiles: dict | None, active: str = "slerp", typical: float | None = None) -> None:
        """``profiles``: {method: (K,) norms, "t": (K,)}; None clears. The active method is drawn thick."""
        for m, c in self.curves.items():
            if profiles is None:
                c.setData([], [])
            else:
                c.setData(profiles["t"], profiles[m])
                c.setPen(pg.mkPen(METHOD_COLORS[m], width=4 if m == active else 1.5))
        if typical:
            self.typical.setValue(typical)
            self.typical.show()
        else:
            self.typical.hide()

    def set_cursor(self, t: float) -> None:
        """Move the vertical line to the slider's t."""
        self.cursor.setValue(t)
