"""Panels announced for a later release: they say what they will do and what the model supports."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

PLANNED = {
    "interpolation": ("Interpolation", "walk between two samples through the model's latent or noise space "
                                       "(slerp of initial noises, DDIM inversion)"),
    "density": ("Density", "see a 2-D model's learned density, score field and sampling paths"),
    "canvas": ("Canvas", "draw strokes and let the model complete them (SDEdit, inpainting)"),
}


class PlaceholderPanel(QWidget):
    """A panel coming in a later release; tells whether the loaded model will support it."""

    def __init__(self, key: str, parent=None):
        super().__init__(parent)
        self.key = key
        self.title, self.what = PLANNED[key]
        lay = QVBoxLayout(self)
        self.label = QLabel()
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setWordWrap(True)
        self.label.setStyleSheet("font-size: 13pt; color: #9aa0aa;")
        lay.addWidget(self.label)
        self.set_model(None)

    def set_model(self, model) -> None:
        """Update the text for ``model`` (None: no model loaded)."""
        text = f"<h2>{self.title}</h2><p>Coming in a later release: {self.what}.</p>"
        if model is not None:
            if self.key in model.capabilities():
                text += f"<p>{model.name} will support this panel.</p>"
            else:
                text += (f"<p>The loaded model ({model.name}, a {model.family} model) does not support "
                         f"this panel.</p>")
        self.label.setText(text)
