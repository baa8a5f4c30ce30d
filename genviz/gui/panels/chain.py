"""The chain panel: watch a diffusion model turn noise into samples, step by step.

View only: the state lives in a ``ChainState`` (plain Python), the torch work in a ``ChainRunner``
run by the window's ``Engine`` thread. A ~30 Hz timer redraws the shown record when the state's
version changes, so a fast chain never floods the GUI thread.
"""
from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ...backend.samplers import get_sampler
from ...panels import get_panel
from ..captions import chain_caption
from ..chain_runner import ChainRunner, LoadedModel
from ..chain_state import ChainState
from ..engine import Engine
from ..export import save_chain_gif, save_grid_png
from ..widgets.caption import make_caption
from ..widgets.drift_noise import DriftNoiseView
from ..widgets.image_grid import ImageGrid
from ..widgets.param_form import ParamForm
from ..widgets.plots import ProbBars, StatsPlots

REFRESH_MS = 33
PLOT_INTERVAL_S = 0.25  # while a chain runs, the per-step plots redraw at most 4 times a second
DRAW_INTERVAL_S = 0.1   # ... and the grids at most 10 times a second (painting holds the GIL the engine needs)
SPEEDS = (("full speed", 0.0), ("slow (4 steps/s)", 0.25), ("slower (1 step/s)", 1.0))


class ChainPanel(QWidget):
    """Controls, x_t / x̂₀ grids, scrub bar, per-step plots and digit probabilities of a chain.

    Signals:
        message(text, is_error): for the window's status bar.
        recordDrawn(index): a record was drawn (after the grids were updated), with its step index.
    """

    message = Signal(str, bool)
    recordDrawn = Signal(int)

    def __init__(self, engine: Engine, state: ChainState | None = None, parent=None):
        super().__init__(parent)
        self.engine = engine
        self.state = state or ChainState()
        self.runner = ChainRunner(self.state)
        self.loaded: LoadedModel | None = None
        self._drawn = None
        self._plotted = None
        self._plot_time = 0.0
        self._draw_time = 0.0
        self._reported_error = None
        self._p_final_title = None  # (plot id, title) last set on the p(final digit) plot
        self._last_status = None
        self._sampler_specs: dict = {}
        self._build()
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        self._set_enabled(False)

    # ---- layout ----------------------------------------------------------------------------------
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        self.stack = QStackedWidget()
        outer.addWidget(self.stack)
        self.notice = QLabel("Load a diffusion model to run a chain.")
        self.notice.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet("font-size: 14pt; color: #9aa0aa;")
        self.stack.addWidget(self.notice)
        content = QWidget()
        self.stack.addWidget(content)
        lay = QHBoxLayout(content)
        lay.setContentsMargins(0, 0, 0, 0)

        # left: controls
        controls = QWidget()
        controls.setFixedWidth(236)
        cl = QVBoxLayout(controls)
        cl.setContentsMargins(0, 0, 0, 0)
        box = QGroupBox("Sampler")
        form = QFormLayout(box)
        self.sampler_combo = QComboBox()
        self.sampler_combo.setObjectName("sampler")
        self.sampler_combo.currentIndexChanged.connect(self._sampler_changed)
        form.addRow("Sampler", self.sampler_combo)
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(1, 1000)
        self.steps_spin.setToolTip("how many steps from noise to image (number of chain steps, 1..T)")
        form.addRow("Steps", self.steps_spin)
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setToolTip("the same number gives the same pictures again (random seed: fixes the initial "
                                 "noise and every noise draw, so the chain replays exactly)")
        form.addRow("Seed", self.seed_spin)
        self.batch_spin = QSpinBox()
        self.batch_spin.setRange(1, 64)
        self.batch_spin.setValue(16)
        self.batch_spin.setToolTip("how many images are made side by side (batch size)")
        form.addRow("Batch", self.batch_spin)
        cl.addWidget(box)
        pbox = QGroupBox("Parameters")
        pl = QVBoxLayout(pbox)
        self.param_form = ParamForm()
        pl.addWidget(self.param_form)
        cl.addWidget(pbox)

        rbox = QGroupBox("Run")
        rl = QVBoxLayout(rbox)
        row1, row2 = QHBoxLayout(), QHBoxLayout()
        self.step_btn = QPushButton("Step")
        self.step_btn.setToolTip("take one step and stop (one sampler step; key →)")
        self.run_btn = QPushButton("Run")
        self.run_btn.setToolTip("play the chain to its end (run; Space toggles Run/Pause)")
        self.pause_btn = QPushButton("Pause")
        self.pause_btn.setToolTip("hold the chain after the current step (Step or Run go on; Space)")
        self.stop_btn = QPushButton("Stop")
        self.stop_btn.setToolTip("end this chain here; everything so far stays to look at (stop)")
        self.reset_btn = QPushButton("Reset")
        self.reset_btn.setToolTip("start again from noise with the settings above (reset: forgets every branch)")
        for b in (self.step_btn, self.run_btn, self.pause_btn):
            row1.addWidget(b)
        for b in (self.stop_btn, self.reset_btn):
            row2.addWidget(b)
        rl.addLayout(row1)
        rl.addLayout(row2)
        self.branch_btn = QPushButton("Branch from here")
        self.branch_btn.setToolTip("try another path from the step shown, keeping the old one to compare (branch: "
                                   "the remaining timesteps with the sampler, parameters and seed above)")
        rl.addWidget(self.branch_btn)
        brow = QHBoxLayout()
        self.branch_label = QLabel("Branch")
        brow.addWidget(self.branch_label)
        self.branch_combo = QComboBox()
        self.branch_combo.setToolTip("switch between the paths tried from this start (branches of the chain)")
        self.branch_combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        brow.addWidget(self.branch_combo)
        rl.addLayout(brow)
        srow2 = QHBoxLayout()
        srow2.addWidget(QLabel("Speed"))
        self.speed_combo = QComboBox()
        self.speed_combo.setObjectName("speed")
        for label, interval in SPEEDS:
            self.speed_combo.addItem(label, interval)
        self.speed_combo.setToolTip("slow motion lets an audience follow each step (minimum time between steps "
                                    "while running)")
        self.speed_combo.currentIndexChanged.connect(
            lambda *_: setattr(self.state, "step_interval", float(self.speed_combo.currentData())))
        srow2.addWidget(self.speed_combo, 1)
        rl.addLayout(srow2)
        cl.addWidget(rbox)
        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)
        self.status_label.setStyleSheet("color: #9aa0aa;")
        cl.addWidget(self.status_label)
        cl.addStretch(1)
        lay.addWidget(controls)

        # centre: grids + scrub bar
        centre = QWidget()
        ml = QVBoxLayout(centre)
        ml.setContentsMargins(0, 0, 0, 0)
        grids = QHBoxLayout()
        grids.setSpacing(4)
        self.x_grid = ImageGrid("x_t")
        self.x0_grid = ImageGrid("x̂₀")
        for g in (self.x_grid, self.x0_grid):
            g.setMinimumSize(240, 240)
            g.tileClicked.connect(self.select_sample)
        # right of x_t: the x̂₀ grid (denoising chains) or, for Langevin-type chains, the last update of the
        # selected sample split into drift and noise
        self.drift_view = DriftNoiseView()
        self.right_stack = QStackedWidget()
        self.right_stack.addWidget(self.x0_grid)
        self.right_stack.addWidget(self.drift_view)
        grids.addWidget(self.x_grid, 1)
        grids.addWidget(self.right_stack, 1)
        ml.addLayout(grids, 1)
        srow = QHBoxLayout()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("scrub")
        self.slider.setRange(0, 0)
        self.slider.setToolTip("drag to go back and forth through the steps already made (scrub the recorded "
                               "history; the newest step is followed unless you scrub back)")
        self.slider.valueChanged.connect(self._slider_moved)
        self.pos_label = QLabel("step 0 / 0")
        self.pos_label.setMinimumWidth(110)
        self.pos_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        srow.addWidget(QLabel("Step"))
        srow.addWidget(self.slider, 1)
        srow.addWidget(self.pos_label)
        ml.addLayout(srow)
        self.info_label = QLabel("")
        self.info_label.setStyleSheet("color: #c8ccd4;")
        ml.addWidget(self.info_label)
        self.caption = make_caption()
        ml.addWidget(self.caption)

        # below: per-step plots + digit probabilities
        bottom = QWidget()
        bl = QHBoxLayout(bottom)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.setSpacing(4)
        self.plots = StatsPlots(horizontal=True, keys=("t", "x_norm", "eps_norm", "p_final"))
        self.bars = ProbBars()
        self.bars.setMinimumWidth(220)
        bl.addWidget(self.plots, 3)
        bl.addWidget(self.bars, 1)

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(centre)
        split.addWidget(bottom)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setSizes([620, 230])
        lay.addWidget(split, 1)

        self.step_btn.clicked.connect(self.step)
        self.run_btn.clicked.connect(self.run)
        self.pause_btn.clicked.connect(self.pause)
        self.stop_btn.clicked.connect(self.stop)
        self.reset_btn.clicked.connect(self.reset)
        self.branch_btn.clicked.connect(self.branch_here)
        self.branch_combo.activated.connect(self._branch_chosen)
        QShortcut(QKeySequence(Qt.Key.Key_Space), self, self._toggle_run)
        QShortcut(QKeySequence(Qt.Key.Key_Right), self, self.step)

    # ---- model -----------------------------------------------------------------------------------
    @property
    def model(self):
        """The loaded backend model (None before the first load)."""
        return self.loaded.model if self.loaded else None

    def supported(self) -> bool:
        """Whether the loaded model can be shown here (``genviz.panels``: an image model with a chain sampler)."""
        return get_panel("chain").supports(self.model)

    def run_default(self, batch: int = 16) -> bool:
        """The panel's default action: a fresh chain of the controls' sampler with ``batch`` samples, run to the
        end. False when the model has no chain here."""
        if not self.supported():
            return False
        self.batch_spin.setValue(batch)
        self.reset(run=True)
        return True

    def default_done(self) -> bool:
        """True once the default chain has stopped (or there is none to run)."""
        return not self.supported() or self.state.status in ("done", "stopped")

    def shutdown(self) -> None:
        """Stop drawing and stepping (the window stops the engine after every panel's shutdown)."""
        self.timer.stop()
        self.state.stop()

    def set_model(self, loaded: LoadedModel, start: bool = False) -> None:
        """Show a newly loaded model: fill the sampler controls and start a fresh chain (record 0).

        Must be called after the engine has switched ``runner`` to the model (``runner.set_model``).
        """
        self.loaded = loaded
        self._drawn = self._plotted = None
        m = loaded.model
        if not self.supported():
            self.notice.setText("The chain view runs denoising and Langevin chains of image models.\n"
                                + get_panel("chain").why_not(m))
            self.stack.setCurrentIndex(0)
            self._set_enabled(False)
            return
        self.stack.setCurrentIndex(1)
        default = m.default_sampler
        self._sampler_specs = {s.name: s for s in loaded.samplers}
        self.sampler_combo.blockSignals(True)
        self.sampler_combo.clear()
        for s in loaded.samplers:
            self.sampler_combo.addItem(s.title, s.name)
            self.sampler_combo.setItemData(self.sampler_combo.count() - 1, s.description, Qt.ItemDataRole.ToolTipRole)
        self.sampler_combo.setCurrentIndex(max(self.sampler_combo.findData(default.get("name")), 0))
        self.sampler_combo.blockSignals(False)
        self._sampler_changed()
        self.steps_spin.setValue(int(default.get("steps", 50)))
        self.bars.setVisible(loaded.classifier is not None)
        if loaded.classifier is not None:
            self.bars.classes = list(getattr(loaded.classifier, "classes", self.bars.classes))
        self._set_enabled(True)
        if start:
            self.reset()

    def _sampler_changed(self, *_) -> None:
        name = self.sampler_combo.currentData()
        spec = self._sampler_specs.get(name)
        if spec is None:
            self.param_form.set_params(())
            return
        overrides = {}
        m = self.model
        if m is not None and m.default_sampler.get("name") == name:
            overrides = {k: v for k, v in m.default_sampler.items() if k not in ("name", "steps")}
        self.param_form.set_params(spec.params, overrides)
        if getattr(spec, "grid", "timesteps") == "timesteps":
            self.steps_spin.setRange(1, m.num_train_timesteps if m is not None else 1000)
            self.steps_spin.setToolTip("number of chain steps (1..T)")
        else:
            self.steps_spin.setRange(1, 100_000)
            self.steps_spin.setToolTip("number of sampler steps")
        self.sampler_combo.setToolTip(spec.description)

    def settings(self) -> dict:
        """The controls' values: sampler, steps, seed, n (batch) and params."""
        return {"sampler": self.sampler_combo.currentData(), "steps": self.steps_spin.value(),
                "seed": self.seed_spin.value(), "n": self.batch_spin.value(), "params": self.param_form.values()}

    def _set_enabled(self, on: bool) -> None:
        for w in (self.step_btn, self.run_btn, self.pause_btn, self.stop_btn, self.reset_btn, self.branch_btn,
                  self.sampler_combo, self.steps_spin, self.seed_spin, self.batch_spin, self.param_form,
                  self.branch_combo, self.slider):
            w.setEnabled(on)

    # ---- actions ---------------------------------------------------------------------------------
    def reset(self, run: bool = False) -> None:
        """Forget every branch and start a fresh chain from the controls (paused at record 0)."""
        if not self.supported():
            return
        s = self.settings()
        self.state.stop()
        self.engine.submit(lambda: self.runner.new_chain(s["sampler"], s["steps"], s["n"], s["seed"], s["params"]),
                           lambda b: self._chain_started(b, run), self._failed)

    def _chain_started(self, branch, run: bool) -> None:
        self.message.emit(f"new chain: {branch.sampler}, {branch.total_steps} steps, batch {branch.n}, "
                          f"seed {branch.seed}", False)
        if run:
            self.run()

    def _failed(self, msg: str) -> None:
        self.message.emit(msg, True)

    def step(self) -> None:
        """Compute exactly one more step of the shown branch."""
        st = self.state.status
        if st == "running":
            self.state.set_running(False)
        if st in ("done", "stopped"):
            self.message.emit(f"this branch is {st}: Reset, or scrub back and Branch from here", False)
            return
        if self.state.request_step():
            self.engine.wake()

    def run(self) -> None:
        """Run the shown branch to its end (from fresh noise when it is finished or stopped)."""
        st = self.state.status
        if st in ("empty", "done", "stopped"):
            self.reset(run=True)
            return
        if self.state.set_running(True):
            self.engine.wake()

    def pause(self) -> None:
        """Pause the chain after the current step (Step or Run go on)."""
        self.state.set_running(False)

    def stop(self) -> None:
        """End the shown branch here; its records stay."""
        self.state.stop()

    def _toggle_run(self) -> None:
        if self.state.status == "running":
            self.pause()
        else:
            self.run()

    def branch_here(self) -> None:
        """Start a new branch from the shown record with the controls' sampler, params and seed."""
        b = self.state.branch
        if b is None:
            return
        pos = self.state.position
        s = self.settings()
        self.state.set_running(False)
        self.engine.submit(lambda: self.runner.branch_from(b, pos, s["sampler"], s["params"], s["seed"]),
                           lambda nb: self.message.emit(f"{nb.label}: press Run or Step", False), self._failed)

    def _branch_chosen(self, i: int) -> None:
        """The user picked branch ``i``: show it, and put its sampler, parameters and seed in the controls."""
        self.state.set_active(i)
        b = self.state.branch
        if b is None:
            return
        j = self.sampler_combo.findData(b.sampler)
        if j >= 0:
            self.sampler_combo.setCurrentIndex(j)
        for k, v in b.params.items():
            if k in self.param_form.widgets:
                self.param_form.set_value(k, v)
        self.seed_spin.setValue(int(b.seed))

    def _slider_moved(self, v: int) -> None:
        self.state.scrub(v)

    def select_sample(self, i: int) -> None:
        """Select sample (tile) ``i``: it is highlighted and its digit probabilities shown."""
        with self.state.lock:
            self.state.selected = int(i)
            self.state.touch()

    # ---- sessions, presets, presentation ---------------------------------------------------------
    def advanced_controls(self) -> dict:
        """Controls a presenter may hide, by name (see presentation mode's ``hide`` list)."""
        return {"parameters": self.param_form.parentWidget(), "batch": self.batch_spin, "seed": self.seed_spin,
                "branch": self.branch_btn, "branches": [self.branch_label, self.branch_combo], "plots": self.plots,
                "info": self.info_label, "sampler": self.sampler_combo, "steps": self.steps_spin}

    def session_state(self) -> dict:
        """The chain as data: settings, every branch (sampler, params, seed, where it left its parent, how
        many records it holds), the shown branch, step and sample. Replaying it gives the same pixels
        (a seed fixes every noise draw)."""
        st = self.state
        with st.lock:
            branches = [{"sampler": b.sampler, "params": dict(b.params), "seed": b.seed, "start": b.start,
                         "parent": b.parent, "length": len(b) - 1} for b in st.branches]
            first = st.branches[0] if st.branches else None
            out = {"settings": self.settings(), "speed": self.speed_combo.currentIndex(),
                   "branches": branches, "active": st.active, "position": st.position, "selected": st.selected}
            if first is not None:  # the chain's own start: its grid length and batch
                out["chain"] = {"sampler": first.sampler, "steps": first.total_steps, "n": first.n,
                                "seed": first.seed, "params": dict(first.params)}
        return out

    def restore_session(self, data: dict, on_done=None) -> None:
        """Rebuild a chain from ``session_state()``-style data (also a preset's ``chain`` part).

        ``settings`` fill the controls; ``chain`` (default: the settings) starts branch 1; each entry of
        ``branches`` after the first branches from record ``start`` of branch ``parent`` (1-based) and every
        branch is stepped to its ``length`` (missing: left at its start). Runs on the engine thread;
        ``on_done()`` is called on the GUI thread when the chain is rebuilt.
        """
        settings = dict(data.get("settings") or {})
        if "sampler" in settings:
            i = self.sampler_combo.findData(settings["sampler"])
            if i < 0:
                raise ValueError(f"sampler {settings['sampler']!r} does not apply to {self.model.name}")
            self.sampler_combo.setCurrentIndex(i)
        for key, w in (("steps", self.steps_spin), ("seed", self.seed_spin), ("n", self.batch_spin)):
            if key in settings:
                w.setValue(int(settings[key]))
        for k, v in (settings.get("params") or {}).items():
            if k in self.param_form.widgets:
                self.param_form.set_value(k, v)
        if "speed" in data:
            self.speed_combo.setCurrentIndex(int(data["speed"]))
        c = dict(data.get("chain") or self.settings())
        c.setdefault("params", self.param_form.values())
        branches = list(data.get("branches") or [{}])
        runner, st = self.runner, self.state
        st.stop()

        def task():
            b = runner.new_chain(c["sampler"], int(c["steps"]), int(c["n"]), int(c["seed"]), dict(c["params"]))
            made = [b]
            for i, spec in enumerate(branches):
                if i > 0:
                    parent = made[int(spec.get("parent") or 1) - 1]
                    b = runner.branch_from(parent, int(spec.get("start", 0)), spec.get("sampler", c["sampler"]),
                                           dict(spec.get("params", {})), int(spec.get("seed", c["seed"])))
                    made.append(b)
                target = spec.get("length")
                while target is not None and len(b) - 1 < int(target) and not b.done and st.error is None:
                    with st.lock:
                        st.pending_steps = 1
                    runner.step()
            with st.lock:
                st.pending_steps = 0
                st.running = False
                if "active" in data and 0 <= int(data["active"]) < len(st.branches):
                    st.active = int(data["active"])
                if "position" in data:
                    st.position = max(0, min(int(data["position"]), len(st.history()) - 1))
                    st.follow = st.position >= len(st.history()) - 1
                st.selected = int(data.get("selected", st.selected))
                st.touch()
            return len(made)

        self.engine.submit(task, lambda _n: on_done() if on_done else None, self._failed)

    # ---- export ----------------------------------------------------------------------------------
    def export_grid(self, path, which: str = "x") -> None:
        """Save the shown record's x_t grid (``which="x"``) or x̂₀ grid (``"x0"``) as a PNG."""
        rec = self.state.shown_record()
        if rec is None:
            raise ValueError("no chain to export yet")
        imgs = rec.x_u8 if which == "x" else rec.x0_u8
        if imgs is None:
            raise ValueError("this step has no x̂₀ prediction (step 0): scrub forward")
        save_grid_png(imgs, path)

    def export_gif(self, path) -> int:
        """Save the shown branch's recorded x_t steps as an animated GIF; returns the number of records."""
        hist = self.state.history()
        save_chain_gif([r.x_u8 for r in hist], path)
        return len(hist)

    # ---- drawing ---------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Redraw from the state when it changed (timer slot; cheap when nothing changed)."""
        st = self.state
        with st.lock:
            version = st.version
            if self._drawn is not None and self._drawn[0] == version:
                return
            if (st.running and self._drawn is not None
                    and time.perf_counter() - self._draw_time < DRAW_INTERVAL_S):
                return  # a running chain: draw its newest state on a later tick
            branches = list(st.branches)
            active = st.active
            hist = st.history()
            pos = min(st.position, max(len(hist) - 1, 0))
            rec = hist[pos] if hist else None
            selected = st.selected
            status = st.status
            error = st.error
            speed = st.steps_per_s
            b = st.branch
        self._drawn = (version,)
        self._draw_time = time.perf_counter()
        if status == "done" and self._last_status == "running" and b is not None:
            self.message.emit(f"chain finished: branch {b.number}, {b.total_steps} steps", False)
        self._last_status = status
        if error and error != self._reported_error:
            self._reported_error = error
            self.message.emit(error, True)
        # branch combo
        labels = [f"{x.number} / {len(branches)}  ({x.sampler}{', from step ' + str(x.start) if x.parent else ''})"
                  for x in branches]
        if [self.branch_combo.itemText(i) for i in range(self.branch_combo.count())] != labels:
            self.branch_combo.blockSignals(True)
            self.branch_combo.clear()
            self.branch_combo.addItems(labels)
            self.branch_combo.blockSignals(False)
        if self.branch_combo.currentIndex() != active:
            self.branch_combo.setCurrentIndex(active)
        # slider
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(len(hist) - 1, 0))
        self.slider.setValue(pos)
        self.slider.blockSignals(False)
        total = b.total_steps if b else 0
        self.pos_label.setText(f"step {pos} / {total}")
        # buttons
        if self.supported():
            can_go = status in ("paused", "running")
            self.step_btn.setEnabled(can_go)
            self.pause_btn.setEnabled(status == "running")
            self.stop_btn.setEnabled(can_go)
            self.branch_btn.setEnabled(b is not None and pos < total)
            self.run_btn.setText("Run" if status != "running" else "Running…")
            self.run_btn.setEnabled(status != "running")
        self.status_label.setText(self._status_text(status, len(branches), speed))
        self._draw_record(rec, selected, b)
        if rec is not None:
            self.recordDrawn.emit(rec.index)
        if b is not None:
            self.plots.set_keys(get_sampler(b.sampler).plots(
                has_energy=self.model is not None and self.model.traits.energy,
                has_classifier=self.loaded is not None and self.loaded.classifier is not None))
            if "p_final" in self.plots.plots:
                judged = "x̂₀" if b.grid == "timesteps" or b.sampler == "annealed" else "x"
                title = (id(self.plots.plots["p_final"]), f"p(final digit | {judged})")
                if title != self._p_final_title:  # setTitle relayouts the plot: only when it changes
                    self._p_final_title = title
                    self.plots.plots["p_final"].setTitle(title[1], size="9pt", color="#d0d0d0")
            self.right_stack.setCurrentWidget(self.drift_view if b.grid == "steps" else self.x0_grid)
        now = time.perf_counter()
        if status == "running" and now - self._plot_time < PLOT_INTERVAL_S:
            self.plots.set_position(pos)
            return
        self._plot_time = now
        plot_key = (self.plots.keys, id(b), len(hist), len(branches), sum(len(x) for x in branches), selected,
                    sum(x.revision for x in branches))
        if plot_key != self._plotted:
            self._plotted = plot_key
            self.plots.update_plots([x.history() for x in branches], active, pos, total, selected)
        else:
            self.plots.set_position(pos)

    def _status_text(self, status: str, n_branches: int, speed: float) -> str:
        text = {"empty": "no chain", "running": "running", "paused": "paused", "done": "finished",
                "stopped": "stopped"}[status]
        if status == "running" and speed > 0:
            text += f" · {speed:.1f} steps/s"
        return f"Chain {text} · {n_branches} branch{'es' if n_branches != 1 else ''}"

    def _draw_record(self, rec, selected: int, branch) -> None:
        self.caption.setText(chain_caption(rec, branch, self.model.family if self.model else "", selected))
        if rec is None:
            self.x_grid.set_images(None, message="no chain")
            self.x0_grid.set_images(None, message="")
            self.bars.set_probs(None)
            self.info_label.setText("")
            return
        n = rec.x_u8.shape[0]
        selected = min(selected, n - 1)
        for g in (self.x_grid, self.x0_grid):
            g.selected = selected
        t_now = rec.t_next if rec.index > 0 else rec.t
        t_txt = "clean" if t_now is not None and t_now < 0 else (f"t = {t_now}" if t_now is not None else "")
        sig = f"σ = {rec.sigma:.3g}" if np.isfinite(rec.sigma) else ""
        extra = " · ".join(x for x in (t_txt, sig) if x)
        self.x_grid.set_title(f"<b>x<sub>t</sub></b> &nbsp;step {rec.index}" + (f" · {extra}" if extra else ""))
        self.x_grid.set_images(rec.x_u8)
        if rec.x0_u8 is None:
            self.x0_grid.set_title("<b>x̂<sub>0</sub></b> &nbsp;prediction")
            self.x0_grid.set_images(None, n=n, shape=rec.x_u8.shape[1:],
                                    message="no prediction before step 1" if rec.index == 0 or (branch and branch.grid == "timesteps")
                                    else "this sampler makes no x̂₀ prediction")
        else:
            self.x0_grid.set_title(f"<b>x̂<sub>0</sub></b> &nbsp;prediction at t = {rec.t}")
            self.x0_grid.set_images(rec.x0_u8)
        judged = "x̂₀" if rec.x0_u8 is not None else "x"
        if self.bars.isVisible() or (self.loaded is not None and self.loaded.classifier is not None):
            self.bars.set_probs(rec.probs[selected] if rec.probs is not None else None,
                                f"p(digit | {judged}) · #{selected}")
        if self.right_stack.currentWidget() is self.drift_view:
            if rec.drift_u8 is not None:
                self.drift_view.set_terms(rec.drift_u8[selected], rec.noise_u8[selected], rec.x_u8[selected],
                                          float(rec.drift_norms[selected]), float(rec.noise_norms[selected]), selected)
            else:
                self.drift_view.clear_terms("drift vs noise: step the chain (record 0 is the initial state)")
        eps = f" · mean ‖ε̂‖ = {rec.eps_norm:.2f}" if rec.eps_norm is not None else ""
        if rec.energy is not None:
            eps += f" · mean E(x) = {rec.energy:.3g}"
        if rec.grad_norm is not None:
            eps += f" · mean ‖∇E‖ = {rec.grad_norm:.3g}"
        if rec.accept is not None:
            eps += f" · accept {rec.accept:.0%}"
        who = f"Branch {branch.number} ({branch.sampler}, seed {branch.seed})" if branch else ""
        self.info_label.setText(f"{who} · sample #{selected} selected · mean ‖x_t‖ = {rec.x_norm:.2f}{eps}")
