"""The caption label every panel shows: plain words about what is on screen (text from ``gui.captions``)."""
from __future__ import annotations

from PySide6.QtWidgets import QLabel


def make_caption() -> QLabel:
    """A word-wrapped, larger-type QLabel named ``caption``."""
    label = QLabel("")
    label.setObjectName("caption")
    label.setWordWrap(True)
    label.setStyleSheet("color: #f0f0f0; font-size: 12pt; padding: 4px 2px;")
    label.setToolTip("what is on screen, in plain words (caption)")
    return label
