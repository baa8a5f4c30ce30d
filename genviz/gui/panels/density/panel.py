"""The density panel: a 2-D toy model's data, samples, live particles, energy / log-density on a grid,
normalised density, score field and readouts, on one zoomable plot or in Xiao 2022 Fig 5.3's four-column
figure layout; toy models can be trained live here, with a loss curve and the model redrawn as it learns.

This module wires the widgets (``controls``, ``latent``, ``plot``, ``figure``) to the state (``model``) and the
window's ``Engine``: one-shot work (views, datasets, score arrows, latent paths) goes through
``engine.submit``, long work (live training, particle chains) through ``engine.submit_job`` generators whose
newest value comes back to the GUI thread; the computing is in ``genviz.backend.toy.views`` / ``live``.
Errors come back as data and show in the panel's status line.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QScrollArea, QStackedWidget, QVBoxLayout, QWidget

from ...widgets.caption import make_caption
from .controls import DataModelBox, ParticlesBox, ViewsBox
from .drawing import DensityDrawing
from .figure import DensityFigure
from .jobs import DensityJobs
from .latent import LatentPathBox
from .model import (
    DATASETS,
    IMAGE_VIEWS,
    LOGP_LABELS,
    REFRESH_MS,
    USER_BOUNDS,
    USER_STD,
    DensityState,
    live_defaults,
    model_label,
    supports,
    trainable_families,
)
from .plot import DensityPlot


class DensityPanel(DensityDrawing, DensityJobs, QWidget):
    """Controls (dataset, family, training, views, particles, latent path), a plot stack (one shared plot / the
    four-column figure) and readouts. ``state`` (``model.DensityState``) holds everything but the widgets.

    Signals:
        message(text, is_error): for the window's status bar.
        computed(): a view computation finished (the readouts are up to date).
        modelTrained(model): a live training finished; ``model`` is the trained backend family object (named
            ``live-<dataset>-<family>``, ``path`` None), already shown here; the window may show it in its status
            bar and checkpoint dock. Not emitted for a cancelled or failed training.
    """

    message = Signal(str, bool)
    computed = Signal()
    modelTrained = Signal(object)
    title = "Density"

    def __init__(self, engine, parent=None):
        super().__init__(parent)
        self.engine = engine
        self.state = DensityState()
        self.model = None
        self.dataset = None
        self._job = None              # the running engine Job (a training or a particle chain)
        self._waiting: list = []      # restore_session callbacks waiting for the views
        self._caption_tick = 0
        self._build()
        self._connect()
        self.path_box.setEnabled(False)
        self.engine.submit(lambda: (trainable_families(), live_defaults()), self._families_known,
                           self._failed)  # (torch: on the engine)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        self.set_dataset("25gaussians")

    # ---- state seen from outside (tests, demo presets) ---------------------------------------------------
    result = property(lambda self: self.state.result, doc="The latest computed views (``views.compute_views``).")
    busy = property(lambda self: self.state.busy, doc="A view computation is under way.")
    training = property(lambda self: self.state.training, doc="A model is training live.")
    chain_running = property(lambda self: self.state.chain_running, doc="A particle chain is running.")
    frames_drawn = property(lambda self: self.state.frames_drawn, doc="Particle frames drawn so far.")
    latent_path = property(lambda self: self.state.latent_path, doc="The last latent path {z, x} or None.")
    user_points = property(lambda self: self.state.user_points, doc="The painted points, [[x, y], …].")
    chain_seed = property(lambda self: self.state.settings.chain_seed, doc="Seed of the next particle chain.")
    _live = property(lambda self: self.state.live, doc="The latest ParticleFrame (step, steps, x, moves, image).")
    _moves = property(lambda self: None if self.state.live is None else self.state.live.moves)

    # ---- layout ----------------------------------------------------------------------------------------
    def _build(self) -> None:
        s = self.state.settings
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        controls = QWidget()
        controls.setFixedWidth(300)
        cl = QVBoxLayout(controls)
        cl.setContentsMargins(0, 0, 0, 0)
        self.data_box, self.views_box = DataModelBox(s), ViewsBox(s)
        self.particles_box, self.path_box = ParticlesBox(s), LatentPathBox(s)
        for box in (self.data_box, self.views_box, self.particles_box, self.path_box):
            cl.addWidget(box)
        # the controls as attributes of the panel (the window, presets and tests use these names)
        for box, names in ((self.data_box, "dataset_combo paint_check clear_btn model_label family_combo train_steps "
                                           "train_note train_btn cancel_btn progress loss_curve gan_reg_combo gan_reg_weight"),
                           (self.views_box, "layout_combo image_combo checks t_spin res_spin recompute_btn export_btn"),
                           (self.particles_box, "n_spin slow_check run_btn chain_label"),
                           (self.path_box, "path_method path_seed_a path_seed_b path_frames path_btn latent_plot")):
            for name in names.split():
                setattr(self, name, getattr(box, name))
        cl.addStretch(1)
        # readouts and status: a compact strip under the plot, always in view (not below the controls' fold)
        self.readout = QLabel("")
        self.readout.setObjectName("readout")
        self.readout.setWordWrap(True)
        self.readout.setTextFormat(Qt.TextFormat.RichText)
        self.readout.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        scroll = QScrollArea()  # the controls scroll on small screens instead of growing the window
        scroll.setWidget(controls)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFixedWidth(318)
        self._controls, self._scroll = controls, scroll
        lay.addWidget(scroll)
        self.stack = QStackedWidget()
        right = QVBoxLayout()
        right.addWidget(self.stack, 1)
        right.addWidget(self.readout)
        right.addWidget(self.status)
        self.caption = make_caption()
        right.addWidget(self.caption)
        lay.addLayout(right, 1)
        self.plot = DensityPlot()
        self.plot.set_square(*USER_BOUNDS)   # (a fixed range until the dataset's comes with the first views)
        self.figure = DensityFigure()
        self.stack.addWidget(self.plot)
        self.stack.addWidget(self.figure)
        for name in ("image", "data_dots", "sample_dots", "trail_curve", "particle_dots", "particle_image",
                     "score_curve", "score_heads", "path_curve", "path_dots", "drift_curve", "noise_curve"):
            setattr(self, name, getattr(self.plot, name))
        for name in ("fig_plots", "fig_data", "fig_samples", "fig_logp", "fig_dens", "fig_caption"):
            setattr(self, name, getattr(self.figure, name))

    def _connect(self) -> None:
        st = self.state
        self.dataset_combo.currentTextChanged.connect(self._dataset_changed)
        self.paint_check.toggled.connect(self._paint_toggled)
        self.clear_btn.clicked.connect(self.clear_user_points)
        self.family_combo.currentTextChanged.connect(self._family_changed)
        self.gan_reg_combo.currentIndexChanged.connect(lambda: st.set("gan_reg", self.gan_reg_combo.currentData()))
        self.gan_reg_weight.valueChanged.connect(lambda v: st.set("gan_reg_weight", v))
        self.train_btn.clicked.connect(self.train_live)
        self.cancel_btn.clicked.connect(self.cancel)
        self.layout_combo.currentIndexChanged.connect(self._layout_changed)
        self.image_combo.currentIndexChanged.connect(lambda: (st.set("image", self.image_combo.currentData()),
                                                              self.redraw()))
        for key, cb in self.checks.items():
            cb.toggled.connect(lambda on, k=key: (st.set_layer(k, on), self.redraw()))
        self.t_spin.valueChanged.connect(self._t_changed)
        self.recompute_btn.clicked.connect(lambda: self.compute())
        self.export_btn.clicked.connect(self.export_dialog)
        self.run_btn.clicked.connect(self.run_chain)
        self.path_method.currentIndexChanged.connect(lambda: st.set("path_method", self.path_method.currentData()))
        for w, key in ((self.train_steps, "train_steps"), (self.res_spin, "res"), (self.n_spin, "n"),
                       (self.path_seed_a, "path_seed_a"), (self.path_seed_b, "path_seed_b"),
                       (self.path_frames, "path_frames")):
            w.valueChanged.connect(lambda v, k=key: st.set(k, v))
        self.slow_check.toggled.connect(lambda on: st.set("slow", on))
        self.path_btn.clicked.connect(self.draw_latent_path)
        self.plot.painted.connect(lambda x, y: self.add_user_points(st.brush(x, y)))
        self.plot.paintFinished.connect(self.finish_painting)

    def _sync_widgets(self) -> None:
        """Show the state's settings in the widgets (after a restore); no signals."""
        s = self.state.settings
        pairs = [(self.layout_combo, lambda w: w.setCurrentIndex(w.findData(s.layout))),
                 (self.image_combo, lambda w: w.setCurrentIndex(w.findData(s.image))),
                 (self.t_spin, lambda w: w.setValue(s.t)), (self.res_spin, lambda w: w.setValue(s.res)),
                 (self.n_spin, lambda w: w.setValue(s.n)), (self.slow_check, lambda w: w.setChecked(s.slow))]
        pairs += [(cb, lambda w, k=k: w.setChecked(s.views[k])) for k, cb in self.checks.items()]
        for w, put in pairs:
            w.blockSignals(True)
            put(w)
            w.blockSignals(False)

    def _families_known(self, answer) -> None:
        families, self.state.live_steps = answer
        self.state.families = tuple(families)
        if self.state.settings.family not in self.state.families:
            self.state.settings.family = self.state.families[0]
        self.data_box.set_families(self.state.families, self.state.settings.family)
        self._family_changed(self.state.settings.family)

    def _family_changed(self, family: str) -> None:
        """A family was picked: its live default steps go into the spin box, its trade-off under it."""
        if not family:
            return
        self.train_steps.setValue(self.state.choose_family(family))
        self.train_note.setText(self.state.train_note())
        for w in (self.gan_reg_combo, self.gan_reg_weight, self.data_box.gan_reg_label):
            w.setVisible(family == "gan")

    def _status(self, text: str | None = None) -> None:
        if text is not None:
            self.state.status = text
        self.status.setText(self.state.status)

    # ---- model and dataset -----------------------------------------------------------------------------
    def supported(self) -> bool:
        """Whether a 2-D toy model is shown (others are refused by ``set_model``: data only)."""
        return self.model is not None

    def set_model(self, loaded) -> None:
        """Show ``loaded`` (the window's ``LoadedModel``, or a bare backend model, e.g. one trained live): a 2-D
        toy EBM / diffusion / flow / VAE / GAN model; others are refused with a notice (data only). Picks the
        model's dataset and computes the views."""
        model = loaded.model if hasattr(loaded, "model") and hasattr(loaded, "samplers") else loaded
        self._show_model(model)

    def _show_model(self, model, keep_preview: bool = False) -> None:
        """``set_model``'s work; ``keep_preview``: a model just trained here (its training preview stays on screen
        until its views come in). The previous model's views, particles and texts go at once."""
        self.clear_latent_path()
        self.state.model_changed(keep_preview)
        self.plot.clear_views()
        self.figure.clear_views()
        self.chain_label.setText("")
        self.model_label.setText(model_label(model))
        if not supports(model):
            self.model = None
            self.path_box.setEnabled(False)
            self.compute()
            return
        self.model = model
        self.path_box.setEnabled(self.has_latent())
        if model.family in (self.state.families or (model.family,)):   # (a family the lab can train)
            self.state.set("family", model.family)
            self.family_combo.setCurrentText(model.family)
        if model.family == "diffusion":
            self.state.set_t_max(model.num_train_timesteps - 1)
            self.t_spin.setMaximum(model.num_train_timesteps - 1)
        ds = getattr(model, "dataset", None)
        if ds in DATASETS:
            self.dataset_combo.blockSignals(True)
            self.dataset_combo.setCurrentText(ds)
            self.dataset_combo.blockSignals(False)
            self.state.set("dataset", ds)
            self.state.dataset_params = dict(model.metadata.get("data", {}).get("params") or {})
        self.image_combo.setItemText(list(IMAGE_VIEWS).index("logp"), LOGP_LABELS[model.family])
        self.compute()
        self.readout.setText(self.state.readout_html(model.name))
        self.redraw()                 # (the kept training preview, if any)
        self.update_caption()

    def set_dataset(self, name: str) -> None:
        """Pick the dataset ``name`` (ValueError for an unknown one); recompute the views."""
        if name not in DATASETS + ("user",):
            raise ValueError(f"unknown dataset {name!r}")
        if self.dataset_combo.currentText() != name:
            self.dataset_combo.setCurrentText(name)  # -> _dataset_changed
        else:
            self._dataset_changed(name)

    def _dataset_changed(self, name: str) -> None:
        self.state.set("dataset", name)
        self.state.dataset_params = {}
        if name == "user" and not self.state.user_points:
            self.model = self.dataset = None
            self.state.invalidate()
            self.model_label.setText("paint a dataset: tick 'paint data' and drag on the plot")
            self.plot.clear_views()
            self.readout.setText("")
            self.plot.set_square(*USER_BOUNDS)
            self._settle()
            return
        if self.model is not None and self.model.dataset != name:
            self.model = None
            self.clear_latent_path()
            self.path_box.setEnabled(False)
            self.model_label.setText("no model for this dataset: train one live or load a toy checkpoint")
        self.compute()

    # ---- user-drawn data (GAN Lab's "draw your own distribution") ------------------------------------
    def _paint_toggled(self, on: bool) -> None:
        self.plot.set_painting(on)
        if on and self.dataset_combo.currentText() != "user":
            self.dataset_combo.setCurrentText("user")

    def add_user_points(self, pts) -> None:
        """Append drawn points (M, 2) in data coordinates to the 'user' dataset and redraw them."""
        self.plot.show_points(self.state.add_user_points(pts))

    def finish_painting(self) -> None:
        """Rebuild the 'user' dataset from the drawn points and recompute the views."""
        if self.dataset_combo.currentText() != "user":
            self.dataset_combo.setCurrentText("user")
        if self.state.user_points:
            if self.model is None:
                self.model_label.setText(f"user-drawn data: {len(self.state.user_points)} points — pick a family "
                                         "and Train live")
            self.compute()

    def clear_user_points(self) -> None:
        """Forget the painted points (the 'user' dataset is then empty)."""
        self.state.user_points = []
        if self.dataset_combo.currentText() == "user":
            self._dataset_changed("user")

    # ---- views (engine.submit) -------------------------------------------------------------------------
    def compute(self, with_readouts: bool = True) -> None:
        """Build the dataset and recompute every view (samples, grid images, score field, readouts) on the
        engine thread."""
        s, st = self.state.settings, self.state
        if s.dataset == "user" and not st.user_points:
            return
        model, name, params, pts, res, t = self.model, s.dataset, dict(st.dataset_params), st.user_points_array(), s.res, s.t
        token = st.begin_compute()
        self._status()

        def task():
            from genviz.backend.toy.views import compute_views, view_dataset
            ds = view_dataset(name, params, pts, USER_STD, USER_BOUNDS)
            return compute_views(model, ds, res=res, score_t=t, with_readouts=with_readouts)

        self.engine.submit(task, lambda r, k=token: self._computed(k, r), lambda m, k=token: self._compute_failed(k, m))

    def _computed(self, token: int, result: dict) -> None:
        if self.state.finish_compute(token, result, self.model):
            prev, self.dataset = self.dataset, result["dataset"]
            if prev is None or (prev.name, prev.bounds) != (self.dataset.name, self.dataset.bounds):
                self.plot.set_square(*self.dataset.bounds)     # a new dataset: show its range (else keep the zoom)
            self._status()
            self.redraw()
            self._show_readouts()
            self.computed.emit()
        self._settle()

    def _compute_failed(self, token: int, msg: str) -> None:
        self.state.compute_failed(token)
        self._failed(msg)

    def _failed(self, msg: str) -> None:
        self._status(f"<span style='color:#ff6b6b'>{msg}</span>")
        self.message.emit(msg, True)
        self._settle()

    def _settle(self) -> None:
        """Call the restore callbacks once the views are computed."""
        if self._waiting and not self.state.busy:
            waiting, self._waiting = self._waiting, []
            for fn in waiting:
                fn()

    def _t_changed(self, t: int) -> None:
        self.state.set("t", t)
        if self.model is None or self.model.family != "diffusion" or self.state.result is None:
            return
        model, ds, t = self.model, self.dataset, self.state.settings.t

        def task():
            from genviz.backend.toy.views import score_arrows
            return model, score_arrows(model, ds, t)

        self.engine.submit(task, self._score_done, self._failed)

    def _score_done(self, answer) -> None:
        model, score = answer
        r = self.state.result
        if r is not None and r.get("model") is model is self.model:
            r["score"] = score
            self.redraw()

    # ---- sessions, presets (demo mode) -----------------------------------------------------------------
    def session_state(self) -> dict:
        """The panel as data (``DensityState.session_state``): dataset, layout, image view, shown layers, t, grid
        resolution, particles, slow, the seed of the next particle chain (and painted points)."""
        return self.state.session_state()

    def restore_session(self, data: dict, on_done=None) -> None:
        """Set the controls from ``session_state()``-style data (also a preset's ``state``) and recompute the
        views; ``on_done()`` is called when they are computed. Raises ValueError on unknown values (then nothing
        changes)."""
        self.state.apply_session(data)
        self._sync_widgets()
        self.stack.setCurrentIndex(0 if self.state.settings.layout == "plot" else 1)
        if on_done is not None:
            self._waiting.append(on_done)
        ds = self.state.settings.dataset
        if ds != self.dataset_combo.currentText():
            self.set_dataset(ds)
        else:
            self.compute()
        QTimer.singleShot(0, self._settle)

    def run(self) -> None:
        """Run the particle chain (demo presets' "run")."""
        self.run_chain()

    def advanced_controls(self) -> dict:
        """Controls presentation mode may hide."""
        return {"resolution": self.res_spin, "t": self.t_spin, "train_steps": self.train_steps,
                "layout": self.layout_combo}

    # ---- default action (screenshots) ------------------------------------------------------------------
    def run_default(self, batch: int = 16) -> bool:
        """The panel's default action: compute every view and the readouts (already queued on load); ``batch``
        (the window's chain batch) is not used here."""
        if self.state.result is None and not self.state.busy:
            self.compute()
        return True

    def default_done(self) -> bool:
        """The default action finished: views computed, nothing running."""
        return self.state.idle and self.state.result is not None

    def set_presenting(self, on: bool, scale: float = 1.0) -> None:
        """Presentation mode (the panel protocol): plot text, legend and captions ``scale`` times larger
        (``widgets.scaling``), the control column as wide as its texts need in the window's larger font, the colour
        bar's axis widened to its larger labels. ``on=False`` restores every size."""
        from ...widgets.scaling import scale_widgets
        s = float(scale) if on else 1.0
        scale_widgets(self, s)
        width = 300 if not on else max(300, self._controls.minimumSizeHint().width() + 8)
        self._controls.setFixedWidth(width)
        self._scroll.setFixedWidth(width + 18)
        self.plot.colorbar.set_scale(s)

    def shutdown(self) -> None:
        """Stop the timer and any running training or chain (the engine drops them at its next step)."""
        if self._job is not None:
            self._job.cancel()
        self.timer.stop()
