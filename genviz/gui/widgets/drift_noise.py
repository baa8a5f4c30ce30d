"""Drift vs noise: one Langevin update of the selected sample, split into its two terms.

A ULA / MALA / annealed-Langevin step is ``x_new = x + drift + noise`` with drift = α ∇log p(x) (convention A;
−(η/2)∇E(x) in convention B) and noise = √(2αT)·s·ξ (Song & Ermon 2019; Nijkamp et al. 2019; DESIGN.md §4).
Seeing the two side by side, on one colour scale and with their norms, shows whether the chain is driven
by the model (drift dominates) or is mostly diffusing (noise dominates).
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from .scaling import text_px

# diverging lookup table for signed previews (128 = zero): blue below, dark grey at zero, orange above
_NEG, _MID, _POS = np.array([79, 163, 255]), np.array([38, 40, 46]), np.array([255, 176, 0])
_u = np.arange(256)[:, None]
SIGNED_LUT = np.where(_u < 128, _MID + (_NEG - _MID) * (128 - _u) / 128, _MID + (_POS - _MID) * (_u - 128) / 127)
SIGNED_LUT = SIGNED_LUT.clip(0, 255).astype(np.uint8)


class _Tile(pg.GraphicsLayoutWidget):
    """A caption over one image."""

    def __init__(self, caption: str, lut=None):
        super().__init__()
        self.setBackground("#26282e")
        self.caption = self.addLabel(caption, row=0, col=0, size="13px", color="#c8ccd4")
        self.view = self.addViewBox(row=1, col=0, lockAspect=True, invertY=True, enableMouse=False, enableMenu=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        if lut is not None:
            self.image.setLookupTable(lut)
        self.view.addItem(self.image)


class DriftNoiseView(QWidget):
    """Three images of one sample: the drift term, the noise term (same signed scale) and the state after.

    ``set_terms(drift_u8, noise_u8, x_u8, drift_norm, noise_norm)`` takes (C, H, W) uint8 previews (drift and
    noise: 128 = 0, see ``Record.drift_u8``) and the two terms' L2 norms; ``clear_terms(message)`` empties it.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        self.title = QLabel("drift vs noise")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.scale = 1.0
        self.title.setStyleSheet("font-size: 15px; color: #e8e8e8;")
        self.title.setWordWrap(True)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        lay.addWidget(self.title)
        row = QHBoxLayout()
        self.tiles = [_Tile("drift", SIGNED_LUT), _Tile("noise", SIGNED_LUT), _Tile("x after")]
        for t in self.tiles:
            row.addWidget(t, 1)
        lay.addLayout(row, 1)
        self.legend = QLabel("<span style='color:#4fa3ff'>blue: negative</span> · "
                             "<span style='color:#ffb000'>orange: positive</span> · one scale for both terms")
        self.legend.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.legend.setStyleSheet("color: #9aa0aa;")
        lay.addWidget(self.legend)
        self.norms = (float("nan"), float("nan"))

    def set_terms(self, drift_u8: np.ndarray, noise_u8: np.ndarray, x_u8: np.ndarray,
                  drift_norm: float, noise_norm: float, sample: int = 0) -> None:
        """Show one sample's last update (arrays (C, H, W) uint8; norms in model-space units)."""
        self.norms = (float(drift_norm), float(noise_norm))
        h, w = x_u8.shape[-2:]
        for tile, a in zip(self.tiles, (drift_u8, noise_u8, x_u8)):
            a = np.ascontiguousarray(a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0))
            tile.image.setImage(a, levels=(0, 255), autoLevels=False)
            tile.view.setRange(QRectF(0, 0, w, h), padding=0.02)
        ratio = drift_norm / noise_norm if noise_norm > 0 else float("inf")
        self.tiles[0].caption.setText(f"drift ‖·‖ = {drift_norm:.3g}", size=self._cap_size(), color="#ffb000")
        self.tiles[1].caption.setText(f"noise ‖·‖ = {noise_norm:.3g}", size=self._cap_size(), color="#4fa3ff")
        self.title.setText(f"<b>last update</b> of #{sample} &nbsp;(x ← x + drift + noise) · drift / noise = {ratio:.3g}")

    def _cap_size(self) -> str:
        return f"{text_px(13, self.scale)}px"

    def set_scale(self, scale: float) -> None:
        """Title, tile captions and legend at ``scale`` times their size (presentation mode; 1: normal)."""
        self.scale = float(scale)
        self.title.setStyleSheet(f"font-size: {text_px(15, scale)}px; color: #e8e8e8;")
        self.legend.setStyleSheet(f"color: #9aa0aa; font-size: {text_px(12, scale)}px;")
        for t in self.tiles:
            t.caption.setText(t.caption.text, size=self._cap_size())

    def clear_terms(self, message: str = "no update at this step") -> None:
        """Empty the three images and show ``message`` as the title."""
        self.norms = (float("nan"), float("nan"))
        for tile, cap in zip(self.tiles, ("drift", "noise", "x after")):
            tile.image.clear()
            tile.caption.setText(cap, size=self._cap_size(), color="#c8ccd4")
        self.title.setText(message)
