"""Widgets generated from a sampler's ``Param`` list (int, float, bool, choice)."""
from __future__ import annotations

import math

from PySide6.QtCore import Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QLabel, QSpinBox, QWidget

# everyday words for each sampler parameter; the tooltip shows them first, then the technical help
PLAIN = {
    "eta": "how much fresh randomness each step adds (0: none, the path is fixed by the start)",
    "clip_sample": "keep the model's guess of the final image inside the valid pixel range",
    "timestep_spacing": "how the steps are spread between pure noise and the clean image",
    "variance_type": "how much randomness each denoising step adds back",
    "step_size": "how far each sample moves per step",
    "convention": "which of the two textbook ways to write the same Langevin update",
    "temperature": "more randomness (above 1) or less (below 1) than the model's own distribution",
    "noise_scale": "shrinks or grows the random jitter of each step (1 = as the theory says)",
    "max_norm": "stop the chain when a sample flies off (divergence guard)",
    "clip": "keep every pixel inside the valid range after each step",
    "init": "where the samples start: random noise, real data or a memory of earlier samples",
    "init_std": "how spread out the starting noise is",
    "reinit_prob": "how often a remembered sample is replaced by fresh noise",
    "steps_per_level": "how many steps at each noise level",
    "epsilon": "base step size, scaled down at the lower noise levels",
    "sigma_max": "the largest noise level to start from",
    "sigma_min": "the smallest noise level to end at",
    "snr": "how strongly each correction step pushes toward more likely images",
    "n_corrector": "how many correction steps follow each denoising step",
}


def tooltip(name: str, help_text: str) -> str:
    """Plain words first, the technical name and help after: ``"how far ... (step_size: α or η ...)"``."""
    plain = PLAIN.get(name)
    return f"{plain} — {name}: {help_text}" if plain else f"{name}: {help_text}"


def pretty(name: str) -> str:
    """``"timestep_spacing"`` -> ``"Timestep spacing"``."""
    return name.replace("_", " ").capitalize()


class FloatField(QDoubleSpinBox):
    """A float spin box that holds any value of its range: it shows and reads ``%g`` text (``2e-05``, ``0.25``,
    ``1e+04``), and its arrows step by ×/÷ 1.5 when the value is positive and the range is positive (a step
    size or ε spanning decades), by ±0.1 otherwise. A QDoubleSpinBox with 3 decimals showed 2e-5 as 0.000."""

    def __init__(self, minimum: float, maximum: float, parent=None):
        super().__init__(parent)
        self.setDecimals(15)  # the stored precision; the text is %g
        self.setRange(minimum, maximum)
        self.setKeyboardTracking(False)
        self._log = minimum > 0

    def textFromValue(self, value: float) -> str:
        return f"{value:.4g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text.strip())
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        t = text.strip()
        if not t:
            return QValidator.State.Intermediate, text, pos
        try:
            v = float(t)
        except ValueError:  # "1e", "-", "2.": on the way to a number
            ok = all(c in "0123456789.eE+-" for c in t)
            return (QValidator.State.Intermediate if ok else QValidator.State.Invalid), text, pos
        if not math.isfinite(v):
            return QValidator.State.Invalid, text, pos
        inside = self.minimum() <= v <= self.maximum()
        return (QValidator.State.Acceptable if inside else QValidator.State.Intermediate), text, pos

    def stepBy(self, steps: int) -> None:
        v = self.value()
        if self._log and v > 0:
            self.setValue(v * 1.5 ** steps)
        else:
            self.setValue(v + 0.1 * steps)


class ParamForm(QWidget):
    """A form with one widget per sampler parameter; ``values()`` returns ``{name: value}``.

    float -> FloatField (any magnitude, %g text), int -> QSpinBox, bool -> QCheckBox, choice -> QComboBox; each widget's
    tooltip is the parameter's help text. Emits ``changed`` when any value changes.
    """

    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.widgets: dict = {}
        self.params: tuple = ()

    def set_params(self, params, overrides: dict | None = None) -> None:
        """Rebuild the form for ``params`` (Param objects), with ``overrides`` as initial values."""
        overrides = overrides or {}
        while self.form.rowCount():
            self.form.removeRow(0)
        self.widgets = {}
        self.params = tuple(params)
        for p in self.params:
            value = overrides.get(p.name, p.default)
            if p.kind == "float":
                w = FloatField(p.minimum if p.minimum is not None else -1e6, p.maximum if p.maximum is not None else 1e6)
                w.setValue(float(value))
                w.valueChanged.connect(self.changed)
            elif p.kind == "int":
                w = QSpinBox()
                w.setRange(int(p.minimum) if p.minimum is not None else -10**9,
                           int(p.maximum) if p.maximum is not None else 10**9)
                w.setValue(int(value))
                w.valueChanged.connect(self.changed)
            elif p.kind == "bool":
                w = QCheckBox()
                w.setChecked(bool(value))
                w.toggled.connect(self.changed)
            else:
                w = QComboBox()
                for c in p.choices:
                    w.addItem(str(c), c)
                i = w.findData(value)
                w.setCurrentIndex(max(i, 0))
                w.currentIndexChanged.connect(self.changed)
            w.setObjectName(f"param_{p.name}")
            tip = tooltip(p.name, p.help)
            w.setToolTip(tip)
            label = QLabel(pretty(p.name))
            label.setToolTip(tip)
            self.form.addRow(label, w)
            self.widgets[p.name] = w

    def values(self) -> dict:
        """Current values, converted to each parameter's kind."""
        out = {}
        for p in self.params:
            w = self.widgets[p.name]
            if p.kind == "float":
                out[p.name] = float(w.value())
            elif p.kind == "int":
                out[p.name] = int(w.value())
            elif p.kind == "bool":
                out[p.name] = bool(w.isChecked())
            else:
                out[p.name] = w.currentData()
        return out

    def set_value(self, name: str, value) -> None:
        """Set one parameter's widget."""
        w = self.widgets[name]
        if isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        elif isinstance(w, QComboBox):
            w.setCurrentIndex(max(w.findData(value), 0))
        else:
            w.setValue(value)
