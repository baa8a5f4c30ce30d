"""The density panel: a 2-D toy model's data, samples, live particles, energy / log-density on a grid,
normalised density, score field and readouts, on one zoomable plot or in Xiao 2022 Fig 5.3's
four-column figure layout; toy models can be trained live here.

All torch work is submitted to the window's ``Engine`` thread (``engine.submit``); long tasks (training,
particle chains) publish their latest state into plain attributes that a ~30 Hz timer draws, and poll a
cancel flag. Errors come back as data and show in the panel's status line.
"""
from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                               QProgressBar, QPushButton, QScrollArea, QSpinBox, QStackedWidget, QVBoxLayout,
                               QWidget)

from ..widgets.caption import make_caption

REFRESH_MS = 33          # ≥ 30 fps while particles move
MAX_DOTS = 5000          # above this, live particles are drawn as a density image
ARROWS = 64              # Langevin particle chains: drift and noise arrows of the last move for this many
TRAIL = 4                # frames of particle trails
LOG_SPAN = 30.0          # log-density images show at most this many nats below their maximum
TRAIL_MAX = 1000         # trails only for up to this many particles (they cost more than the dots)
DATASETS = ("25gaussians", "8gaussians", "9gaussians", "swissroll", "moons", "circles", "checkerboard",
            "pinwheel", "2spirals")
FAMILIES = ("ebm", "diffusion", "flow", "vae", "gan")
IMAGE_VIEWS = {
    "none": "none",
    "logp": "−E(x) / log p(x) on the grid",
    "density": "normalised density (grid)",
    "data": "data density (exact)",
}
USER_STD = 0.1            # kernel std of the user-drawn dataset
COLORS = {"data": (120, 180, 255, 150), "samples": (255, 150, 60, 170), "particles": (255, 255, 255, 220)}


def _cmap_lut(name: str = "viridis"):
    return pg.colormap.get(name).getLookupTable(nPts=256)


def compute_views(model, dataset, res: int = 150, n: int = 2500, seed: int = 0, score_t: int | None = None,
                  ode_res: int = 56, ode_steps: int = 40, with_readouts: bool = True) -> dict:
    """Everything the panel draws for ``model`` (None: data only) and ``dataset``, as NumPy arrays.

    Runs on the engine thread. Returns ``data`` (n, 2), ``samples`` (n, 2) or None, ``grid`` (lo, hi,
    res), ``logp`` (res, res) (−E, flow log p or ODE log p; diffusion uses ``ode_res``), ``density``
    (normalised, Σ·h² = 1), ``data_density``, ``score`` ((pts (M, 2), vectors (M, 2)) or None),
    ``readouts`` (``genviz.backend.toy.lab.readouts``) and ``kind``.
    """
    import torch
    from genviz.backend.toy.density import Grid, evaluate_on_grid, normalised_density
    from genviz.backend.toy.lab import grid_views, model_samples, readouts
    lo, hi = dataset.bounds
    out = {"data": dataset.sample(n, seed=seed + 1).numpy(), "samples": None, "logp": None, "density": None,
           "score": None, "readouts": None, "kind": None, "model": model}
    fam = getattr(model, "family", None)
    g = Grid(lo, hi, ode_res if fam == "diffusion" else res)
    out["grid"] = (g.lo, g.hi, g.res)
    if dataset.has_density:
        dg = Grid(lo, hi, res)
        ld = evaluate_on_grid(dataset.log_prob, dg)
        out["data_density"] = (normalised_density(ld, dg)[0], (dg.lo, dg.hi, dg.res))
    else:
        out["data_density"] = None
    if model is None:
        return out
    x = model_samples(model, n, seed)
    out["samples"] = x.numpy()
    if fam == "gan":  # no density: show the discriminator's logit instead (Goodfellow et al. 2014)
        out.update(logp=evaluate_on_grid(lambda p: model.discriminate(p).cpu(), g).numpy(), kind="discriminator")
    else:
        v = grid_views(model, g, ode_steps=ode_steps)
        out.update(logp=v["log_density"], density=v["density"], kind=v["kind"], log_z=v["log_z"])
        out["score"] = score_arrows(model, dataset, score_t)
    if with_readouts:
        out["readouts"] = readouts(model, dataset, samples=x, seed=seed, grid=Grid(lo, hi, res), ode_steps=100)
    return out


def score_arrows(model, dataset, t: int | None = None, m: int = 21):
    """(points (m², 2), score vectors (m², 2)) on an m × m grid over the dataset's range."""
    from genviz.backend.toy.density import Grid
    from genviz.backend.toy.lab import score_field
    g = Grid(*dataset.bounds, m)
    pts = g.points()
    return pts.numpy(), score_field(model, pts, t).numpy()


class DensityPanel(QWidget):
    """Controls (dataset, family, training, views, particles), a plot stack (one shared plot / the
    four-column figure) and readouts.

    Signals:
        message(text, is_error): for the window's status bar.
        computed(): a view computation finished (the readouts are up to date).
    """

    message = Signal(str, bool)
    computed = Signal()
    title = "Density"

    def __init__(self, engine, parent=None):
        super().__init__(parent)
        self.engine = engine
        self.model = None
        self.dataset = None
        self.result: dict | None = None
        self.busy = False
        self._cancel = False
        self._train_progress = None      # (step, steps, loss) written by the engine thread
        self._live = None                # (index, steps, x (N, 2)) written by the engine thread
        self._live_drawn = None
        self._trail: list = []
        self.chain_running = False
        self.training = False
        self.frames_drawn = 0
        self.chain_seed = 0            # seed of the next particle chain (each run takes the next one)
        self.latent_path = None        # the last drawn latent path: {"z": (F, 2), "x": (F, 2)}
        self._moves = None             # Langevin: (step, x_before (k, 2), drift (k, 2), noise (k, 2)) of the last move
        self.user_points: list = []
        self._build()
        self.path_box.setEnabled(False)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        self.set_dataset("25gaussians")

    # ---- layout ----------------------------------------------------------------------------------
    def _build(self) -> None:
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        controls = QWidget()
        controls.setFixedWidth(300)
        cl = QVBoxLayout(controls)
        cl.setContentsMargins(0, 0, 0, 0)

        box = QGroupBox("Data and model")
        f = QFormLayout(box)
        self.dataset_combo = QComboBox()
        self.dataset_combo.addItems(DATASETS)
        self.dataset_combo.addItem("user")
        self.dataset_combo.setObjectName("dataset")
        self.dataset_combo.setToolTip("the 2-D toy dataset (genviz.backend.toy.datasets)")
        self.dataset_combo.currentTextChanged.connect(self._dataset_changed)
        f.addRow("Dataset", self.dataset_combo)
        prow = QHBoxLayout()
        self.paint_check = QCheckBox("paint data")
        self.paint_check.setToolTip("drag on the plot to draw a 'user' dataset (a Gaussian mixture, std 0.1, on "
                                    "the drawn points); then Train live")
        self.paint_check.toggled.connect(self._paint_toggled)
        self.clear_btn = QPushButton("Clear")
        self.clear_btn.clicked.connect(self.clear_user_points)
        prow.addWidget(self.paint_check)
        prow.addWidget(self.clear_btn)
        f.addRow(prow)
        self.model_label = QLabel("no model")
        self.model_label.setWordWrap(True)
        f.addRow("Model", self.model_label)
        self.family_combo = QComboBox()
        self.family_combo.addItems(FAMILIES)
        self.family_combo.setToolTip("ebm: short-run Langevin ML; diffusion: DDPM ε-MLP; flow: neural spline flow; "
                                     "vae: ELBO; gan: non-saturating GAN (no density)")
        f.addRow("Train", self.family_combo)
        self.train_steps = QSpinBox()
        self.train_steps.setRange(10, 100000)
        self.train_steps.setValue(600)
        self.train_steps.setToolTip("optimisation steps (the bundled models used the recipe's defaults)")
        f.addRow("Steps", self.train_steps)
        row = QHBoxLayout()
        self.train_btn = QPushButton("Train live")
        self.train_btn.clicked.connect(self.train_live)
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.clicked.connect(self.cancel)
        self.cancel_btn.setEnabled(False)
        row.addWidget(self.train_btn)
        row.addWidget(self.cancel_btn)
        f.addRow(row)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.progress.setFormat("idle")
        f.addRow(self.progress)
        cl.addWidget(box)

        vbox = QGroupBox("Views")
        vf = QFormLayout(vbox)
        self.layout_combo = QComboBox()
        self.layout_combo.addItem("one plot", "plot")
        self.layout_combo.addItem("figure (Xiao 2022 Fig 5.3)", "figure")
        self.layout_combo.currentIndexChanged.connect(self._layout_changed)
        vf.addRow("Layout", self.layout_combo)
        self.image_combo = QComboBox()
        for k, v in IMAGE_VIEWS.items():
            self.image_combo.addItem(v, k)
        self.image_combo.setCurrentIndex(1)
        self.image_combo.currentIndexChanged.connect(self.redraw)
        vf.addRow("Image", self.image_combo)
        self.checks = {}
        for key, label, on in (("data", "data samples", True), ("samples", "model samples", True),
                               ("particles", "live particles", True), ("score", "score arrows", False),
                               ("moves", "drift / noise of each move", True)):
            cb = QCheckBox(label)
            cb.setChecked(on)
            cb.toggled.connect(self.redraw)
            self.checks[key] = cb
            vf.addRow(cb)
        self.t_spin = QSpinBox()
        self.t_spin.setRange(0, 999)
        self.t_spin.setValue(0)
        self.t_spin.setToolTip("diffusion: the timestep t at which the score −ε̂(x, t)/√(1−ᾱ_t) is drawn")
        self.t_spin.valueChanged.connect(self._t_changed)
        vf.addRow("score at t", self.t_spin)
        self.res_spin = QSpinBox()
        self.res_spin.setRange(20, 400)
        self.res_spin.setValue(150)
        self.res_spin.setToolTip("grid resolution per side (diffusion's ODE density uses at most 56)")
        vf.addRow("grid res", self.res_spin)
        self.recompute_btn = QPushButton("Recompute views")
        self.recompute_btn.clicked.connect(lambda: self.compute())
        vf.addRow(self.recompute_btn)
        self.export_btn = QPushButton("Export figure PNG…")
        self.export_btn.clicked.connect(self.export_dialog)
        vf.addRow(self.export_btn)
        cl.addWidget(vbox)

        pbox = QGroupBox("Particles")
        pf = QFormLayout(pbox)
        self.n_spin = QSpinBox()
        self.n_spin.setRange(1, 100000)
        self.n_spin.setValue(2000)
        self.n_spin.setToolTip(f"particles; above {MAX_DOTS} they are drawn as a density image")
        pf.addRow("particles", self.n_spin)
        self.slow_check = QCheckBox("slow (20 ms per step)")
        self.slow_check.setChecked(True)
        pf.addRow(self.slow_check)
        self.run_btn = QPushButton("Run chain")
        self.run_btn.setToolTip("run the model's default sampler and watch the particles move")
        self.run_btn.clicked.connect(self.run_chain)
        pf.addRow(self.run_btn)
        self.chain_label = QLabel("")
        self.chain_label.setWordWrap(True)
        pf.addRow(self.chain_label)
        cl.addWidget(pbox)

        lbox = QGroupBox("Latent path")
        lf = QFormLayout(lbox)
        self.path_method = QComboBox()
        for m in ("lerp", "slerp", "rho"):
            self.path_method.addItem(m, m)
        self.path_method.setCurrentIndex(1)
        self.path_method.setToolTip("how to walk between the two base-noise points (lerp: straight line; slerp: arc "
                                    "that keeps a typical length; rho: variance-preserving z_ρ)")
        lf.addRow("method", self.path_method)
        seeds = QHBoxLayout()
        self.path_seed_a, self.path_seed_b = QSpinBox(), QSpinBox()
        for w, v in ((self.path_seed_a, 0), (self.path_seed_b, 1)):
            w.setRange(0, 2**31 - 1)
            w.setValue(v)
            w.setToolTip("endpoint z_s = randn(2) with this seed (the same z that `genviz sample --n 1 --seed s` uses)")
            seeds.addWidget(w)
        lf.addRow("seeds A, B", seeds)
        self.path_frames = QSpinBox()
        self.path_frames.setRange(2, 200)
        self.path_frames.setValue(24)
        lf.addRow("frames", self.path_frames)
        self.path_btn = QPushButton("Draw latent path")
        self.path_btn.setToolTip("walk between two points of the model's latent (a flow's base noise, a VAE/GAN code) "
                                 "and draw the path in latent space (small plot) and in data space (big plot)")
        self.path_btn.clicked.connect(self.draw_latent_path)
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
        cl.addWidget(lbox)
        self.path_box = lbox

        self.readout = QLabel("")
        self.readout.setObjectName("readout")
        self.readout.setWordWrap(True)
        self.readout.setTextFormat(Qt.TextFormat.RichText)
        self.readout.setAlignment(Qt.AlignmentFlag.AlignTop)
        cl.addWidget(self.readout, 1)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        cl.addWidget(self.status)
        scroll = QScrollArea()  # the controls scroll on small screens instead of growing the window
        scroll.setWidget(controls)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFixedWidth(318)
        lay.addWidget(scroll)

        self.stack = QStackedWidget()
        right = QVBoxLayout()
        right.addWidget(self.stack, 1)
        self.caption = make_caption()
        right.addWidget(self.caption)
        lay.addLayout(right, 1)
        # one shared plot
        self.plot = pg.PlotWidget()
        self.plot.setAspectLocked(True)
        self.plot.showGrid(x=False, y=False)
        self.image = pg.ImageItem()
        self.image.setLookupTable(_cmap_lut())
        self.plot.addItem(self.image)
        self.data_dots = pg.ScatterPlotItem(size=3, pen=None, brush=pg.mkBrush(*COLORS["data"]))
        self.sample_dots = pg.ScatterPlotItem(size=3, pen=None, brush=pg.mkBrush(*COLORS["samples"]))
        self.trail_curve = pg.PlotCurveItem(pen=pg.mkPen(255, 255, 255, 70, width=1), connect="pairs")
        self.particle_dots = pg.ScatterPlotItem(size=3, pen=None, brush=pg.mkBrush(*COLORS["particles"]))
        self.particle_image = pg.ImageItem()
        self.particle_image.setLookupTable(pg.colormap.get("inferno").getLookupTable(nPts=256))
        self.score_curve = pg.PlotCurveItem(pen=pg.mkPen(240, 240, 240, 200, width=1), connect="pairs")
        self.path_curve = pg.PlotCurveItem(pen=pg.mkPen(255, 176, 0, 230, width=2))
        self.drift_curve = pg.PlotCurveItem(pen=pg.mkPen(255, 176, 0, 240, width=2), connect="pairs")
        self.noise_curve = pg.PlotCurveItem(pen=pg.mkPen(79, 163, 255, 240, width=2), connect="pairs")
        self.path_dots = pg.ScatterPlotItem(size=7, pen=pg.mkPen(20, 20, 20), brush=pg.mkBrush(255, 176, 0, 240))
        self.score_heads = pg.ScatterPlotItem(size=3, pen=None, brush=pg.mkBrush(255, 80, 80, 230))
        for it in (self.particle_image, self.data_dots, self.sample_dots, self.trail_curve, self.particle_dots,
                   self.score_curve, self.score_heads, self.path_curve, self.path_dots, self.drift_curve,
                   self.noise_curve):
            self.plot.addItem(it)
        self.legend = self.plot.addLegend(offset=(10, 10))
        self.legend.addItem(self.data_dots, "data")
        self.legend.addItem(self.sample_dots, "model samples")
        self.legend.addItem(self.particle_dots, "particles")
        self.stack.addWidget(self.plot)
        self.plot.viewport().installEventFilter(self)
        # the figure: four columns
        self.figure = pg.GraphicsLayoutWidget()
        self.fig_plots = []
        for col, title in enumerate(("data", "samples", "−E(x) on grid", "normalised density")):
            p = self.figure.addPlot(row=0, col=col, title=title)
            p.setAspectLocked(True)
            p.hideAxis("left")
            p.hideAxis("bottom")
            p.setMouseEnabled(x=False, y=False)
            p.hideButtons()
            self.fig_plots.append(p)
        self.fig_data = pg.ScatterPlotItem(size=2, pen=None, brush=pg.mkBrush(*COLORS["data"]))
        self.fig_samples = pg.ScatterPlotItem(size=2, pen=None, brush=pg.mkBrush(*COLORS["samples"]))
        self.fig_logp = pg.ImageItem()
        self.fig_logp.setLookupTable(_cmap_lut())
        self.fig_dens = pg.ImageItem()
        self.fig_dens.setLookupTable(_cmap_lut())
        for p, it in zip(self.fig_plots, (self.fig_data, self.fig_samples, self.fig_logp, self.fig_dens)):
            p.addItem(it)
        for col in range(4):
            self.figure.ci.layout.setColumnStretchFactor(col, 1)
        self.fig_caption = self.figure.addLabel("", row=1, col=0, colspan=4)
        self.stack.addWidget(self.figure)

    # ---- model and dataset -----------------------------------------------------------------------
    def set_model(self, model) -> None:
        """Show ``model`` (a 2-D toy EBM / diffusion / flow model, or any model: others are refused
        with a notice). Picks the model's dataset and computes the views."""
        if model is None or getattr(model, "data_shape", None) != (2,) or "density" not in model.capabilities():
            self.model = None
            self.clear_latent_path()
            self.path_box.setEnabled(False)
            self.model_label.setText("no 2-D model loaded" if model is None else
                                     f"{model.name} ({model.family}) is not a 2-D toy model: showing data only")
            self.compute()
            return
        self.model = model
        self.clear_latent_path()
        self.path_box.setEnabled(self.has_latent())
        self.model_label.setText(f"<b>{model.name}</b> ({model.family})")
        self.family_combo.setCurrentText(model.family)
        if model.family == "diffusion":
            self.t_spin.setMaximum(model.num_train_timesteps - 1)
        ds = getattr(model, "dataset", None)
        if ds in DATASETS and ds != self.dataset_combo.currentText():
            self.dataset_combo.blockSignals(True)
            self.dataset_combo.setCurrentText(ds)
            self.dataset_combo.blockSignals(False)
            self._make_dataset(ds, (model.metadata.get("data", {}).get("params") or {}))
        self.image_combo.setItemText(1, {"ebm": "−E(x) on the grid", "flow": "log p(x) (flow, exact)",
                                         "diffusion": "log p(x) (probability-flow ODE)", "vae": "ELBO(x) (VAE)",
                                         "gan": "D(x) logit (GAN: no density)"}[model.family])
        self.compute()

    def set_dataset(self, name: str) -> None:
        """Pick the dataset ``name`` (ValueError for an unknown one); recompute the views."""
        if name not in DATASETS + ("user",):
            raise ValueError(f"unknown dataset {name!r}")
        if self.dataset_combo.currentText() != name:
            self.dataset_combo.setCurrentText(name)  # -> _dataset_changed
        else:
            self._dataset_changed(name)

    def _make_dataset(self, name: str, params: dict | None = None) -> None:
        from genviz.backend.toy.datasets import make_dataset, user_dataset
        if name == "user":
            pts = np.asarray(self.user_points, np.float32).reshape(-1, 2)
            self.dataset = user_dataset(pts, std=USER_STD) if len(pts) else None
            if self.dataset is not None:
                self.dataset.bounds = (-5.0, 5.0)
            return
        self.dataset = make_dataset(name, **(params or {}))
        lo, hi = self.dataset.bounds
        self.plot.setRange(xRange=(lo, hi), yRange=(lo, hi), padding=0.02)

    def _dataset_changed(self, name: str) -> None:
        self._make_dataset(name)
        if name == "user" and self.dataset is None:
            self.model = None
            self.result = None
            self.model_label.setText("paint a dataset: tick 'paint data' and drag on the plot")
            self._clear_plot()
            self.plot.setRange(xRange=(-5, 5), yRange=(-5, 5), padding=0.02)
            return
        if self.model is not None and self.model.dataset != name:
            self.model = None
            self.clear_latent_path()
            self.path_box.setEnabled(False)
            self.model_label.setText("no model for this dataset: train one live or load a toy checkpoint")
        self.compute()

    # ---- user-drawn data (GAN Lab's "draw your own distribution") --------------------------------
    def _paint_toggled(self, on: bool) -> None:
        self.plot.setMouseEnabled(x=not on, y=not on)
        if on and self.dataset_combo.currentText() != "user":
            self.dataset_combo.setCurrentText("user")

    def add_user_points(self, pts) -> None:
        """Append drawn points (M, 2) in data coordinates to the 'user' dataset and redraw them."""
        pts = np.asarray(pts, np.float32).reshape(-1, 2)
        self.user_points.extend(pts.tolist())
        self.data_dots.setData(pos=np.asarray(self.user_points, np.float32))

    def finish_painting(self) -> None:
        """Rebuild the 'user' dataset from the drawn points and recompute the views."""
        if self.dataset_combo.currentText() != "user":
            self.dataset_combo.setCurrentText("user")
        self._make_dataset("user")
        if self.dataset is not None:
            if self.model is None:
                self.model_label.setText(f"user-drawn data: {len(self.user_points)} points — pick a family and "
                                         "Train live")
            self.compute()

    def clear_user_points(self) -> None:
        self.user_points = []
        if self.dataset_combo.currentText() == "user":
            self._dataset_changed("user")

    def _clear_plot(self) -> None:
        for it in (self.data_dots, self.sample_dots, self.particle_dots, self.score_heads):
            it.clear()
        for it in (self.score_curve, self.trail_curve):
            it.setData([], [])
        self.image.setVisible(False)
        self.readout.setText("")

    def eventFilter(self, obj, ev):  # noqa: N802 (Qt override): painting on the plot's viewport
        from PySide6.QtCore import QEvent
        if self.paint_check.isChecked() and obj is self.plot.viewport():
            t = ev.type()
            if t in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove) and (ev.buttons() & Qt.MouseButton.LeftButton):
                p = self.plot.getViewBox().mapSceneToView(self.plot.mapToScene(ev.position().toPoint()))
                rng = np.random.default_rng(len(self.user_points))
                self.add_user_points(np.array([[p.x(), p.y()]]) + 0.05 * rng.standard_normal((3, 2)))
                return True
            if t == QEvent.Type.MouseButtonRelease:
                self.finish_painting()
                return True
        return super().eventFilter(obj, ev)

    # ---- background work -------------------------------------------------------------------------
    def compute(self, with_readouts: bool = True) -> None:
        """Recompute every view (samples, grid images, score field, readouts) on the engine thread."""
        if self.dataset is None:
            return
        model, ds, res, t = self.model, self.dataset, self.res_spin.value(), self.t_spin.value()
        self.busy = True
        self.status.setText("computing views…")
        self.engine.submit(lambda: compute_views(model, ds, res=res, score_t=t, with_readouts=with_readouts),
                           self._computed, self._failed)

    def _computed(self, result: dict) -> None:
        if result.get("model") is not self.model:
            self.busy = False
            return  # stale (the model changed meanwhile)
        self.result = result
        self.busy = False
        self.status.setText("")
        self.redraw()
        self._show_readouts()
        self.computed.emit()

    def _failed(self, msg: str) -> None:
        self.busy = False
        self.training = False
        self.chain_running = False
        self._set_running(False)
        self.status.setText(f"<span style='color:#ff6b6b'>{msg}</span>")
        self.message.emit(msg, True)

    def _t_changed(self, t: int) -> None:
        if self.model is None or self.model.family != "diffusion" or self.result is None:
            return
        model, ds = self.model, self.dataset
        self.engine.submit(lambda: score_arrows(model, ds, t), self._score_done, self._failed)

    def _score_done(self, score) -> None:
        if self.result is not None:
            self.result["score"] = score
            self.redraw()

    def cancel(self) -> None:
        """Stop a running training or particle chain (at its next step)."""
        self._cancel = True

    def _set_running(self, on: bool) -> None:
        for w in (self.train_btn, self.run_btn, self.recompute_btn, self.dataset_combo):
            w.setEnabled(not on)
        self.cancel_btn.setEnabled(on)

    def train_live(self) -> None:
        """Train a model of the chosen family on the chosen dataset (``train_steps`` steps) on the engine
        thread, with progress; then show it."""
        from genviz.backend.training.toy import train
        ds_name, fam, steps = self.dataset_combo.currentText(), self.family_combo.currentText(), self.train_steps.value()
        ds = self.dataset
        if ds is None:
            self.status.setText("paint some data first")
            return
        self._cancel = False
        self.training = True
        self._train_progress = (0, steps, float("nan"))
        self._set_running(True)
        self.progress.setFormat(f"training {fam}: %p%")

        def task():
            import torch
            with torch.inference_mode(False), torch.enable_grad():
                return train(ds_name, fam, steps, None, dataset_obj=ds, log=None,
                             progress=lambda i, n, loss: setattr(self, "_train_progress", (i, n, loss)),
                             should_stop=lambda: self._cancel)

        self.engine.submit(task, self._trained, self._train_failed)

    def _trained(self, model) -> None:
        self.training = False
        self._set_running(False)
        self.progress.setValue(100)
        self.progress.setFormat(f"trained {model.family} ({model.metadata['training']['seconds']} s)")
        model.metadata["name"] = model.name = f"live-{model.dataset}-{model.family}"
        self.message.emit(f"trained {model.name} in {model.metadata['training']['seconds']} s", False)
        self.set_model(model)

    def _train_failed(self, msg: str) -> None:
        self.training = False
        self._set_running(False)
        self.progress.setFormat("cancelled" if "cancelled" in msg else "failed")
        if "cancelled" in msg:
            self.status.setText(msg)
        else:
            self._failed(msg)

    def run_chain(self) -> None:
        """Run the model's default sampler with ``n`` particles on the engine thread; the timer draws the
        latest state (dots with short trails up to 5k, a density image above)."""
        if self.model is None:
            self.status.setText("load or train a model first")
            return
        from genviz.backend import chain
        model, n, slow, seed = self.model, self.n_spin.value(), self.slow_check.isChecked(), self.chain_seed
        self.chain_seed += 1
        d = dict(model.default_sampler)
        name, steps = d.pop("name"), d.pop("steps", 50)
        self._cancel = False
        self.chain_running = True
        self._trail = []
        self._live = None
        self._moves = None
        self._set_running(True)

        def task():
            last = None
            for rec in chain(model, name, steps=steps, n=n, seed=seed, **d):
                if self._cancel:
                    break
                last = (rec.index, rec.steps, rec.x.detach().float().cpu().numpy())
                if rec.drift is not None:  # Langevin: the last move of the first particles, split in two terms
                    k = min(ARROWS, len(rec.x))
                    prev = self._live[2][:k] if self._live is not None else None
                    noise = rec.noise[:k] if rec.noise is not None else rec.drift[:k] * 0
                    if prev is not None:
                        self._moves = (rec.index, prev.reshape(-1, 2), rec.drift[:k].float().cpu().numpy().reshape(-1, 2),
                                       noise.float().cpu().numpy().reshape(-1, 2))
                self._live = last
                if slow:
                    time.sleep(0.02)
            return last

        self.engine.submit(task, self._chain_done, self._failed)

    def _chain_done(self, last) -> None:
        self.chain_running = False
        self._set_running(False)
        self.refresh()
        if last is not None:
            self.chain_label.setText(f"step {last[0]} / {last[1]}" + (" (cancelled)" if self._cancel else " — done"))

    # ---- latent paths (flows, toy VAE/GAN) -------------------------------------------------------
    def has_latent(self) -> bool:
        """Whether the loaded model has a latent to walk in (a flow's base noise, a toy VAE/GAN code)."""
        return self.model is not None and callable(getattr(self.model, "decode", None))

    def draw_latent_path(self) -> None:
        """Walk from z_A to z_B (seeds, ``path_method``, ``path_frames`` frames) in the model's latent and draw
        the path in latent space (small plot) and its image in data space (main plot), on the engine thread.
        Same paths as the interpolation panel (``genviz.backend.interpolation``)."""
        if not self.has_latent():
            self.status.setText("latent paths need a model with a latent: a flow, or a toy VAE or GAN")
            return
        from genviz.backend.interpolation import interpolate, latent_space
        model, method, frames = self.model, self.path_method.currentData(), self.path_frames.value()
        sa, sb = self.path_seed_a.value(), self.path_seed_b.value()

        def task():
            space = latent_space(model)
            res = interpolate(space, [space.seed_latent(sa), space.seed_latent(sb)], method, frames)
            return {"z": res["latents"].reshape(frames, -1).numpy(), "x": res["unit"].reshape(frames, -1),
                    "model": model}

        self.status.setText(f"walking {method} from z_{sa} to z_{sb}…")
        self.engine.submit(task, self._path_done, self._failed)

    def _path_done(self, res: dict) -> None:
        if res["model"] is not self.model:
            return
        self.latent_path = res
        z, x = res["z"][:, :2], res["x"][:, :2]
        self.latent_curve.setData(z[:, 0], z[:, 1])
        self.latent_dots.setData(pos=z)
        self.path_curve.setData(x[:, 0], x[:, 1])
        self.path_dots.setData(pos=x)
        norms = np.linalg.norm(res["z"], axis=1)
        self.status.setText(f"{self.path_method.currentData()} path, {len(z)} frames: ‖z‖ from {norms.min():.2f} to "
                            f"{norms.max():.2f} (orange: in latent space, small plot; in data space, big plot)")

    def clear_latent_path(self) -> None:
        self.latent_path = None
        for c in (self.latent_curve, self.path_curve):
            c.setData([], [])
        for d in (self.latent_dots, self.path_dots):
            d.clear()

    # ---- sessions, presets, captions (demo mode) ------------------------------------------------
    def session_state(self) -> dict:
        """The panel as data: dataset, layout, image view, shown layers, t, grid resolution, particles and the
        seed of the next particle chain (painted points too, for the user-drawn dataset)."""
        out = {"dataset": self.dataset_combo.currentText(), "layout": self.layout_combo.currentData(),
               "image": self.image_combo.currentData(), "views": {k: cb.isChecked() for k, cb in self.checks.items()},
               "t": self.t_spin.value(), "res": self.res_spin.value(), "n": self.n_spin.value(),
               "slow": self.slow_check.isChecked(), "chain_seed": self.chain_seed}
        if self.user_points:
            out["user_points"] = np.asarray(self.user_points, float).reshape(-1, 2).tolist()
        return out

    def restore_session(self, data: dict, on_done=None) -> None:
        """Set the controls from ``session_state()``-style data (also a preset's ``state``) and recompute the
        views; ``on_done()`` is called when they are computed. Raises ValueError on unknown values."""
        for combo, key in ((self.layout_combo, "layout"), (self.image_combo, "image")):
            if key in data:
                i = combo.findData(data[key])
                if i < 0:
                    raise ValueError(f"density panel: unknown {key} {data[key]!r}")
                combo.setCurrentIndex(i)
        for k, on in (data.get("views") or {}).items():
            if k in self.checks:
                self.checks[k].setChecked(bool(on))
        for w, key in ((self.t_spin, "t"), (self.res_spin, "res"), (self.n_spin, "n")):
            if key in data:
                w.setValue(int(data[key]))
        if "slow" in data:
            self.slow_check.setChecked(bool(data["slow"]))
        self.chain_seed = int(data.get("chain_seed", self.chain_seed))
        if data.get("user_points"):
            self.user_points = [tuple(p) for p in data["user_points"]]
        ds = data.get("dataset")
        if ds and ds != self.dataset_combo.currentText():
            self.set_dataset(ds)
        elif not self.busy:
            self.compute()
        if on_done is None:
            return
        poll = QTimer(self)
        poll.setInterval(50)

        def check():
            if not self.busy:
                poll.stop()
                poll.deleteLater()
                on_done()
        poll.timeout.connect(check)
        poll.start()

    def run(self) -> None:
        """Run the particle chain (demo presets' "run")."""
        self.run_chain()

    def advanced_controls(self) -> dict:
        """Controls presentation mode may hide."""
        return {"resolution": self.res_spin, "t": self.t_spin, "train_steps": self.train_steps,
                "layout": self.layout_combo}

    def update_caption(self) -> None:
        """Say in plain words what the plot shows (refresh timer)."""
        from ..captions import density_caption
        live = self._live
        self.caption.setText(density_caption(
            self.model.family if self.model is not None else None, self.dataset_combo.currentText(),
            self.image_combo.currentData(), self.chain_running, None if live is None else live[0],
            None if live is None else live[1], self.training, {k: cb.isChecked() for k, cb in self.checks.items()}))

    # ---- default action (screenshots) ------------------------------------------------------------
    def run_default(self) -> bool:
        """The panel's default action: compute every view and the readouts (already queued on load)."""
        if self.result is None and not self.busy:
            self.compute()
        return True

    def default_done(self) -> bool:
        return not self.busy and not self.training and not self.chain_running and self.result is not None

    def shutdown(self) -> None:
        """Stop the timer and any running training or chain (the engine drops them at its next check)."""
        self._cancel = True
        self.timer.stop()

    # ---- drawing ---------------------------------------------------------------------------------
    def _layout_changed(self) -> None:
        self.stack.setCurrentIndex(0 if self.layout_combo.currentData() == "plot" else 1)
        self.redraw()

    def image_view(self) -> str:
        return self.image_combo.currentData()

    @staticmethod
    def _set_image(item: pg.ImageItem, arr, grid, log: bool = False) -> None:
        if arr is None:
            item.clear()
            item.setVisible(False)
            return
        a = np.asarray(arr, np.float64)
        finite = np.isfinite(a)
        if not finite.any():
            item.clear()
            return
        hi_v = a[finite].max()
        # log images: 1st percentile, but at most LOG_SPAN nats below the maximum (else a few very low
        # border values flatten the picture)
        lo_v = max(np.percentile(a[finite], 1.0), hi_v - LOG_SPAN) if log else 0.0
        a = np.where(finite, a, lo_v)
        item.setImage(np.ascontiguousarray(a.T.astype(np.float32)), levels=(lo_v, hi_v if hi_v > lo_v else lo_v + 1))
        lo, hi, _ = grid
        item.setRect(QRectF(lo, lo, hi - lo, hi - lo))
        item.setVisible(True)

    def redraw(self) -> None:
        """Redraw every static view from the latest computed result (cheap; GUI thread)."""
        r = self.result
        if r is None:
            return
        view = self.image_view()
        if view == "logp":
            self._set_image(self.image, r["logp"], r["grid"], log=True)
        elif view == "density":
            self._set_image(self.image, r["density"], r["grid"])
        elif view == "data" and r["data_density"] is not None:
            self._set_image(self.image, r["data_density"][0], r["data_density"][1])
        else:
            self._set_image(self.image, None, None)
        show = {k: cb.isChecked() for k, cb in self.checks.items()}
        self.data_dots.setData(pos=r["data"]) if show["data"] else self.data_dots.clear()
        if show["samples"] and r["samples"] is not None:
            self.sample_dots.setData(pos=np.nan_to_num(r["samples"]))
        else:
            self.sample_dots.clear()
        if show["score"] and r["score"] is not None:
            pts, vec = r["score"]
            lo, hi, _ = r["grid"]
            norm = np.linalg.norm(vec, axis=1, keepdims=True)
            step = (hi - lo) / 21 * 0.8
            d = vec / np.maximum(norm, 1e-12) * step * np.clip(norm / (np.median(norm) + 1e-12), 0.2, 1.0)
            heads = pts + d
            seg = np.empty((2 * len(pts), 2))
            seg[0::2], seg[1::2] = pts, heads
            self.score_curve.setData(seg[:, 0], seg[:, 1])
            self.score_heads.setData(pos=heads)
        else:
            self.score_curve.setData([], [])
            self.score_heads.clear()
        self._draw_particles(force=True)
        self._draw_figure()

    def _draw_figure(self) -> None:
        r = self.result
        if r is None:
            return
        self.fig_data.setData(pos=r["data"])
        self.fig_samples.setData(pos=np.nan_to_num(r["samples"])) if r["samples"] is not None else self.fig_samples.clear()
        self._set_image(self.fig_logp, r["logp"], r["grid"], log=True)
        self._set_image(self.fig_dens, r["density"], r["grid"])
        lo, hi, res = r["grid"]
        for p in self.fig_plots:
            p.setRange(xRange=(lo, hi), yRange=(lo, hi), padding=0.02)
        kind = {"neg_energy": "−E(x) on grid", "flow": "flow log p(x) (exact)", "ode": "ODE log p(x)",
                "elbo": "ELBO(x) on grid", "discriminator": "D(x) logit (GAN has no density)"}.get(r["kind"], "−E(x) on grid")
        self.fig_plots[2].setTitle(kind)
        name = self.model.name if self.model is not None else "(no model)"
        mass = (f"normalised density sums to {self._mass(r):.4f}" if r.get("density") is not None
                else "no density to normalise (a GAN has none)")
        self.fig_plots[3].setTitle("normalised density" if r.get("density") is not None else "— (no density)")
        self.fig_caption.setText(f"{name} on {self.dataset.name} — grid [{lo:g}, {hi:g}]², {res}×{res}; {mass}")

    @staticmethod
    def _mass(r) -> float:
        if r.get("density") is None:
            return float("nan")
        lo, hi, res = r["grid"]
        return float(np.sum(r["density"]) * ((hi - lo) / res) ** 2)

    def _draw_moves(self) -> None:
        """Langevin chains: each of the first ``ARROWS`` particles' last move as two segments, the drift (orange,
        from x) then the noise (blue, from x + drift); x_new = x + drift + noise."""
        mv = self._moves
        if mv is None or not self.checks["moves"].isChecked() or not self.checks["particles"].isChecked():
            self.drift_curve.setData([], [])
            self.noise_curve.setData([], [])
            return
        _, x0, d, n = mv

        def pairs(a, b):
            s = np.empty((2 * len(a), 2))
            s[0::2], s[1::2] = a, b
            return s
        sd, sn = pairs(x0, x0 + d), pairs(x0 + d, x0 + d + n)
        self.drift_curve.setData(sd[:, 0], sd[:, 1])
        self.noise_curve.setData(sn[:, 0], sn[:, 1])

    def _draw_particles(self, force: bool = False) -> None:
        live = self._live
        self._draw_moves()
        if live is None or not self.checks["particles"].isChecked():
            self.particle_dots.clear()
            self.trail_curve.setData([], [])
            self.particle_image.setVisible(False)
            return
        if live is self._live_drawn and not force:
            return
        idx, steps, x = live
        x = np.nan_to_num(x.reshape(-1, 2), nan=0.0, posinf=1e6, neginf=-1e6)
        if live is not self._live_drawn:
            self._trail.append(x)
            self._trail = self._trail[-TRAIL:]
        self._live_drawn = live
        if len(x) <= MAX_DOTS:
            self.particle_image.setVisible(False)
            self.particle_dots.setData(pos=x)
            if len(x) <= TRAIL_MAX and len(self._trail) >= 2:
                segs = []
                for a, b in zip(self._trail[:-1], self._trail[1:]):
                    s = np.empty((2 * len(a), 2))
                    s[0::2], s[1::2] = a, b
                    segs.append(s)
                s = np.concatenate(segs)
                self.trail_curve.setData(s[:, 0], s[:, 1])
            else:
                self.trail_curve.setData([], [])
        else:
            from genviz.backend.toy.density import Grid, histogram_density
            lo, hi = self.dataset.bounds
            g = Grid(lo, hi, 256)
            h = histogram_density(x, g)
            self.particle_dots.clear()
            self.trail_curve.setData([], [])
            self._set_image(self.particle_image, h, (lo, hi, 256))
        moves = ""
        if self._moves is not None and self.checks["moves"].isChecked():
            _, _, d, n = self._moves
            moves = (f" · last move of {len(d)}: drift (orange) ‖·‖ {np.linalg.norm(d, axis=1).mean():.3g}, "
                     f"noise (blue) {np.linalg.norm(n, axis=1).mean():.3g}")
        self.chain_label.setText(f"step {idx} / {steps} · {len(x)} particles"
                                 + (" (density image)" if len(x) > MAX_DOTS else "") + moves)
        self.frames_drawn += 1

    def refresh(self) -> None:
        """Timer tick (~30 Hz): draw the latest particles and the training progress."""
        self._caption_tick = (getattr(self, "_caption_tick", 0) + 1) % 8
        if self._caption_tick == 0:
            self.update_caption()
        if self._train_progress is not None and self.training:
            i, n, loss = self._train_progress
            self.progress.setValue(int(100 * i / max(n, 1)))
            self.progress.setFormat(f"training: step {i}/{n} · loss {loss:+.3f}")
        if self._live is not None and self._live is not self._live_drawn:
            self._draw_particles()

    def _show_readouts(self) -> None:
        r = (self.result or {}).get("readouts")
        if r is None:
            self.readout.setText("<i>data only: load or train a model for readouts</i>")
            return
        rows = []

        def f(v, fmt="{:+.3f}"):
            return "—" if v is None else fmt.format(v)
        src = {"neg_energy": "grid-normalised −E", "flow": "flow, exact", "ode": "probability-flow ODE",
               "elbo": "ELBO, a lower bound"}.get(r.get("density_kind"), "none: a GAN has no density")
        rows.append(f"<b>test log-likelihood</b> (nats/point, {src}): {f(r['log_likelihood'])}")
        rows.append(f"data's exact value on the same points: {f(r['data_log_likelihood'])}")
        if r.get("log_z") is not None:
            rows.append(f"log Z (grid): {r['log_z']:.3f}")
        mc = r.get("mode_coverage")
        if mc:
            rows.append(f"<b>modes covered</b>: {mc['modes_covered']} / {mc['modes']} (≥ {mc['min_count']} within "
                        f"{mc['k']:g} std)")
            rows.append(f"<b>high-quality share</b>: {100 * mc['high_quality']:.1f} %")
        rows.append(f"<b>MMD²</b>: {f(r['mmd2'], '{:.4f}')} · energy distance: {f(r['energy_distance'], '{:.4f}')}")
        rows.append(f"<span style='color:#9aa0aa'>{r['n']} samples; grid {r['grid']}</span>")
        self.readout.setText("<br>".join(rows))

    # ---- export ----------------------------------------------------------------------------------
    def export_figure(self, path: str) -> None:
        """Save the four-column figure (data, samples, −E / log p, normalised density) as a PNG."""
        prev = self.stack.currentIndex()
        self.stack.setCurrentIndex(1)
        self._draw_figure()
        self.figure.resize(1600, 470)
        ok = self.figure.grab().save(str(path), "PNG")
        self.stack.setCurrentIndex(prev)
        if not ok:
            raise OSError(f"could not write {path}")

    def export_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export figure", "genviz-density.png", "PNG images (*.png)")
        if path:
            try:
                self.export_figure(path)
                self.message.emit(f"saved {path}", False)
            except Exception as e:
                self.message.emit(f"export failed: {e}", True)


class _NoEngine:
    """Stands in for the window's engine where nothing is computed (the particle benchmark)."""

    def submit(self, *args, **kwargs) -> None:
        pass

    def pending(self) -> int:
        return 0


def bench_particles_fps(n: int = 5000, frames: int = 60, seed: int = 0) -> float:
    """Redraw rate (frames/s) of the density panel's live particles: ``n`` points taking a random-walk step
    every frame, each frame drawn (dots, trails where n <= 1000, density image above 5,000) and painted
    synchronously in a shown 1000x700 panel. Used by ``genviz bench`` (key ``particles_5k_fps``)."""
    from PySide6.QtWidgets import QApplication
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
        panel._live = (i, frames, x)
        panel._draw_particles()
        panel.plot.viewport().repaint()
        app.processEvents()
    fps = frames / (time.perf_counter() - t0)
    panel.close()
    panel.deleteLater()
    return fps
