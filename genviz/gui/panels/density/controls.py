"""The density panel's control groups: data and model (with live training and its loss curve), views, and
particles. Widgets only: the panel connects them (ranges and choices come from ``model``)."""
from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
)

from ...widgets.loss_curve import LossCurve
from .model import DATASETS, GAN_REG_WEIGHT, GAN_REGS, IMAGE_VIEWS, LAYERS, LAYOUTS, MAX_DOTS, RANGES, Settings

FAMILY_TIPS = ("ebm: short-run Langevin ML; diffusion: DDPM ε-MLP; flow: neural spline flow; vae: ELBO; "
               "gan: non-saturating GAN (no density)")


def spin(key: str, value: int, tip: str = "") -> QSpinBox:
    """A spin box over ``model.RANGES[key]`` showing ``value``."""
    w = QSpinBox()
    w.setRange(*RANGES[key])
    w.setValue(value)
    if tip:
        w.setToolTip(tip)
    return w


class DataModelBox(QGroupBox):
    """Dataset (and painting one), the shown model, and live training: family, steps, Train / Cancel, a
    progress bar and the loss curve."""

    def __init__(self, s: Settings, parent=None):
        super().__init__("Data and model", parent)
        f = QFormLayout(self)
        self.dataset_combo = QComboBox()
        self.dataset_combo.addItems(DATASETS)
        self.dataset_combo.addItem("user")
        self.dataset_combo.setObjectName("dataset")
        self.dataset_combo.setToolTip("the 2-D toy dataset (genviz.backend.toy.datasets)")
        f.addRow("Dataset", self.dataset_combo)
        prow = QHBoxLayout()
        self.paint_check = QCheckBox("paint data")
        self.paint_check.setToolTip("drag on the plot to draw a 'user' dataset (a Gaussian mixture, std 0.1, on "
                                    "the drawn points); then Train live")
        self.clear_btn = QPushButton("Clear")
        prow.addWidget(self.paint_check)
        prow.addWidget(self.clear_btn)
        f.addRow(prow)
        self.model_label = QLabel("no model")
        self.model_label.setWordWrap(True)
        f.addRow("Model", self.model_label)
        self.family_combo = QComboBox()   # filled with the training recipes' families (``set_families``)
        self.family_combo.setToolTip(FAMILY_TIPS)
        f.addRow("Train", self.family_combo)
        self.train_steps = spin("train_steps", s.train_steps,
                                "optimisation steps: picking a family sets its live default (the bundled models "
                                "used the recipe's longer defaults)")
        f.addRow("Steps", self.train_steps)
        self.train_note = QLabel("")   # the family's live default and what it trades (``DensityState.train_note``)
        self.train_note.setObjectName("train_note")
        self.train_note.setWordWrap(True)
        self.train_note.setStyleSheet("color:#aab0bc; font-size:8pt")
        f.addRow(self.train_note)
        self.gan_reg_combo = QComboBox()   # the GAN's discriminator regulariser (shown for the gan family only)
        for k, v in GAN_REGS.items():
            self.gan_reg_combo.addItem(v, k)
        self.gan_reg_combo.setToolTip("damp the GAN's training dynamics (see the GAN dynamics panel): R1 (gradient "
                                      "penalty) penalises ‖∇D‖² on real data, CLC (closed-loop control) D's outputs "
                                      "(training.gan_reg)")
        self.gan_reg_weight = QDoubleSpinBox()
        self.gan_reg_weight.setRange(*GAN_REG_WEIGHT)
        self.gan_reg_weight.setValue(s.gan_reg_weight)
        self.gan_reg_weight.setSingleStep(0.1)
        self.gan_reg_weight.setToolTip("the regulariser's weight (γ or λ)")
        reg = QHBoxLayout()
        reg.addWidget(self.gan_reg_combo, 1)
        reg.addWidget(self.gan_reg_weight)
        self.gan_reg_label = QLabel("Regulariser")
        f.addRow(self.gan_reg_label, reg)
        row = QHBoxLayout()
        self.train_btn = QPushButton("Train live")
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.setEnabled(False)
        row.addWidget(self.train_btn)
        row.addWidget(self.cancel_btn)
        f.addRow(row)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.progress.setFormat("idle")
        f.addRow(self.progress)
        self.loss_curve = LossCurve()
        self.loss_curve.setToolTip("the training loss (running average) while a model trains live; the plot "
                                   "redraws the model being trained every second or so")
        self.loss_curve.setVisible(False)
        f.addRow(self.loss_curve)

    def set_families(self, families, current: str) -> None:
        """Offer ``families`` (the trainable ones) with ``current`` selected."""
        self.family_combo.blockSignals(True)
        self.family_combo.clear()
        self.family_combo.addItems(list(families))
        self.family_combo.blockSignals(False)
        self.family_combo.setCurrentText(current)


class ViewsBox(QGroupBox):
    """Layout, image view, shown layers, the score's timestep, grid resolution, recompute and export."""

    def __init__(self, s: Settings, parent=None):
        super().__init__("Views", parent)
        vf = QFormLayout(self)
        self.layout_combo = QComboBox()
        for k, v in LAYOUTS.items():
            self.layout_combo.addItem(v, k)
        vf.addRow("Layout", self.layout_combo)
        self.image_combo = QComboBox()
        for k, v in IMAGE_VIEWS.items():
            self.image_combo.addItem(v, k)
        self.image_combo.setCurrentIndex(list(IMAGE_VIEWS).index(s.image))
        vf.addRow("Image", self.image_combo)
        self.checks = {}
        for key, label, _ in LAYERS:
            cb = QCheckBox(label)
            cb.setChecked(s.views[key])
            self.checks[key] = cb
            vf.addRow(cb)
        self.t_spin = spin("t", s.t, "diffusion: the timestep t at which the score −ε̂(x, t)/√(1−ᾱ_t) is drawn")
        vf.addRow("score at t", self.t_spin)
        self.res_spin = spin("res", s.res, "grid resolution per side (diffusion's ODE density uses at most 56)")
        vf.addRow("grid res", self.res_spin)
        self.recompute_btn = QPushButton("Recompute views")
        vf.addRow(self.recompute_btn)
        self.export_btn = QPushButton("Export figure PNG…")
        vf.addRow(self.export_btn)


class ParticlesBox(QGroupBox):
    """Particle count, slow mode, Run chain and the chain's status line."""

    def __init__(self, s: Settings, parent=None):
        super().__init__("Particles", parent)
        pf = QFormLayout(self)
        self.n_spin = spin("n", s.n, f"particles; above {MAX_DOTS} they are drawn as a density image")
        pf.addRow("particles", self.n_spin)
        self.slow_check = QCheckBox("slow (20 ms per step)")
        self.slow_check.setChecked(s.slow)
        pf.addRow(self.slow_check)
        self.run_btn = QPushButton("Run chain")
        self.run_btn.setToolTip("run the model's default sampler and watch the particles move")
        pf.addRow(self.run_btn)
        self.chain_label = QLabel("")
        self.chain_label.setWordWrap(True)
        pf.addRow(self.chain_label)
