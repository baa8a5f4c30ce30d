"""The "GAN dynamics" panel: the Dirac-GAN's (θ, φ) plane with its vector field, trajectories of simultaneous and
alternating gradient steps from a clicked start, the eigenvalues against the stability regions, and controls for
c, h, R1 γ and CLC λ. A teaching view for any model (NumPy only, computed on the GUI thread in about a
millisecond; no torch). State and texts: ``model.DynamicsState``; equations: ``genviz.backend.dynamics``."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ....backend.dynamics import METHODS
from ....panels import get_panel
from ...widgets.caption import make_caption
from ...widgets.scaling import scale_plot_item
from .model import RANGES, SPAN, DynamicsState

CONTROLS_WIDTH = 250
RIGHT_WIDTH = 300
COLOURS = {"simultaneous": "#ff7a45", "alternating": "#4fa3ff", "flow": "#d8d8d8"}
FIELD_PEN = pg.mkPen((150, 160, 175, 150), width=1)
SPINS = (("c", "data point c", 0.5, "where the data sits: p_D = δ(x − c)"),
         ("h", "step size h", 0.05, "the learning rate of both players"),
         ("r1", "R1 γ", 0.1, "R1 penalty (γ/2)‖∇D‖² on real data: adds −γφ to the discriminator's step"),
         ("clc", "CLC λ", 0.1, "closed-loop control: negative feedback −λφ on the discriminator"))


class DynamicsPanel(QWidget):
    """Controls (game, steps, curves), the (θ, φ) plane, the eigenvalue and multiplier plots, readouts and
    caption. Clicking the plane starts the trajectories there.

    Signals: message(text, is_error) for the status bar.
    """

    message = Signal(str, bool)

    def __init__(self, engine=None, parent=None):
        super().__init__(parent)
        self.engine = engine
        self.loaded = None
        self.state = DynamicsState()
        self.scale = 1.0
        self._build()
        self.refresh()

    # ---- layout ----------------------------------------------------------------------------------------------
    def _build(self) -> None:
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        self.controls = QGroupBox("The Dirac-GAN")
        self.controls.setFixedWidth(CONTROLS_WIDTH)
        form = QFormLayout(self.controls)
        self.spins: dict[str, QDoubleSpinBox] = {}
        for key, label, step, tip in SPINS:
            w = QDoubleSpinBox()
            w.setRange(*RANGES[key])
            w.setDecimals(2)
            w.setSingleStep(step)
            w.setToolTip(tip)
            w.setObjectName(key)
            w.valueChanged.connect(lambda v, key=key: self._changed(key, v))
            self.spins[key] = w
            form.addRow(label, w)
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(*RANGES["steps"])
        self.steps_spin.setToolTip("gradient steps drawn from the start")
        self.steps_spin.valueChanged.connect(lambda v: self._changed("steps", v))
        form.addRow("steps", self.steps_spin)
        self.checks: dict[str, QCheckBox] = {}
        for key, label in (("simultaneous", "simultaneous steps"), ("alternating", "alternating steps (D, then G)"),
                           ("flow", "continuous game (h → 0)")):
            cb = QCheckBox(label)
            _tint(cb, COLOURS[key])
            cb.toggled.connect(lambda on, key=key: self._show(key, on))
            self.checks[key] = cb
            form.addRow(cb)
        self.start_label = QLabel("")
        self.start_label.setWordWrap(True)
        form.addRow(self.start_label)
        row = QHBoxLayout()
        self.reset_btn = QPushButton("Plain game")
        self.reset_btn.setToolTip("R1 and CLC off")
        self.reset_btn.clicked.connect(lambda: self._apply({"r1": 0.0, "clc": 0.0}))
        self.damp_btn = QPushButton("Add CLC")
        self.damp_btn.setToolTip("CLC λ = 0.5: the circle becomes an inward spiral")
        self.damp_btn.clicked.connect(lambda: self._apply({"clc": 0.5}))
        row.addWidget(self.reset_btn)
        row.addWidget(self.damp_btn)
        form.addRow(row)
        self.readout = QLabel("")
        self.readout.setWordWrap(True)
        self.readout.setObjectName("readout")
        _tint(self.readout, "#c8ccd4")
        form.addRow(self.readout)
        lay.addWidget(self.controls)

        centre = QVBoxLayout()
        self.plane = pg.PlotWidget()
        self.plane.setMinimumSize(360, 320)
        self.plane.setAspectLocked(True)
        self.plane.setMenuEnabled(False)
        self.plane.setMouseEnabled(False, False)
        self.plane.setLabel("bottom", "θ  (the generator's point)")
        self.plane.setLabel("left", "φ  (the discriminator's slope)")
        self.plane.addLegend(offset=(8, 8), brush=(20, 22, 28, 200))
        self.plane.scene().sigMouseClicked.connect(self._clicked)
        centre.addWidget(self.plane, 1)
        self.caption = make_caption()
        centre.addWidget(self.caption)
        lay.addLayout(centre, 1)

        right = QVBoxLayout()
        self.eig_plot = pg.PlotWidget()
        self.mult_plot = pg.PlotWidget()
        for p, title, xl, yl in ((self.eig_plot, "eigenvalues μ of the game", "Re μ", "Im μ"),
                                 (self.mult_plot, "per-step factors z", "Re z", "Im z")):
            p.setMinimumHeight(200)
            p.setAspectLocked(True)
            p.setMenuEnabled(False)
            p.setTitle(title, size="9pt", color="#d0d0d0")
            p.setLabel("bottom", xl)
            p.setLabel("left", yl)
            for ax in ("left", "bottom"):
                p.getAxis(ax).enableAutoSIPrefix(False)
            right.addWidget(p, 1)
        self.eig_note = QLabel("")
        self.eig_note.setWordWrap(True)
        _tint(self.eig_note, "#9aa0aa")
        right.addWidget(self.eig_note)
        self.right = QWidget()
        self.right.setLayout(right)
        self.right.setFixedWidth(RIGHT_WIDTH)
        lay.addWidget(self.right)
        self._sync_controls()

    def _sync_controls(self) -> None:
        s = self.state.settings
        widgets = [*self.spins.values(), self.steps_spin, *self.checks.values()]
        for w in widgets:
            w.blockSignals(True)
        for key, w in self.spins.items():
            w.setValue(getattr(s, key))
        self.steps_spin.setValue(s.steps)
        for key, cb in self.checks.items():
            cb.setChecked(bool(s.show.get(key)))
        for w in widgets:
            w.blockSignals(False)
        self.start_label.setText(f"start (θ, φ) = ({s.theta0:.2f}, {s.phi0:.2f}); click the plane to start elsewhere")

    def _changed(self, key: str, value) -> None:
        try:
            self.state.set(key, value)
        except ValueError as e:
            self.message.emit(str(e), True)
            return
        self._sync_controls()
        self.refresh()

    def _apply(self, values: dict) -> None:
        for key, v in values.items():
            self.state.set(key, v)
        self._sync_controls()
        self.refresh()

    def _show(self, key: str, on: bool) -> None:
        self.state.set("show", {key: on})
        self.refresh()

    def _clicked(self, ev) -> None:
        vb = self.plane.getPlotItem().vb
        if not vb.sceneBoundingRect().contains(ev.scenePos()):
            return
        p = vb.mapSceneToView(ev.scenePos())
        self.start_at(p.x(), p.y())

    def start_at(self, theta: float, phi: float) -> None:
        """Start the trajectories at (θ, φ) (what a click on the plane does) and redraw."""
        t, f = self.state.start_at(theta, phi)
        self._sync_controls()
        self.refresh()
        self.message.emit(f"trajectories start at θ = {t:.2f}, φ = {f:.2f}", False)

    # ---- drawing ---------------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Redraw the plane, both eigenvalue plots, readouts and caption from the state."""
        st, s = self.state, self.state.settings
        item = self.plane.getPlotItem()
        item.clear()
        item.addItem(pg.PlotDataItem(*_arrows(*st.field()), connect="pairs", pen=FIELD_PEN))
        lo, hi = st.theta_range()
        for key in ("flow", *METHODS):
            if not s.show.get(key):
                continue
            pts = st.flow if key == "flow" else st.trajectories[key].points
            pen = pg.mkPen(COLOURS[key], width=2, style=Qt.PenStyle.DashLine if key == "flow" else Qt.PenStyle.SolidLine)
            name = "continuous game" if key == "flow" else f"{key} ({st.behaviours[key]})"
            sym = dict(symbol="o", symbolSize=4, symbolBrush=COLOURS[key], symbolPen=None) if key != "flow" else {}
            item.plot(pts[:, 0], pts[:, 1], pen=pen, name=name, **sym)
        item.plot([s.c], [0.0], pen=None, symbol="star", symbolSize=16, symbolBrush="#ffd54a", name="goal (c, 0)")
        item.plot([s.theta0], [s.phi0], pen=None, symbol="o", symbolSize=10, symbolBrush="#ffffff", name="start")
        item.setXRange(lo, hi, padding=0)
        item.setYRange(-SPAN, SPAN, padding=0)
        item.setTitle("(θ, φ) plane: θ' = φ, φ' = c − θ − (γ + λ)φ", size="9pt", color="#d0d0d0")
        scale_plot_item(item, self.scale)
        self._draw_eigen()
        self.readout.setText("\n".join(st.method_line(m) for m in METHODS))
        self.eig_note.setText(st.eigen_text() + " Top: the continuous game converges where μ lies in the shaded "
                              "half-plane; simultaneous steps converge where it lies inside the dashed circle "
                              "|1 + hμ| < 1. Bottom: a method converges when its dots lie inside the unit circle, "
                              "circles on it, spirals out outside it.")
        self.caption.setText(st.caption())

    def _draw_eigen(self) -> None:
        st, h = self.state, self.state.settings.h
        e = self.eig_plot.getPlotItem()
        e.clear()
        e.addItem(pg.LinearRegionItem((-10, 0), movable=False, brush=(80, 200, 120, 40), pen=pg.mkPen(None)))
        t = np.linspace(0, 2 * np.pi, 200)
        e.plot(-1 / h + np.cos(t) / h, np.sin(t) / h, pen=pg.mkPen(COLOURS["simultaneous"], width=1.5,
                                                                  style=Qt.PenStyle.DashLine))
        mu = st.eigenvalues
        e.plot(mu.real, mu.imag, pen=None, symbol="x", symbolSize=14, symbolPen=pg.mkPen("#ffd54a", width=2))
        e.setXRange(-2.5, 0.7, padding=0)
        e.setYRange(-1.6, 1.6, padding=0)
        m = self.mult_plot.getPlotItem()
        m.clear()
        m.plot(np.cos(t), np.sin(t), pen=pg.mkPen("#d8d8d8", width=1.5))
        zs = np.concatenate(list(st.multipliers.values()))
        for key in METHODS:
            z = st.multipliers[key]
            m.plot(z.real, z.imag, pen=None, symbol="o", symbolSize=9, symbolBrush=COLOURS[key], symbolPen=None)
        # zoom on the factors: the difference between |z| = 1 and 1.02 must be visible
        cx, cy = float(np.mean(zs.real)), 0.0
        half = max(0.12, 1.3 * float(np.max(np.abs(zs.imag))), 1.3 * float(np.max(np.abs(zs.real - cx))))
        m.setXRange(cx - half, cx + half, padding=0)
        m.setYRange(cy - half, cy + half, padding=0)
        scale_plot_item(e, self.scale)
        scale_plot_item(m, self.scale)

    # ---- panel protocol --------------------------------------------------------------------------------------
    def set_model(self, loaded) -> None:
        """Any model (or none): this view does not use it."""
        self.loaded = loaded

    def supported(self) -> bool:
        """True for any loaded model (``genviz.panels``: a teaching view)."""
        return get_panel("dynamics").supports(self.loaded.model if self.loaded else None)

    def run(self) -> None:
        """Recompute and redraw."""
        self.state.compute()
        self.refresh()

    def run_default(self, batch: int = 16) -> bool:
        """The default action: draw the current settings (``batch`` is unused)."""
        self.run()
        return True

    def default_done(self) -> bool:
        """Always True: drawing is immediate."""
        return True

    def session_state(self) -> dict:
        """The settings (``DynamicsState.session_state``)."""
        return self.state.session_state()

    def restore_session(self, data: dict, on_done=None) -> None:
        """Set the controls from ``session_state()``-style data and redraw; ``on_done()`` after."""
        try:
            self.state.restore(dict(data or {}))
        except ValueError as e:
            self.message.emit(str(e), True)
        self._sync_controls()
        self.refresh()
        if on_done:
            on_done()

    def advanced_controls(self) -> dict:
        """Controls a presenter may hide: the readouts, the eigenvalue notes and the step count."""
        return {"readout": self.readout, "eigen_notes": self.eig_note, "steps": self.steps_spin}

    def set_presenting(self, on: bool, scale: float = 1.0) -> None:
        """Presentation mode: plot text and caption at ``scale``, wider control and note columns; ``on=False``
        restores every size."""
        self.scale = float(scale) if on else 1.0
        self.caption.set_scale(self.scale)
        grow = min(self.scale, 1.6) if on else 1.0
        self.controls.setFixedWidth(round(CONTROLS_WIDTH * grow))
        self.right.setFixedWidth(round(RIGHT_WIDTH * grow))
        self.refresh()

    def shutdown(self) -> None:
        """Nothing runs in the background."""


def _tint(widget: QWidget, colour: str) -> None:
    """Text colour by palette (not a style sheet, which would pin the font against presentation mode's scaling)."""
    pal = widget.palette()
    pal.setColor(QPalette.ColorRole.WindowText, QColor(colour))
    widget.setPalette(pal)


def _arrows(th, ph, u, v):
    """Line segments ("pairs") of a direction field: shafts of length ∝ √|field| (at most 0.8 of a cell) with
    two-stroke heads. Returns x, y arrays."""
    cell = float(th[0, 1] - th[0, 0])
    mag = np.hypot(u, v)
    big = float(mag.max()) or 1.0
    length = 0.8 * cell * np.sqrt(mag / big)
    d = np.stack([u, v], -1) / np.maximum(mag, 1e-12)[..., None]
    p0 = np.stack([th, ph], -1) - 0.5 * length[..., None] * d
    p1 = p0 + length[..., None] * d
    heads = []
    for ang in (2.6, -2.6):
        c, s = np.cos(ang), np.sin(ang)
        rot = np.stack([c * d[..., 0] - s * d[..., 1], s * d[..., 0] + c * d[..., 1]], -1)
        heads.append(p1 + 0.3 * length[..., None] * rot)
    segs = [np.stack([p0, p1], -2)] + [np.stack([p1, hd], -2) for hd in heads]
    xy = np.concatenate([sg.reshape(-1, 2, 2) for sg in segs]).reshape(-1, 2)
    return xy[:, 0], xy[:, 1]
