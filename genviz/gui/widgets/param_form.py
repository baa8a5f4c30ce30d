"""Widgets generated from a sampler's ``Param`` list (int, float, bool, choice)."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QLabel, QSpinBox,
                               QWidget)


def pretty(name: str) -> str:
    """``"timestep_spacing"`` -> ``"Timestep spacing"``."""
    return name.replace("_", " ").capitalize()


class ParamForm(QWidget):
    """A form with one widget per sampler parameter; ``values()`` returns ``{name: value}``.

    float -> QDoubleSpinBox, int -> QSpinBox, bool -> QCheckBox, choice -> QComboBox; each widget's
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
                w = QDoubleSpinBox()
                w.setDecimals(3)
                w.setRange(p.minimum if p.minimum is not None else -1e6, p.maximum if p.maximum is not None else 1e6)
                w.setSingleStep(0.1)
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
            w.setToolTip(p.help)
            label = QLabel(pretty(p.name))
            label.setToolTip(p.help)
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
