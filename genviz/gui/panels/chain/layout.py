"""The chain panel's widgets and their layout (a mixin of ``ChainPanel``: builds ``self.*`` widgets)."""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
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

from ...widgets.caption import make_caption
from ...widgets.drift_noise import DriftNoiseView
from ...widgets.image_grid import ImageGrid
from ...widgets.notice import notice_stack
from ...widgets.param_form import ParamForm
from ...widgets.plots import ProbBars, StatsPlots

SPEEDS = (("full speed", 0.0), ("slow (4 steps/s)", 0.25), ("slower (1 step/s)", 1.0))
CONTROLS_WIDTH = 236
PRESENT_SPLIT = 0.7  # presentation mode: the grids' share of the height (plots below get the rest)


class ChainLayout:
    """Builds the chain panel's controls, grids, scrub bar and plots onto ``self`` (``_build``)."""

    # ---- presentation mode -----------------------------------------------------------------------
    def set_presenting(self, on: bool, scale: float = 1.0) -> None:
        """Presentation mode (the panel protocol): caption, grid titles and plot text at ``scale`` times their
        size, a control column wide enough for the window's larger font, and more height for the grids.
        ``on=False`` gives back every size it changed (called again while on: a new scale)."""
        s = float(scale) if on else 1.0
        for w in (self.caption, self.x_grid, self.x0_grid, self.plots, self.bars, self.drift_view):
            w.set_scale(s)
        if on:
            if self._present_saved is None:
                self._present_saved = {"split": self.split.sizes(), "bars": self.bars.minimumWidth()}
            self.bars.setMinimumWidth(round(self._present_saved["bars"] * min(s, 1.3)))  # the plots need the width
            self.controls.setFixedWidth(max(CONTROLS_WIDTH, self.controls_needed_width()))
            QTimer.singleShot(0, self._present_split)  # after the window's new size reached the splitter
        elif self._present_saved is not None:
            saved, self._present_saved = self._present_saved, None
            self.controls.setFixedWidth(CONTROLS_WIDTH)
            self.bars.setMinimumWidth(saved["bars"])
            self.split.setSizes(saved["split"])
            QTimer.singleShot(0, lambda: self.split.setSizes(saved["split"]))  # again, once the window is back
        self.update_pending()

    def _present_split(self) -> None:
        if self._present_saved is not None:
            total = max(sum(self.split.sizes()), 1)
            self.split.setSizes([round(total * PRESENT_SPLIT), total - round(total * PRESENT_SPLIT)])

    def controls_needed_width(self) -> int:
        """The width the control column needs for its texts in the current font, counting the buttons shown
        only sometimes (Undo reset) and the longest run-button text (Running…)."""
        need = self.controls.minimumSizeHint().width()
        fm = self.run_btn.fontMetrics()
        need += max(0, fm.horizontalAdvance("Running…") - fm.horizontalAdvance(self.run_btn.text()))
        if self.undo_btn.isHidden():
            need += self.undo_btn.sizeHint().width() + 6
        return need + 8

    def fit_controls(self) -> None:
        """In presentation mode, widen the control column to its texts (a new branch has a longer label)."""
        if self._present_saved is not None:
            self.controls.setFixedWidth(max(CONTROLS_WIDTH, self.controls_needed_width()))

    # ---- layout ----------------------------------------------------------------------------------
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        self.stack, self.notice, lay = notice_stack("Load a diffusion model to run a chain.")
        outer.addWidget(self.stack)

        # left: controls
        controls = QWidget()
        controls.setFixedWidth(CONTROLS_WIDTH)
        self.controls = controls
        self._present_saved = None
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
        self.reset_btn.setToolTip("start again from noise with the settings (reset: puts every branch aside; "
                                  "Undo reset / Ctrl+Z brings them back)")
        self.undo_btn = QPushButton("Undo reset")
        self.undo_btn.setToolTip("bring back the branches the last Reset put aside (Ctrl+Z)")
        self.undo_btn.setVisible(False)
        for b in (self.step_btn, self.run_btn, self.pause_btn):
            row1.addWidget(b)
        for b in (self.stop_btn, self.reset_btn, self.undo_btn):
            row2.addWidget(b)
        rl.addLayout(row1)
        rl.addLayout(row2)
        self.pending_label = QLabel("")
        self.pending_label.setWordWrap(True)
        self.pending_label.setObjectName("pending")
        self.pending_label.setStyleSheet("color: #e0b050;")
        self.pending_label.setVisible(False)
        rl.addWidget(self.pending_label)
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
        self.branch_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)  # new branches: wider
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
        # the parameters come below the run buttons, so rebuilding the form (another sampler) moves no button
        self._gan_slot = QVBoxLayout()
        cl.addLayout(self._gan_slot)
        pbox = QGroupBox("Parameters")
        pl = QVBoxLayout(pbox)
        self.param_form = ParamForm()
        pl.addWidget(self.param_form)
        cl.addWidget(pbox)
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
        self._build_ddgan_tools(self._gan_slot)
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
        self.split = split

        self.step_btn.clicked.connect(self.step)
        self.run_btn.clicked.connect(self.run)
        self.pause_btn.clicked.connect(self.pause)
        self.stop_btn.clicked.connect(self.stop)
        self.reset_btn.clicked.connect(self.reset)
        self.branch_btn.clicked.connect(self.branch_here)
        self.branch_combo.activated.connect(self._branch_chosen)
        self.undo_btn.clicked.connect(self.undo_reset)
        for sig in (self.sampler_combo.currentIndexChanged, self.steps_spin.valueChanged, self.seed_spin.valueChanged,
                    self.batch_spin.valueChanged, self.param_form.changed):
            sig.connect(self.update_pending)
        QShortcut(QKeySequence.StandardKey.Undo, self, self.undo_reset)
        QShortcut(QKeySequence(Qt.Key.Key_Space), self, self._toggle_run)
        QShortcut(QKeySequence(Qt.Key.Key_Right), self, self.step)

