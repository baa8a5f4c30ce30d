"""Presentation mode (F11; Esc leaves): built for an audience across a room.

Entering: full screen, the window's font at ``font_pt`` (``resources/presentation.json``), the controls named in
its ``hide`` list hidden, chains at its ``speed``, and every panel told ``set_presenting(True, scale)`` (the
panel protocol: larger captions, titles and plot text, wider control columns, bigger images). ``scale`` follows
the window: 2.0 at 1920×1080 (``scale_for``), recomputed when the window is resized. A panel without the
method gets the generic part (``widgets.scaling.scale_widgets``: every pyqtgraph plot and caption in it).
Leaving gives back everything it changed: font, hidden controls, speed, geometry, and each panel's sizes.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QFormLayout

from ..presets import presentation_config
from .widgets.scaling import scale_widgets

HINT = "presentation mode: F11 or Esc to leave, → step, Space play/pause, N next demo"


def scale_for(width: int, height: int) -> float:
    """Text scale for a window of ``width`` × ``height`` px: 1 at 960×540 and below, 2 at 1920×1080, at most 3."""
    return max(1.0, min(3.0, round(min(width / 960, height / 540), 2)))


def show_control(widget, visible: bool) -> None:
    """Show or hide ``widget``; in a form, its whole row (the label too)."""
    parent = widget.parentWidget()
    lay = parent.layout() if parent is not None else None
    if isinstance(lay, QFormLayout) and lay.indexOf(widget) >= 0:
        lay.setRowVisible(widget, visible)
    widget.setVisible(visible)


class Presenter(QObject):
    """Presentation mode of ``demo``'s window (``demo.hidable()`` names the controls it may hide)."""

    def __init__(self, demo):
        super().__init__(demo.w)
        self.demo, self.w = demo, demo.w
        self.on = False
        self.scale = 1.0
        self._saved: dict = {}

    def enter(self) -> None:
        """Enter presentation mode (see the module docstring)."""
        w, cfg = self.w, presentation_config()
        controls = self.demo.hidable()
        hide = []
        for k in cfg["hide"]:
            c = controls.get(k)
            hide.extend(c if isinstance(c, (list, tuple)) else [c] if c is not None else [])
        speed = w.chain_panel.speed_combo
        self._saved = {"font": QFont(w.font()), "geometry": w.geometry(), "maximized": w.isMaximized(),
                       "hidden": [(c, not c.isHidden()) for c in hide], "speed": speed.currentIndex()}
        f = QFont(w.font())
        f.setPointSizeF(float(cfg["font_pt"]))
        w.setFont(f)
        for c, _ in self._saved["hidden"]:
            show_control(c, False)
        self._set_speed(int(cfg["speed"]))
        self.on = True
        self.apply_scale(scale_for(w.width(), w.height()), force=True)
        w.installEventFilter(self)
        w.showFullScreen()

    def leave(self) -> None:
        """Leave presentation mode: every setting back as it was before ``enter``."""
        w, saved = self.w, self._saved
        w.removeEventFilter(self)
        self.on = False
        for panel in w.panels().values():
            self._panel(panel, False, 1.0)
        if hasattr(self.demo, "overlay"):
            self.demo.overlay.set_scale(1.0)
        self.scale = 1.0
        w.setFont(saved["font"])
        for c, was in saved["hidden"]:
            show_control(c, was)
        self._set_speed(saved["speed"])
        w.showNormal()
        if saved["maximized"]:
            w.showMaximized()
        else:
            w.setGeometry(saved["geometry"])

    def apply_scale(self, scale: float, force: bool = False) -> None:
        """Tell every panel the text scale (while on)."""
        if not self.on or (scale == self.scale and not force):
            return
        self.scale = scale
        for panel in self.w.panels().values():
            self._panel(panel, True, scale)
        if hasattr(self.demo, "overlay"):
            self.demo.overlay.set_scale(scale)

    @staticmethod
    def _panel(panel, on: bool, scale: float) -> None:
        fn = getattr(panel, "set_presenting", None)
        if callable(fn):
            fn(on, scale)
        else:  # a panel without the protocol method: its plots and captions, generically
            scale_widgets(panel, scale if on else 1.0)

    def _set_speed(self, index: int) -> None:
        p = self.w.chain_panel
        p.speed_combo.setCurrentIndex(index)
        p.state.step_interval = float(p.speed_combo.currentData() or 0.0)  # also when the index did not change

    def eventFilter(self, obj, ev) -> bool:
        if obj is self.w and ev.type() == QEvent.Type.Resize and self.on:
            self.apply_scale(scale_for(ev.size().width(), ev.size().height()))
        return False
