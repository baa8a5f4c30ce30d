"""The VAEBM before/after panel: the base VAE's samples on top, the same samples after K ε-space Langevin steps
below, K on a slider (Xiao 2022 Figs. 4.11, 4.15–4.16). The state is ``model.BeforeAfterState``; the chain runs on
the engine thread (``model.frames_job``)."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ....panels import get_panel
from ...widgets.caption import make_caption
from ...widgets.image_grid import ImageGrid
from .model import N_RANGE, SEED_MAX, STEPS_RANGE, BeforeAfterState, Settings, frames_job

CONTROLS_WIDTH = 230


class VAEBMPanel(QWidget):
    """Settings column (seed, samples, K max, step size, noise, Run), the two image grids and the K slider.

    Signals: message(text, is_error) for the status bar.
    """

    message = Signal(str, bool)

    def __init__(self, engine=None, parent=None):
        super().__init__(parent)
        self.engine = engine
        self.loaded = None
        self.state = BeforeAfterState()
        self.job = None
        self.scale = 1.0
        self._build()
        self.refresh()

    def _build(self) -> None:
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        self.controls = QGroupBox("Langevin in ε")
        self.controls.setFixedWidth(CONTROLS_WIDTH)
        form = QFormLayout(self.controls)
        s = self.state.settings
        self.seed_spin = self._spin(0, SEED_MAX, s.seed, "the first seed: sample i uses the VAE's noise of seed …")
        self.n_spin = self._spin(*N_RANGE, s.n, "how many samples")
        self.steps_spin = self._spin(*STEPS_RANGE, s.steps, "K max: Langevin steps to run (the slider scrubs 0..K)")
        self.step_spin = QDoubleSpinBox()
        self.step_spin.setDecimals(4)
        self.step_spin.setRange(1e-4, 1.0)
        self.step_spin.setSingleStep(0.005)
        self.step_spin.setValue(s.step_size)
        self.step_spin.setToolTip("η in ε ← ε − (η/2)∇U + √η ω (the thesis: 0.01)")
        self.noise_check = QCheckBox("Langevin noise √η ω")
        self.noise_check.setChecked(s.noise)
        for label, w in (("Seed", self.seed_spin), ("Samples", self.n_spin), ("Steps K", self.steps_spin),
                         ("Step size η", self.step_spin)):
            form.addRow(label, w)
        form.addRow(self.noise_check)
        self.run_btn = QPushButton("Run")
        self.run_btn.clicked.connect(self.run)
        form.addRow(self.run_btn)
        self.notes = QLabel("U(ε) = E(decoder(ε)) + ½‖ε‖²: the VAE proposes, the energy repairs. The bundled "
                            "VAE decodes a deterministic mean, so ε is its latent noise ε_z alone.")
        self.notes.setWordWrap(True)
        self.notes.setStyleSheet("color: #9aa0aa;")
        form.addRow(self.notes)
        lay.addWidget(self.controls)
        centre = QVBoxLayout()
        self.top = ImageGrid("<b>VAE samples</b>")
        self.bottom = ImageGrid("<b>after K Langevin steps</b>")
        centre.addWidget(self.top, 1)
        centre.addWidget(self.bottom, 1)
        row = QHBoxLayout()
        self.k_label = QLabel("K = 0")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.valueChanged.connect(self._scrub)
        row.addWidget(self.k_label)
        row.addWidget(self.slider, 1)
        centre.addLayout(row)
        self.caption = make_caption()
        centre.addWidget(self.caption)
        lay.addLayout(centre, 1)

    @staticmethod
    def _spin(lo: int, hi: int, value: int, tip: str) -> QSpinBox:
        w = QSpinBox()
        w.setRange(lo, hi)
        w.setValue(value)
        w.setToolTip(tip)
        return w

    # ---- actions ---------------------------------------------------------------------------------
    def _read_settings(self) -> Settings:
        return Settings(seed=self.seed_spin.value(), n=self.n_spin.value(), steps=self.steps_spin.value(),
                        step_size=self.step_spin.value(), noise=self.noise_check.isChecked()).validated()

    def run(self) -> None:
        """Run the chain for the current settings (the previous run is cancelled)."""
        if not self.supported() or self.engine is None:
            return
        if self.job is not None:
            self.job.cancel()
        self.state.settings = self._read_settings()
        self.state.frames, self.state.k, self.state.status = [], 0, "running"
        model, settings = self.loaded.model, self.state.settings
        clf = getattr(self.loaded, "classifier", None)
        self.job = self.engine.submit_job(lambda: frames_job(model, settings, clf), self._frames, self._done,
                                          self._failed)
        self.refresh()

    def _frames(self, frames) -> None:
        self.state.set_frames(frames)
        self.refresh()

    def _done(self, frames) -> None:
        self.state.set_frames(frames)
        self.state.status = "done"
        self.job = None
        self.refresh()

    def _failed(self, msg: str) -> None:
        self.state.status = "idle"
        self.job = None
        self.message.emit(f"VAEBM chain: {msg}", True)
        self.refresh()

    def _scrub(self, k: int) -> None:
        self.state.set_k(k)
        self.refresh(slider=False)

    def set_k(self, k: int) -> None:
        """Show the samples after ``k`` steps (clamped to the steps run)."""
        self.state.set_k(k)
        self.refresh()

    # ---- drawing ---------------------------------------------------------------------------------
    def refresh(self, slider: bool = True) -> None:
        """Draw the grids, titles, slider and caption from the state."""
        st = self.state
        b, a = st.before(), st.after()
        self.top.set_images(b.images if b is not None else None, message="" if b is not None else "press Run")
        self.bottom.set_images(a.images if a is not None else None, message="")
        self.top.set_title(st.top_title())
        self.bottom.set_title(st.bottom_title())
        if slider:
            self.slider.blockSignals(True)
            self.slider.setRange(0, max(0, len(st.frames) - 1))
            self.slider.setValue(st.k)
            self.slider.blockSignals(False)
        self.k_label.setText(f"K = {st.k}")
        self.caption.setText(st.caption())
        self.run_btn.setEnabled(self.supported())
        self.run_btn.setText("Running…" if st.status == "running" else "Run")

    # ---- panel protocol --------------------------------------------------------------------------
    def set_model(self, loaded) -> None:
        """Show a newly loaded model (a ``LoadedModel``); clears the frames."""
        if self.job is not None:
            self.job.cancel()
            self.job = None
        self.loaded = loaded
        self.state.frames, self.state.k, self.state.status = [], 0, "idle"
        d = dict(getattr(loaded.model, "default_sampler", {})) if loaded is not None else {}
        if "step_size" in d:
            self.step_spin.setValue(float(d["step_size"]))
        if "steps" in d:
            self.steps_spin.setValue(int(d["steps"]))
        self.refresh()

    def supported(self) -> bool:
        """A VAEBM on images (``genviz.panels``)."""
        return get_panel("vaebm").supports(self.loaded.model if self.loaded else None)

    def run_default(self, batch: int = 16) -> bool:
        """The default action: run the chain with ``batch`` samples."""
        if not self.supported():
            return False
        self.n_spin.setValue(max(N_RANGE[0], min(N_RANGE[1], int(batch))))
        self.run()
        return True

    def default_done(self) -> bool:
        """True when no chain is running."""
        return self.state.status != "running"

    def session_state(self) -> dict:
        """Settings and the K shown (``BeforeAfterState.session_state``)."""
        return self.state.session_state()

    def restore_session(self, data: dict, on_done=None) -> None:
        """Set the controls from ``session_state()`` data, run the chain, show its K; ``on_done()`` when done."""
        self.state.restore(dict(data or {}))
        s = self.state.settings
        self.seed_spin.setValue(s.seed)
        self.n_spin.setValue(s.n)
        self.steps_spin.setValue(s.steps)
        self.step_spin.setValue(s.step_size)
        self.noise_check.setChecked(s.noise)
        k = self.state.k
        if self.supported():
            self.run()
            done = self._done

            def finished(frames):
                done(frames)
                self.set_k(k)
                if on_done:
                    on_done()
            self.job.on_done = finished
        elif on_done:
            on_done()

    def advanced_controls(self) -> dict:
        """Controls presentation mode may hide."""
        return {"notes": self.notes, "step_size": self.step_spin}

    def set_presenting(self, on: bool, scale: float = 1.0) -> None:
        """Presentation mode: titles and caption at ``scale``, a wider control column; ``on=False`` restores."""
        self.scale = float(scale) if on else 1.0
        for w in (self.top, self.bottom, self.caption):
            w.set_scale(self.scale)
        self.k_label.setStyleSheet(f"font-size: {round(13 * self.scale)}px;" if on else "")
        self.notes.setStyleSheet(f"color: #9aa0aa; font-size: {round(11 * self.scale)}px;" if on else "color: #9aa0aa;")
        self.controls.setFixedWidth(round(CONTROLS_WIDTH * min(self.scale, 1.6)) if on else CONTROLS_WIDTH)
        self.refresh()

    def shutdown(self) -> None:
        """Stop the chain (the window closes)."""
        if self.job is not None:
            self.job.cancel()
            self.job = None
