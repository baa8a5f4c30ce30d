"""The "Few steps" panel: why a diffusion model with only a few big steps needs a GAN for each step (thesis
Fig. 6.3). A teaching view for any model: the curves come from ``genviz.backend.ddgan_views`` (numpy, a few ms,
so they are computed on the GUI thread; no torch)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from ....backend.ddgan_views import MIXTURES
from ....panels import get_panel
from ...widgets.caption import make_caption
from ...widgets.scaling import scale_plot_item
from .model import LEVELS, X_RANGE, FewStepsModel

CONTROLS_WIDTH = 236
TRUE_PEN, GAUSS_PEN = pg.mkPen("#f0b040", width=2.5), pg.mkPen("#7fb8ff", width=2, style=Qt.PenStyle.DashLine)
SLIDER_STEPS = 160  # x_t slider resolution over X_RANGE
HEADROOM = 1.55  # y range = tallest curve times this: the top-right legend sits above the curves, not on a peak


class FewStepsPanel(QWidget):
    """Data, x_t and level controls; the data plot; one plot per step count (true density vs DDPM Gaussian).

    Signals: message(text, is_error) for the status bar.
    """

    message = Signal(str, bool)

    def __init__(self, engine=None, parent=None):
        super().__init__(parent)
        self.engine = engine
        self.loaded = None
        self.state = FewStepsModel()
        self.scale = 1.0
        self._build()
        self.run()

    # ---- layout ----------------------------------------------------------------------------------
    def _build(self) -> None:
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        self.controls = QGroupBox("The question")
        self.controls.setFixedWidth(CONTROLS_WIDTH)
        form = QFormLayout(self.controls)
        self.data_combo = QComboBox()
        self.data_combo.addItems(list(MIXTURES))
        self.data_combo.setToolTip("the made-up 1-D data the model should learn (a mixture of bell curves)")
        form.addRow("Data", self.data_combo)
        self.level_combo = QComboBox()
        for s in LEVELS:
            self.level_combo.addItem(f"s = {s:g}", s)
        self.level_combo.setToolTip("where the step ends on the way from noise (s = 1) to data (s = 0): the same "
                                    "place for every number of steps, so only the step size differs")
        form.addRow("Step ends at", self.level_combo)
        self.x_slider = QSlider(Qt.Orientation.Horizontal)
        self.x_slider.setRange(0, SLIDER_STEPS)
        self.x_slider.setToolTip("the noisy value x_t we start the step from")
        self.x_label = QLabel("")
        form.addRow("Noisy x_t", self.x_slider)
        form.addRow("", self.x_label)
        self.notes = QLabel("")
        self.notes.setWordWrap(True)
        self.notes.setStyleSheet("color: #9aa0aa;")
        form.addRow(self.notes)
        lay.addWidget(self.controls)

        centre = QVBoxLayout()
        self.data_plot = pg.PlotWidget()
        self.data_plot.setMaximumHeight(180)
        self.data_plot.setTitle("the data, and where the step ends (noised to s)", size="9pt", color="#d0d0d0")
        self.data_plot.addLegend(offset=(-10, 5))
        centre.addWidget(self.data_plot)
        grid = QGridLayout()
        self.step_plots: list[pg.PlotWidget] = []
        for k in range(len(self.state.steps)):
            p = pg.PlotWidget()
            p.setMinimumSize(240, 170)
            p.getPlotItem().hideAxis("left")
            if k == 0:
                p.addLegend(offset=(-10, 5))
            grid.addWidget(p, k // 2, k % 2)
            self.step_plots.append(p)
        centre.addLayout(grid, 1)
        self.caption = make_caption()
        centre.addWidget(self.caption)
        lay.addLayout(centre, 1)
        self.data_combo.currentTextChanged.connect(lambda name: self._changed(data=name))
        self.level_combo.currentIndexChanged.connect(lambda _i: self._changed(s_end=self.level_combo.currentData()))
        self.x_slider.valueChanged.connect(lambda v: self._changed(x_t=self._slider_x(v)))
        self._sync_controls()

    @staticmethod
    def _slider_x(v: int) -> float:
        lo, hi = X_RANGE
        return round(lo + (hi - lo) * v / SLIDER_STEPS, 4)

    def _sync_controls(self) -> None:
        st = self.state
        for w in (self.data_combo, self.level_combo, self.x_slider):
            w.blockSignals(True)
        self.data_combo.setCurrentText(st.data)
        self.level_combo.setCurrentIndex(LEVELS.index(st.s_end))
        lo, hi = X_RANGE
        self.x_slider.setValue(round((st.x_t - lo) / (hi - lo) * SLIDER_STEPS))
        for w in (self.data_combo, self.level_combo, self.x_slider):
            w.blockSignals(False)
        self.x_label.setText(f"x_t = {st.x_t:.2f}")

    def _changed(self, **kw) -> None:
        try:
            self.state.set(**kw)
        except ValueError as e:
            self.message.emit(str(e), True)
            return
        self._sync_controls()
        self.refresh()

    # ---- drawing ---------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Redraw every plot and caption from the state."""
        st = self.state
        if not st.results:
            st.compute()
        mix = MIXTURES[st.data]
        x = np.linspace(-5, 5, 801)
        r0 = st.results[0]
        dp = self.data_plot.getPlotItem()
        dp.clear()
        dp.plot(x, mix.pdf(x), pen=pg.mkPen("#e8e8e8", width=2), name="data q(x₀)")
        dp.plot(x, mix.noised(r0.abar_prev).pdf(x), pen=pg.mkPen("#c080ff", width=2), name=f"noised to s = {st.s_end:g}")
        dp.addLine(x=st.x_t, pen=pg.mkPen("#f06060", width=1.5, style=Qt.PenStyle.DotLine))
        dp.setYRange(0, HEADROOM * float(mix.pdf(x).max()), padding=0)
        for p, r in zip(self.step_plots, st.results):
            item = p.getPlotItem()
            item.clear()
            item.plot(r.grid, r.true, pen=TRUE_PEN, fillLevel=0, brush=(240, 176, 64, 60), name="true answer")
            item.plot(r.grid, r.gauss, pen=GAUSS_PEN, name="DDPM's bell curve")
            item.setTitle(st.plot_title(r), size="9pt", color="#d0d0d0")
            scale_plot_item(item, self.scale)
            lo, hi = float(r.grid[0]), float(r.grid[-1])
            item.setXRange(max(lo, -4.5), min(hi, 4.5), padding=0.02)
            item.setYRange(0, HEADROOM * float(max(np.max(r.true), np.max(r.gauss))), padding=0)
        scale_plot_item(dp, self.scale)
        self.caption.setText(st.caption())
        self.notes.setText("\n\n".join(st.step_captions()))

    # ---- panel protocol --------------------------------------------------------------------------
    def set_model(self, loaded) -> None:
        """Any model (or none): this view does not use it."""
        self.loaded = loaded

    def supported(self) -> bool:
        """True for any loaded model (``genviz.panels``: a teaching view)."""
        return get_panel("fewsteps").supports(self.loaded.model if self.loaded else None)

    def run(self) -> None:
        """Recompute and redraw."""
        self.state.compute()
        self.refresh()

    def run_default(self, batch: int = 16) -> bool:
        """The default action: draw the four step counts for the current settings (``batch`` is unused)."""
        self.run()
        return True

    def default_done(self) -> bool:
        """Always True: drawing is immediate."""
        return True

    def session_state(self) -> dict:
        """``{"data", "x_t", "s_end"}``."""
        return self.state.session_state()

    def restore_session(self, data: dict, on_done=None) -> None:
        """Set the controls from ``session_state()``-style data and redraw; ``on_done()`` after."""
        self.state.restore(dict(data or {}))
        self._sync_controls()
        self.refresh()
        if on_done:
            on_done()

    def advanced_controls(self) -> dict:
        """Controls a presenter may hide: the per-step notes and the level choice."""
        return {"notes": self.notes, "level": self.level_combo}

    def set_presenting(self, on: bool, scale: float = 1.0) -> None:
        """Presentation mode: plot text and caption at ``scale``, a control column wide enough for its texts;
        ``on=False`` restores every size."""
        self.scale = float(scale) if on else 1.0
        self.caption.set_scale(self.scale)
        self.data_plot.setMaximumHeight(round(180 * self.scale))  # larger tick labels need the height
        self.data_plot.setMinimumHeight(round(120 * self.scale) if on else 0)
        # presentation's larger font needs the texts' own width (combo items, the x_t readout) at any scale
        fit = self.controls.sizeHint().width()
        self.controls.setFixedWidth(max(CONTROLS_WIDTH, fit, round(CONTROLS_WIDTH * min(self.scale, 1.6))) if on
                                    else CONTROLS_WIDTH)
        self.refresh()

    def shutdown(self) -> None:
        """Nothing runs in the background."""
