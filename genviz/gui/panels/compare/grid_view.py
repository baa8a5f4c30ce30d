"""The comparison grid drawn with QPainter: sampler labels down the left, step counts across the top, each cell
the chain's final samples with its readout below. ``cellClicked(row, col)`` on a click; ``render_image()`` is
what Export PNG saves."""
from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

from ...widgets.pixmaps import array_to_pixmap

PAD = 6


def row_color(i: int, rows: int) -> QColor:
    """The colour of row ``i`` of ``rows``: its label here and its curves in the plots (pyqtgraph's intColor)."""
    import pyqtgraph as pg
    return QColor(pg.intColor(i, hues=max(1, rows), sat=150))  # pastel: pure blue is unreadable on the dark grid


class GridView(QWidget):
    """Draws ``model`` (a ``CompareModel``); ``zoom`` is the pixel scale of the sample tiles, ``scale`` the text's."""

    cellClicked = Signal(int, int)

    def __init__(self, model, parent=None):
        super().__init__(parent)
        self.model = model
        self.zoom = 1
        self.scale = 1.0
        self.selected: tuple[int, int] | None = None
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.setMouseTracking(False)
        self.setToolTip("click a cell to open its chain in the Chain panel")

    # ---- geometry --------------------------------------------------------------------------------
    def _font(self, px: float, bold: bool = False) -> QFont:
        f = QFont()
        f.setPixelSize(max(8, round(px * self.scale)))
        f.setBold(bold)
        return f

    def _tile(self) -> tuple[int, int]:
        """(width, height) of one cell's image: the batch tiled near-square, 28 px digits at ``zoom``."""
        from ....backend.imaging import grid_shape
        n = max(1, int(self.model.settings.n))
        rows, cols = grid_shape(n)
        return (cols * 30 + 2) * self.zoom, (rows * 30 + 2) * self.zoom

    def _metrics(self) -> tuple[int, int, int, int, int]:
        tw, th = self._tile()
        label_w = round(120 * self.scale)
        head_h = round(22 * self.scale)
        text_h = round(18 * self.scale)
        cell_w = max(tw, round(118 * self.scale)) + PAD
        return label_w, head_h, cell_w, th + text_h + PAD, text_h

    def sizeHint(self) -> QSize:
        s = self.model.settings
        label_w, head_h, cell_w, cell_h, _ = self._metrics()
        return QSize(label_w + cell_w * len(s.steps) + PAD, head_h + cell_h * len(s.samplers) + PAD)

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        """(row, col) of the cell under widget pixel (x, y), or None."""
        s = self.model.settings
        label_w, head_h, cell_w, cell_h, _ = self._metrics()
        if x < label_w or y < head_h:
            return None
        i, j = int((y - head_h) // cell_h), int((x - label_w) // cell_w)
        return (i, j) if i < len(s.samplers) and j < len(s.steps) else None

    # ---- painting --------------------------------------------------------------------------------
    def paint_on(self, p: QPainter) -> None:
        """Draw the whole grid with painter ``p`` (the widget, or an image for export)."""
        m, s = self.model, self.model.settings
        label_w, head_h, cell_w, cell_h, text_h = self._metrics()
        tw, th = self._tile()
        p.fillRect(QRect(0, 0, self.sizeHint().width(), self.sizeHint().height()), QColor("#1e1f22"))
        p.setPen(QColor("#d0d0d0"))
        p.setFont(self._font(13, bold=True))
        for j, steps in enumerate(s.steps):
            p.drawText(QRect(label_w + j * cell_w, 0, cell_w, head_h), Qt.AlignmentFlag.AlignCenter, f"{steps} steps")
        for i, name in enumerate(s.samplers):
            y = head_h + i * cell_h
            p.setPen(row_color(i, len(s.samplers)))  # the row's colour is its curves' colour in the plots
            p.setFont(self._font(13, bold=True))
            p.drawText(QRect(2, y, label_w - 6, th), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight
                       | Qt.TextFlag.TextWordWrap, m.labels.get(name, name))
            for j in range(len(s.steps)):
                x = label_w + j * cell_w
                c = m.cell(i, j)
                box = QRect(x + (cell_w - PAD - tw) // 2, y, tw, th)
                if c is not None and c.images is not None:
                    from ....backend.imaging import make_grid
                    p.drawPixmap(box, array_to_pixmap(make_grid(c.images, pad=2), self.zoom))
                else:
                    p.fillRect(box, QColor("#2a2c30"))
                if self.selected == (i, j):
                    p.setPen(QColor("#f0b040"))
                    p.drawRect(box.adjusted(-2, -2, 1, 1))
                p.setPen(QColor("#f06060") if c is not None and c.error else QColor("#a8b0bc"))
                p.setFont(self._font(11))
                p.drawText(QRect(x, y + th + 1, cell_w - PAD, text_h), Qt.AlignmentFlag.AlignCenter, m.cell_text(i, j))

    def paintEvent(self, _ev) -> None:
        p = QPainter(self)
        self.paint_on(p)
        p.end()

    def render_image(self) -> QImage:
        """The grid as an image at its natural size (what Export PNG writes)."""
        img = QImage(self.sizeHint(), QImage.Format.Format_RGB32)
        p = QPainter(img)
        self.paint_on(p)
        p.end()
        return img

    def mousePressEvent(self, ev) -> None:
        hit = self.cell_at(ev.position().x(), ev.position().y())
        if hit is not None:
            self.selected = hit
            self.update()
            self.cellClicked.emit(*hit)

    def changed(self) -> None:
        """Settings or results changed: new size, repaint."""
        self.updateGeometry()
        self.setMinimumSize(self.sizeHint())
        self.update()
