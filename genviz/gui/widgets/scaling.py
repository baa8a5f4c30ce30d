"""Text sizes for presentation mode: one ``scale`` for pyqtgraph plots (title, axis labels, tick labels,
legend) and for every caption under a widget. Scale 1 gives back the sizes the items had before."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QFont

PLOT_TEXT_PX = 12  # a plot's title, axis labels and tick labels at scale 1 (about 9 pt)
TITLE_ROW_PX = 30  # pyqtgraph's fixed title row height (PlotItem.setTitle)
_AXES = ("left", "bottom", "right", "top")


def text_px(base_px: float, scale: float) -> int:
    """``base_px`` times ``scale``, rounded (at least 1 px)."""
    return max(1, round(base_px * scale))


def px_font(px: int) -> QFont:
    """A default font of ``px`` pixels."""
    f = QFont()
    f.setPixelSize(px)
    return f


def scale_plot_item(item: pg.PlotItem, scale: float, base_px: int = PLOT_TEXT_PX) -> None:
    """Draw ``item``'s title, axis labels, tick labels and legend at ``base_px * scale`` px, and widen its fixed
    axes and title row to match. Calling it again (a new title) re-applies the scale; ``scale == 1`` restores
    what the item had before its first scaling."""
    orig = item.__dict__.get("_genviz_text")
    if orig is None:
        if scale == 1:
            return
        axes = {n: (a.style["tickFont"], dict(a.labelStyle), a.fixedWidth, a.fixedHeight)
                for n in _AXES for a in (item.getAxis(n),)}
        legend = getattr(item, "legend", None)
        orig = {"title": item.titleLabel.opts.get("size"), "axes": axes,
                "legend": legend.opts.get("labelTextSize") if legend is not None else None}
        item._genviz_text = orig
    restore = scale == 1
    px = text_px(base_px, scale)
    size = orig["title"] if restore else f"{px}px"
    if size is None:
        item.titleLabel.opts.pop("size", None)
    if item.titleLabel.isVisible():
        h = TITLE_ROW_PX if restore else max(TITLE_ROW_PX, round(px * 1.6))
        item.titleLabel.setText(item.titleLabel.text, **({"size": size} if size else {}))
        item.titleLabel.setMaximumHeight(h)
        item.layout.setRowFixedHeight(0, h)
    for n, (tick_font, style, width, height) in orig["axes"].items():
        a = item.getAxis(n)
        a.setTickFont(tick_font if restore else px_font(px))
        a.labelStyle = dict(style) if restore else {**style, "font-size": f"{px}px"}
        a._updateLabel()
        if n in ("left", "right"):
            a.setWidth(width if restore or width is None else round(width * scale))
        elif restore or height is not None:
            a.setHeight(height if restore else round(height * scale))
        elif a.isVisible():  # pyqtgraph measures tick text only when it paints: reserve the scaled room now
            a.setHeight(round(px * (2.4 if a.label.isVisible() else 1.4)) if a.style["showValues"] else None)
    legend = getattr(item, "legend", None)
    if legend is not None:
        lsize = orig["legend"] if restore else f"{px}px"
        legend.opts["labelTextSize"] = lsize
        for _sample, label in legend.items:
            label.setText(label.text, size=lsize)
    if restore:
        del item._genviz_text


def plot_items(root) -> list:
    """Every pyqtgraph ``PlotItem`` shown by a ``GraphicsView`` under the widget ``root``."""
    out = []
    for view in root.findChildren(pg.GraphicsView):
        out.extend(it for it in view.scene().items() if isinstance(it, pg.PlotItem))
    return out


def scale_widgets(root, scale: float) -> None:
    """The generic part of presentation mode for any panel: every plot item and every caption under ``root``
    at ``scale`` (1 restores)."""
    from .caption import Caption
    for item in plot_items(root):
        scale_plot_item(item, scale)
    for cap in root.findChildren(Caption):
        cap.set_scale(scale)
