"""The drawing surface: an ink layer and a mask layer at screen resolution (280 x 280), smooth strokes,
brush / eraser / mask / fill / eyedropper tools, undo and redo. Pure Qt + numpy (no torch).

The ink layer follows the model's convention: ``background`` is the paper colour (black for MNIST's
white ink on black) and the brush paints ``ink`` (a grey level or a colour). The mask layer is 0 where
the drawing is kept and 255 where the model regenerates; it is shown as a translucent red overlay.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from ...backend.imaging import to_uint8

SIZE = 280
TOOLS = ("brush", "eraser", "mask", "unmask", "fill", "eyedropper")
FILL_TOLERANCE = 60  # fill: a pixel joins the region when each channel is within this of the clicked colour
MAX_UNDO = 100


def qimage_to_array(img: QImage) -> np.ndarray:
    """QImage -> (H, W) uint8 for Grayscale8, (H, W, 3) uint8 for RGB images (copied)."""
    if img.format() == QImage.Format.Format_Grayscale8:
        h, w = img.height(), img.width()
        buf = np.frombuffer(img.constBits(), np.uint8, img.sizeInBytes()).reshape(h, img.bytesPerLine())
        return buf[:, :w].copy()
    img = img.convertToFormat(QImage.Format.Format_RGB888)
    h, w = img.height(), img.width()
    buf = np.frombuffer(img.constBits(), np.uint8, img.sizeInBytes()).reshape(h, img.bytesPerLine())
    return buf[:, :w * 3].reshape(h, w, 3).copy()


def array_to_qimage(a: np.ndarray) -> QImage:
    """(H, W) uint8 -> Grayscale8, (H, W, 3) uint8 -> RGB888 QImage (owning a copy)."""
    a = np.ascontiguousarray(a, dtype=np.uint8)
    if a.ndim == 2:
        return QImage(a.data, a.shape[1], a.shape[0], a.strides[0], QImage.Format.Format_Grayscale8).copy()
    return QImage(a.data, a.shape[1], a.shape[0], a.strides[0], QImage.Format.Format_RGB888).copy()


class StrokeCanvas(QWidget):
    """Drawing widget with an ink layer, a mask layer and an undo stack.

    Signals:
        changed(): the drawing or the mask changed (after a stroke, a fill, undo, redo, clear, load).
        strokeFinished(): a stroke was released (live mode and the latency readout use it).
        colourPicked(QColor): the eyedropper took the colour under the cursor.

    Attributes:
        tool: "brush", "eraser", "mask", "unmask", "fill" (flood-fill the touching region of similar colour
            with ``ink``) or "eyedropper" (emit the drawing's colour under the cursor).
        brush_size: diameter in canvas pixels (1..80).
        ink: QColor the brush paints; ``background`` the paper colour.
        revision: increases with every change (live mode's input key).
    """

    changed = Signal()
    strokeFinished = Signal()
    colourPicked = Signal(QColor)

    def __init__(self, size: int = SIZE, parent=None):
        super().__init__(parent)
        self.canvas_size = size
        self.zoom = 1.0  # display scale only (presentation mode): strokes and arrays stay in canvas pixels
        self.background = QColor(0, 0, 0)
        self.ink = QColor(255, 255, 255)
        self.tool = "brush"
        self.brush_size = 20.0
        self.show_mask = True
        self.revision = 0
        self.ink_layer = QImage(size, size, QImage.Format.Format_RGB888)
        self.ink_layer.fill(self.background)
        self.mask_layer = QImage(size, size, QImage.Format.Format_Grayscale8)
        self.mask_layer.fill(0)
        self._undo: list[tuple[QImage, QImage]] = []
        self._redo: list[tuple[QImage, QImage]] = []
        self._path: QPainterPath | None = None
        self._last: QPointF | None = None
        self._last_mid: QPointF | None = None
        self._cursor: QPointF | None = None
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setFixedSize(size + 2, size + 2)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("draw with the left button; mask tools paint where the model regenerates")

    def sizeHint(self) -> QSize:
        side = round(self.canvas_size * self.zoom) + 2
        return QSize(side, side)

    def set_zoom(self, zoom: float) -> None:
        """Show the canvas ``zoom`` times larger on screen (presentation mode; 1 = one screen pixel per canvas
        pixel). Only the display changes: the drawing, the brush size and every array stay in canvas pixels, and
        the mouse maps back through the zoom. ValueError unless 0.25 <= zoom <= 4."""
        zoom = float(zoom)
        if not 0.25 <= zoom <= 4:
            raise ValueError(f"canvas zoom must be in [0.25, 4], got {zoom}")
        self.zoom = zoom
        self.setFixedSize(self.sizeHint())
        self.update()

    # ---- state -----------------------------------------------------------------------------------
    def ink_array(self) -> np.ndarray:
        """The drawing as (S, S, 3) uint8 RGB (S = canvas size)."""
        return qimage_to_array(self.ink_layer)

    def mask_array(self) -> np.ndarray:
        """The mask as (S, S) uint8: 255 = regenerate, 0 = keep."""
        return qimage_to_array(self.mask_layer)

    def has_mask(self) -> bool:
        return bool(self.mask_array().any())

    def is_blank(self) -> bool:
        a = self.ink_array()
        bg = np.array([self.background.red(), self.background.green(), self.background.blue()], np.uint8)
        return bool((a == bg).all())

    def can_undo(self) -> bool:
        return bool(self._undo)

    def can_redo(self) -> bool:
        return bool(self._redo)

    def _snapshot(self) -> tuple[QImage, QImage]:
        return self.ink_layer.copy(), self.mask_layer.copy()

    def push_undo(self) -> None:
        """Save the current layers on the undo stack (before a change); clears redo."""
        self._undo.append(self._snapshot())
        del self._undo[:-MAX_UNDO]
        self._redo.clear()

    def _changed(self) -> None:
        self.revision += 1
        self.update()
        self.changed.emit()

    def undo(self) -> bool:
        if not self._undo:
            return False
        self._redo.append(self._snapshot())
        self.ink_layer, self.mask_layer = self._undo.pop()
        self._changed()
        return True

    def redo(self) -> bool:
        if not self._redo:
            return False
        self._undo.append(self._snapshot())
        self.ink_layer, self.mask_layer = self._redo.pop()
        self._changed()
        return True

    def clear(self, mask_only: bool = False) -> None:
        """Clear the drawing (and the mask), as one undoable step."""
        self.push_undo()
        if not mask_only:
            self.ink_layer.fill(self.background)
        self.mask_layer.fill(0)
        self._changed()

    def set_background(self, background: QColor, ink: QColor) -> None:
        """Change the paper and ink colours (a model with another convention); clears undo history only
        when the paper colour changes (the drawing is converted: old paper becomes new paper)."""
        if background != self.background:
            a = self.ink_array()
            old = np.array([self.background.red(), self.background.green(), self.background.blue()], np.uint8)
            if (old == 0).all() and background == QColor(255, 255, 255) or \
                    (old == 255).all() and background == QColor(0, 0, 0):
                a = 255 - a  # inverse convention: invert the drawing
            self.ink_layer = array_to_qimage(a)
            self._undo.clear()
            self._redo.clear()
            self.background = QColor(background)
        self.ink = QColor(ink)
        self._changed()

    def set_image(self, image: np.ndarray, mask: np.ndarray | None = None, undoable: bool = True) -> None:
        """Replace the drawing with ``image`` ((H, W) or (H, W, 3), uint8 or float in [0, 1], any
        size: an integer enlargement replicates pixels (exact round trip to the model's resolution),
        other sizes are resized bicubically or area-averaged); optionally the mask ((H, W), 255 =
        regenerate)."""
        if undoable:
            self.push_undo()
        self.ink_layer = _fit(image, self.canvas_size, rgb=True)
        if mask is not None:
            self.mask_layer = _fit(mask, self.canvas_size, rgb=False)
        self._changed()

    def colour_at(self, pos: QPointF) -> QColor:
        """The drawing's colour at ``pos`` (canvas pixels, clamped to the canvas)."""
        x = min(max(int(pos.x()), 0), self.canvas_size - 1)
        y = min(max(int(pos.y()), 0), self.canvas_size - 1)
        return QColor(self.ink_layer.pixel(x, y))

    def pick_colour(self, pos: QPointF) -> QColor:
        """Eyedropper: emit ``colourPicked`` with the colour at ``pos`` and return it."""
        c = self.colour_at(pos)
        self.colourPicked.emit(c)
        return c

    def fill(self, pos: QPointF, colour: QColor | None = None) -> int:
        """Flood-fill (4-connected) the region around ``pos`` whose colour is within ``FILL_TOLERANCE`` of the
        clicked one with ``colour`` (default ``ink``), as one undoable step; returns the pixels filled."""
        from scipy import ndimage
        a = self.ink_array()
        x = min(max(int(pos.x()), 0), self.canvas_size - 1)
        y = min(max(int(pos.y()), 0), self.canvas_size - 1)
        near = (np.abs(a.astype(np.int16) - a[y, x].astype(np.int16)) <= FILL_TOLERANCE).all(-1)
        labels, _ = ndimage.label(near)
        region = labels == labels[y, x]
        c = self.ink if colour is None else colour
        self.push_undo()
        a[region] = (c.red(), c.green(), c.blue())
        self.ink_layer = array_to_qimage(a)
        self._changed()
        self.strokeFinished.emit()
        return int(region.sum())

    # ---- painting --------------------------------------------------------------------------------
    def _pos(self, ev) -> QPointF:
        p = ev.position()
        return QPointF((p.x() - 1) / self.zoom, (p.y() - 1) / self.zoom)

    def _pen(self) -> tuple[QImage, QPen]:
        if self.tool in ("brush", "eraser"):
            layer = self.ink_layer
            colour = self.ink if self.tool == "brush" else self.background
        else:
            layer = self.mask_layer
            colour = QColor(255, 255, 255) if self.tool == "mask" else QColor(0, 0, 0)
        pen = QPen(colour, float(self.brush_size), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                   Qt.PenJoinStyle.RoundJoin)
        return layer, pen

    def _paint_segment(self, path: QPainterPath) -> None:
        layer, pen = self._pen()
        p = QPainter(layer)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setPen(pen)
        p.drawPath(path)
        p.end()

    def begin_stroke(self, pos: QPointF) -> None:
        """Start a stroke at ``pos`` (canvas pixels): one dab."""
        self.push_undo()
        self._last = QPointF(pos)
        self._last_mid = QPointF(pos)
        path = QPainterPath(pos)
        path.lineTo(pos + QPointF(0.01, 0))
        self._paint_segment(path)
        self.update()

    def continue_stroke(self, pos: QPointF) -> None:
        """Extend the stroke to ``pos``: a quadratic curve through the midpoints (smooth strokes)."""
        if self._last is None:
            return
        mid = (self._last + pos) / 2
        path = QPainterPath(self._last_mid)
        path.quadTo(self._last, mid)
        self._paint_segment(path)
        self._last, self._last_mid = QPointF(pos), mid
        self.update()

    def end_stroke(self) -> None:
        if self._last is None:
            return
        path = QPainterPath(self._last_mid)
        path.lineTo(self._last)
        self._paint_segment(path)
        self._last = self._last_mid = None
        self._changed()
        self.strokeFinished.emit()

    def draw_polyline(self, points, tool: str | None = None) -> None:
        """Draw one stroke through ``points`` (canvas pixels) as the mouse would (scripts, tests)."""
        old = self.tool
        if tool is not None:
            self.tool = tool
        try:
            pts = [QPointF(float(x), float(y)) for x, y in points]
            self.begin_stroke(pts[0])
            for p in pts[1:]:
                self.continue_stroke(p)
            self.end_stroke()
        finally:
            self.tool = old

    def mousePressEvent(self, ev) -> None:
        if ev.button() == Qt.MouseButton.LeftButton:
            if self.tool == "fill":
                self.fill(self._pos(ev))
            elif self.tool == "eyedropper":
                self.pick_colour(self._pos(ev))
            else:
                self.begin_stroke(self._pos(ev))

    def mouseMoveEvent(self, ev) -> None:
        self._cursor = self._pos(ev)
        if ev.buttons() & Qt.MouseButton.LeftButton and self.tool not in ("fill", "eyedropper"):
            self.continue_stroke(self._cursor)
        else:
            self.update()

    def mouseReleaseEvent(self, ev) -> None:
        if ev.button() == Qt.MouseButton.LeftButton and self.tool not in ("fill", "eyedropper"):
            self.end_stroke()

    def leaveEvent(self, ev) -> None:
        self._cursor = None
        self.update()

    def paintEvent(self, ev) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#555a66"))
        p.translate(1, 1)
        p.scale(self.zoom, self.zoom)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.zoom != 1)
        p.drawImage(0, 0, self.ink_layer)
        if self.show_mask:
            m = self.mask_array()
            if m.any():
                rgba = np.zeros((*m.shape, 4), np.uint8)
                rgba[..., 0] = 255
                rgba[..., 1] = 60
                rgba[..., 2] = 60
                rgba[..., 3] = (m.astype(np.uint16) * 110 // 255).astype(np.uint8)
                overlay = QImage(rgba.data, m.shape[1], m.shape[0], m.shape[1] * 4,
                                 QImage.Format.Format_RGBA8888).copy()
                p.drawImage(0, 0, overlay)
        if self._cursor is not None:
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            p.setPen(QPen(QColor(255, 176, 0, 200), 1 / self.zoom))
            r = self.brush_size / 2
            p.drawEllipse(QRectF(self._cursor.x() - r, self._cursor.y() - r, 2 * r, 2 * r))
        p.end()


def _fit(image: np.ndarray, size: int, rgb: bool) -> QImage:
    from PIL import Image
    a = np.asarray(image)
    if a.dtype != np.uint8:
        a = to_uint8(a.astype(np.float32))
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    im = Image.fromarray(a)
    im = im.convert("RGB" if rgb else "L")
    if im.size != (size, size):
        if im.width < size and size % im.width == 0 and im.width == im.height:
            # an integer enlargement (28 -> 280) by pixel replication: area-averaging it back gives the
            # original exactly, so an accepted candidate or a real digit is what the model sees
            method = Image.Resampling.NEAREST
        else:
            method = Image.Resampling.BICUBIC if im.width < size else Image.Resampling.BOX
        im = im.resize((size, size), method)
    return array_to_qimage(np.asarray(im))
