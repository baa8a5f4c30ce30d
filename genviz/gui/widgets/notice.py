"""The "this panel does not fit the model" notice and the panel's content, in one stacked widget."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QStackedWidget, QWidget


def notice_stack(text: str) -> tuple[QStackedWidget, QLabel, QHBoxLayout]:
    """(stack, notice, content layout): page 0 of ``stack`` is the centred grey ``notice`` label, page 1 a widget
    whose horizontal ``content layout`` (no margins) the panel fills; the panel shows page 1 when it supports the
    loaded model."""
    stack = QStackedWidget()
    notice = QLabel(text)
    notice.setAlignment(Qt.AlignmentFlag.AlignCenter)
    notice.setWordWrap(True)
    notice.setStyleSheet("font-size: 14pt; color: #9aa0aa;")
    stack.addWidget(notice)
    content = QWidget()
    stack.addWidget(content)
    lay = QHBoxLayout(content)
    lay.setContentsMargins(0, 0, 0, 0)
    return stack, notice, lay
