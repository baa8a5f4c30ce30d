"""The canvas panel's middle column widgets: what the model sees, x_t0, and the SDEdit settings."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...widgets.pixmaps import array_to_pixmap, unit_to_pixmap
from .model import GUIDE_CLASSES, LIMITS, CanvasSettings


class ModelViews(QWidget):
    """"Model sees" (the drawing at the model's resolution) and "x_t0" (the noised drawing of the last batch)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        views = QHBoxLayout(self)
        views.setContentsMargins(0, 0, 0, 0)
        box = QGroupBox("Model sees")
        bl = QVBoxLayout(box)
        self.preview = QLabel("load a model")
        self.preview.setFixedSize(116, 116)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setToolTip("the drawing at the model's resolution (area-averaged), as the model gets it")
        bl.addWidget(self.preview)
        self.preview_caption = QLabel("")
        self.preview_caption.setStyleSheet("color: #8a8f99;")
        bl.addWidget(self.preview_caption)
        views.addWidget(box)
        box2 = self.xt0_box = QGroupBox(self.XT0_TITLES[""])
        box2.setToolTip("the noised drawing each chain starts from (SDEdit's x_t0), or the pixels a fill keeps")
        bl2 = QVBoxLayout(box2)
        self.xt0_view = QLabel("—")
        self.xt0_view.setMinimumHeight(60)
        self.xt0_view.setAlignment(Qt.AlignmentFlag.AlignCenter)
        bl2.addWidget(self.xt0_view)
        views.addWidget(box2, 1)

    XT0_TITLES = {"": "x_t0 (noised)", "gibbs": "Given pixels (blue: unknown)",
                  "causal": "Given pixels · NLL map"}  # the caption says what blue and orange mean

    def set_fill(self, fill: str) -> None:
        """Title the second view for ``CanvasState.fill`` ("", "causal" or "gibbs")."""
        self.xt0_box.setTitle(self.XT0_TITLES.get(fill, self.XT0_TITLES[""]))

    def show_preview(self, view: np.ndarray | None, shape, masked: bool) -> None:
        """Show ``model_view``'s (C, H, W) image (None: no model yet) and its size."""
        if view is None:
            self.preview.setText("load a model")
            self.preview_caption.setText("")
            return
        self.preview.setPixmap(unit_to_pixmap(view, max(1, 112 // max(shape[1:]))))
        self.preview_caption.setText(f"{shape[2]}×{shape[1]} px" + (", masked" if masked else ""))

    def show_x_t0(self, grid: np.ndarray) -> None:
        """Show the uint8 tile strip of the last batch's x_t0."""
        self.xt0_view.setPixmap(array_to_pixmap(grid))


class SDEditControls(QGroupBox):
    """The generation settings: t0, K candidates, seed, steps, sampler, ILVR and classifier guidance.

    The sampler list comes from the backend once a model is loaded (``set_samplers``); ``settings()`` reads the
    controls as a ``CanvasSettings``, ``apply()`` sets them. Signal ``t0Changed(float)``.
    """

    t0Changed = Signal(float)

    def __init__(self, parent=None):
        super().__init__("SDEdit", parent)
        gf = QFormLayout(self)
        gf.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # a field goes under its label when narrow
        t0row = QHBoxLayout()
        self.t0_slider = QSlider(Qt.Orientation.Horizontal)
        self.t0_slider.setRange(0, 100)
        self.t0_slider.valueChanged.connect(lambda v: self.t0Changed.emit(v / 100.0))
        self.t0_label = QLabel()
        self.t0_label.setMinimumWidth(150)
        t0row.addWidget(self.t0_slider, 1)
        t0row.addWidget(self.t0_label)
        gf.addRow("t0 / T", t0row)
        self.k_spin = QSpinBox()
        self.k_spin.setRange(*LIMITS["n"])
        self.k_spin.setValue(4)
        gf.addRow("Candidates K", self.k_spin)
        seedrow = QHBoxLayout()
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(*LIMITS["seed"])
        self.new_seed_cb = QCheckBox("new seed each time")
        seedrow.addWidget(self.seed_spin, 1)
        seedrow.addWidget(self.new_seed_cb)
        gf.addRow("Seed", seedrow)
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(*LIMITS["steps"])
        self.steps_spin.setValue(25)
        gf.addRow("Steps (t0 → 0)", self.steps_spin)
        self.sampler_combo = QComboBox()
        gf.addRow("Sampler", self.sampler_combo)
        ilvrrow = QHBoxLayout()
        self.ilvr_cb = QCheckBox("ILVR low-pass guidance, factor")
        self.ilvr_cb.setToolTip("Choi et al. 2021: keep the drawing's coarse layout (downsampled by the factor) "
                                "at every step, let the model draw the detail")
        self.ilvr_spin = QSpinBox()
        self.ilvr_spin.setRange(*LIMITS["ilvr"])
        ilvrrow.addWidget(self.ilvr_cb)
        ilvrrow.addWidget(self.ilvr_spin)
        gf.addRow("Guidance", ilvrrow)
        guiderow = QHBoxLayout()
        self.guide_cb = QCheckBox("toward digit")
        self.guide_cb.setToolTip("classifier guidance (mnist-guide classifier on x̂₀) toward the digit drawn: "
                                 "'auto' takes the class the guide classifier sees in the drawing")
        self.guide_combo = QComboBox()
        self.guide_combo.addItems(["auto"] + [str(i) for i in range(GUIDE_CLASSES)])
        self.guide_scale = QSpinBox()
        self.guide_scale.setRange(*LIMITS["guidance"])
        self.guide_scale.setPrefix("scale ")
        guiderow.addWidget(self.guide_cb)
        guiderow.addWidget(self.guide_combo)
        guiderow.addWidget(self.guide_scale)
        gf.addRow("", guiderow)
        self.set_guide_available(False)

    @property
    def ready(self) -> bool:
        """True once a model supplied the samplers (the settings mean something)."""
        return self.sampler_combo.count() > 0

    def set_samplers(self, names) -> None:
        """Offer the samplers ``names`` (keeps the current choice when it is among them)."""
        names = list(names)
        if [self.sampler_combo.itemText(i) for i in range(self.sampler_combo.count())] == names:
            return
        cur = self.sampler_combo.currentText()
        self.sampler_combo.clear()
        self.sampler_combo.addItems(names)
        if cur in names:
            self.sampler_combo.setCurrentText(cur)

    def set_guide_available(self, ok: bool) -> None:
        """Enable the classifier-guidance controls only when a guide classifier fits the model."""
        for w in (self.guide_cb, self.guide_combo, self.guide_scale):
            w.setEnabled(ok)

    def guided(self) -> bool:
        """Classifier guidance is on (and available)."""
        return self.guide_cb.isChecked() and self.guide_cb.isEnabled()

    def settings(self) -> CanvasSettings:
        """The controls as ``CanvasSettings``."""
        gc = self.guide_combo.currentIndex()
        return CanvasSettings(t0=self.t0_slider.value() / 100.0, sampler=self.sampler_combo.currentText(),
                              n=self.k_spin.value(), seed=self.seed_spin.value(), steps=self.steps_spin.value(),
                              ilvr=self.ilvr_spin.value() if self.ilvr_cb.isChecked() else 0,
                              guidance=float(self.guide_scale.value()) if self.guide_cb.isChecked() else 0.0,
                              guide_class=None if gc <= 0 else gc - 1)

    def apply(self, s: CanvasSettings) -> None:
        """Set the controls to ``s`` (a switched-off ILVR or guidance keeps its factor or scale)."""
        self.t0_slider.setValue(int(round(s.t0 * 100)))
        self.k_spin.setValue(s.n)
        self.seed_spin.setValue(s.seed)
        self.steps_spin.setValue(s.steps)
        if self.sampler_combo.findText(s.sampler) >= 0:
            self.sampler_combo.setCurrentText(s.sampler)
        self.ilvr_cb.setChecked(s.ilvr > 1)
        if s.ilvr > 1:
            self.ilvr_spin.setValue(s.ilvr)
        self.guide_cb.setChecked(s.guidance > 0)
        if s.guidance > 0:
            self.guide_scale.setValue(int(round(s.guidance)))
        self.guide_combo.setCurrentIndex(0 if s.guide_class is None else s.guide_class + 1)

    def apply_recommended(self, rec: dict) -> None:
        """Apply ``model.recommended(guided)``: t0, ILVR factor and guidance scale, both on when guided."""
        guided = bool(rec["guided"])
        self.set_guide_available(guided)
        self.guide_cb.setChecked(guided)
        self.ilvr_cb.setChecked(guided)
        self.ilvr_spin.setValue(int(rec["ilvr"]))
        self.guide_scale.setValue(int(round(rec["guidance"])))
        self.t0_slider.setValue(int(round(rec["t0"] * 100)))
        self.t0_slider.setToolTip(f"default t0 = {rec['t0']:g}: {rec.get('t0_source', '')}" if rec.get("t0_source")
                                  else "")
