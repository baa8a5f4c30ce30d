"""The caption label every panel shows: plain words about what is on screen (text from ``gui.captions``)."""
from __future__ import annotations

from PySide6.QtWidgets import QLabel

CAPTION_PX = 16  # 12 pt at 96 dpi


class Caption(QLabel):
    """A word-wrapped, larger-type label; ``set_scale(s)`` draws it at ``s`` times its normal size."""

    def __init__(self, text: str = "", parent=None):
        super().__init__(text, parent)
        self.setObjectName("caption")
        self.setWordWrap(True)
        self.setToolTip("what is on screen, in plain words (caption)")
        self.scale = 1.0
        self.set_scale(1.0)

    def text_px(self) -> int:
        """The caption's font size in pixels (long text: it grows 0.6 times as fast as the scale)."""
        return max(1, round(CAPTION_PX * (1 + (self.scale - 1) * 0.6)))

    def set_scale(self, scale: float) -> None:
        """Font size ``CAPTION_PX * scale`` (presentation mode; 1 is the normal size)."""
        self.scale = float(scale)
        self.setStyleSheet(f"color: #f0f0f0; font-size: {self.text_px()}px; padding: 4px 2px;")


def make_caption() -> Caption:
    """A word-wrapped, larger-type ``Caption`` named ``caption``."""
    return Caption()
