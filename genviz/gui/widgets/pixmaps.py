"""numpy images -> QPixmaps, nearest-neighbour scaled (pixels stay visible). No torch at import.

Float images are converted with ``genviz.backend.imaging.to_uint8``, imported when first needed (float images
come from a loaded model, so the backend is imported by then).
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap

from .stroke_canvas import array_to_qimage


def array_to_pixmap(a: np.ndarray, scale: int = 1) -> QPixmap:
    """(H, W) or (H, W, 3) uint8 -> QPixmap enlarged ``scale`` times (no smoothing)."""
    q = array_to_qimage(a)
    if scale > 1:
        q = q.scaled(q.width() * scale, q.height() * scale, Qt.AspectRatioMode.IgnoreAspectRatio,
                     Qt.TransformationMode.FastTransformation)
    return QPixmap.fromImage(q)


def unit_to_pixmap(img: np.ndarray, scale: int = 1) -> QPixmap:
    """(C, H, W) float in [0, 1] or uint8 (C = 1 or 3) -> QPixmap enlarged ``scale`` times (no smoothing)."""
    a = np.asarray(img)
    if a.dtype != np.uint8:
        from ...backend.imaging import to_uint8
        a = to_uint8(a)
    if a.ndim == 3:
        a = a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0)
    return array_to_pixmap(a, scale)
