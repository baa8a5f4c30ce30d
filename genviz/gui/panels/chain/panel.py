"""The chain panel: watch a diffusion model turn noise into samples, step by step.

View only: the state lives in a ``ChainState`` (plain Python), the torch work in a ``ChainRunner``
run by the window's ``Engine`` thread. A ~30 Hz timer redraws the shown record when the state's
version changes, so a fast chain never floods the GUI thread.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QWidget,
)

from ....panels import get_panel
from ...chain_runner import ChainRunner, LoadedModel
from ...chain_state import ChainState
from ...engine import Engine
from ...export import save_chain_gif, save_grid_png
from .ddgan_tools import ChainDDGANTools
from .drawing import ChainDrawing
from .layout import ChainLayout

REFRESH_MS = 33


def _effective(sampler: str, params: dict) -> dict:
    """Every parameter of ``sampler`` as a chain would use it (defaults filled in); {} when they do not validate.
    (Called only once a chain exists, so the backend, imported here, is already loaded.)"""
    from ....backend.api import sampler_settings
    try:
        return sampler_settings(sampler, params)
    except ValueError:
        return {}


class ChainPanel(ChainLayout, ChainDrawing, ChainDDGANTools, QWidget):
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
            self.bars.set_classes(getattr(loaded.classifier, "classes", self.bars.classes))
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
        self.state.set_running(False)  # paused, not stopped: an undo brings the branch back as it was
        self.engine.submit(lambda: self.runner.new_chain(s["sampler"], s["steps"], s["n"], s["seed"], s["params"]),
                           lambda b: self._chain_started(b, run), self._failed)

    def _chain_started(self, branch, run: bool) -> None:
        undo = " (the previous chain is put aside: Undo reset or Ctrl+Z brings it back)" if self.state.can_undo else ""
        self.message.emit(f"new chain: {branch.sampler}, {branch.total_steps} steps, batch {branch.n}, "
                          f"seed {branch.seed}{undo}", False)
        if run:
            self.run()

    def undo_reset(self) -> None:
        """Bring back the branches the last Reset put aside (the new chain is dropped)."""
        if self.state.undo_reset():
            self.message.emit("reset undone: the previous branches are back", False)

    def pending_settings(self) -> str:
        """One line saying how the controls differ from the shown branch and how to apply them ('' when they
        match): settings apply to the next Reset (a new chain) or Branch from here, never to a running chain."""
        b = self.state.branch
        if b is None or not self.supported():
            return ""
        s = self.settings()
        same_params = s["sampler"] != b.sampler or _effective(b.sampler, s["params"]) == _effective(b.sampler, b.params)
        changed = [k for k, same in (("sampler", s["sampler"] == b.sampler), ("seed", s["seed"] == b.seed),
                                     ("parameters", same_params)) if not same]
        if b.parent is None:
            changed += [k for k, same in (("steps", s["steps"] == (b.steps or b.total_steps)), ("batch", s["n"] == b.n))
                        if not same]
        if not changed:
            return ""
        return (f"Changed {', '.join(changed)}: they apply on Reset (a new chain) or Branch from here (from the "
                "shown step); the shown branch keeps its own.")

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
        self._show_branch_settings()

    def _show_branch_settings(self) -> None:
        """Put the shown branch's sampler, parameters and seed in the controls."""
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
                out["chain"] = {"sampler": first.sampler, "steps": first.steps or first.total_steps, "n": first.n,
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
                    if not st.request_step():
                        break
                    runner.step()
            st.set_running(False)
            st.restore_view(data.get("active"), data.get("position"), data.get("selected"))
            return len(made)

        def restored(_n) -> None:
            self._show_branch_settings()  # the controls show the active branch's sampler, parameters and seed
            if on_done:
                on_done()

        self.engine.submit(task, restored, self._failed)

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
