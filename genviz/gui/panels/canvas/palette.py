"""The canvas' colour palette (colour models): swatches of the data's common colours, the current brush colour,
and the model's paper colour, as one row of buttons. Qt only; the colours come from the model's data set.

For a model of the bundled emoji data the swatches are ``backend.colour_drawings.PALETTE`` (black and the 15
common colours of the training images, by k-means); other colour models get ``BASIC``.
"""
from __future__ import annotations

from PySide6.QtCore import QSize, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGridLayout, QToolButton, QWidget

BASIC = ((0, 0, 0), (90, 90, 90), (200, 40, 40), (245, 140, 20), (250, 205, 40), (60, 160, 70), (50, 120, 200),
         (130, 70, 170), (140, 85, 40), (245, 170, 190), (255, 255, 255), (170, 200, 230))
COLUMNS = 8


def palette_for(model) -> tuple[tuple[int, int, int], ...]:
    """The swatches for ``model``: the emoji data's common colours (``PALETTE``) for ``dataset == "emoji"``, else
    ``BASIC``; () for a grey model (C = 1) or none."""
    if model is None or tuple(model.data_shape)[:1] != (3,):
        return ()
    if getattr(model, "dataset", None) == "emoji":
        from ....backend.colour_drawings import PALETTE
        return PALETTE
    return BASIC


class PaletteBar(QWidget):
    """A grid of colour swatches; clicking one emits ``colourChosen(QColor)``. ``set_colours([])`` hides it."""

    colourChosen = Signal(QColor)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(2)
        self.swatches: list[QToolButton] = []
        self.side = 22
        self.set_colours(())

    def colours(self) -> list[QColor]:
        """The swatches' colours, in order."""
        return [QColor(b.property("rgb")) for b in self.swatches]

    def set_colours(self, colours) -> None:
        """Show ``colours`` ((r, g, b) tuples) as swatches; hidden when empty."""
        for b in self.swatches:
            self._grid.removeWidget(b)
            b.deleteLater()
        self.swatches = []
        for i, (r, g, b) in enumerate(colours):
            btn = QToolButton()
            c = QColor(int(r), int(g), int(b))
            btn.setProperty("rgb", c.name())
            btn.setToolTip(f"brush colour {c.name()} (rgb {r}, {g}, {b})")
            btn.setFixedSize(QSize(self.side, self.side))
            btn.setStyleSheet(f"QToolButton {{ background: {c.name()}; border: 1px solid #555a66; }}")
            btn.clicked.connect(lambda _=False, c=c: self.colourChosen.emit(QColor(c)))
            self._grid.addWidget(btn, i // COLUMNS, i % COLUMNS)
            self.swatches.append(btn)
        self.setVisible(bool(self.swatches))

    def set_side(self, side: int) -> None:
        """Swatch size in pixels (presentation mode makes them larger)."""
        self.side = int(side)
        for b in self.swatches:
            b.setFixedSize(QSize(self.side, self.side))
