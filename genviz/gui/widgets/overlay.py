"""A message over a widget while something is on its way ("Loading mnist-ebm…"), covering what is not ready."""
from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QLabel

from .scaling import text_px

OVERLAY_PX = 22


class BusyOverlay(QLabel):
    """A translucent full-size label over ``parent`` (follows its size); ``show_text(text)`` shows it,
    ``hide()`` removes it, ``set_scale(s)`` sizes its text."""

    def __init__(self, parent):
        super().__init__(parent)
        self.setObjectName("busy_overlay")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, False)
        self.scale = 1.0
        self.set_scale(1.0)
        self.hide()
        parent.installEventFilter(self)

    def set_scale(self, scale: float) -> None:
        """Text at ``OVERLAY_PX * scale`` px."""
        self.scale = float(scale)
        self.setStyleSheet(f"background: rgba(20, 22, 26, 215); color: #f0f0f0; "
                           f"font-size: {text_px(OVERLAY_PX, self.scale)}px;")

    def show_text(self, text: str) -> None:
        """Cover the parent and show ``text``."""
        self.setText(text)
        self.setGeometry(self.parentWidget().rect())
        self.raise_()
        self.show()

    def eventFilter(self, obj, ev) -> bool:
        if obj is self.parentWidget() and ev.type() == QEvent.Type.Resize:
            self.setGeometry(obj.rect())
        return False
