"""Per-step figure plots and the live digit-probability bar chart (pyqtgraph)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

from ..chain_state import EXTRA_KEYS as EXTRA  # per-sample figures kept in ``Record.extra``
from .scaling import scale_plot_item, text_px

ACCENT = "#4fa3ff"
MARK = "#ffb000"
FAINT = (150, 150, 160, 90)

SERIES = (
    ("t", "timestep t"),
    ("sigma", "noise level σ (log)"),
    ("x_norm", "‖x_t‖ (mean)"),
    ("eps_norm", "‖ε̂‖ (mean)"),
    ("p_final", "p(final digit | x̂₀)"),
    ("energy", "energy E(x)"),
    ("grad_norm", "‖∇E‖ or ‖score‖"),
    ("accept", "MALA acceptance"),
    ("level", "σ level (annealed)"),
    ("p_next", "p(next pixel = 1)"),
    ("nll", "−log p so far (nats)"),
)



def series(records, key: str, selected: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(step index, value) arrays of one figure over ``records`` (missing values skipped).

    ``"p_final"`` is the classifier's probability, for sample ``selected``, of the digit it sees in
    the newest record: the curve shows at which step the digit was decided.
    """
    xs, ys = [], []
    if key == "p_final":
        with_p = [r for r in records if r.probs is not None and selected < len(r.probs)]
        if with_p:
            c = int(np.argmax(with_p[-1].probs[selected]))
            xs = [r.index for r in with_p]
            ys = [float(r.probs[selected, c]) for r in with_p]
        return np.asarray(xs, float), np.asarray(ys, float)
    for r in records:
        if key == "t":
            v = r.t_next if r.index > 0 else r.t
            v = None if v is None else max(v, 0)
        elif key in EXTRA:
            a = r.extra.get(key) if getattr(r, "extra", None) else None
            v = None if a is None or selected >= len(a) else float(a[selected])
        else:
            v = getattr(r, key)
        if v is None or (isinstance(v, float) and not np.isfinite(v)):
            continue
        if key == "sigma":
            if v <= 0:
                continue
            v = np.log10(v)
        xs.append(r.index)
        ys.append(float(v))
    return np.asarray(xs, float), np.asarray(ys, float)


class StatsPlots(pg.GraphicsLayoutWidget):
    """Small stacked plots of per-step figures over the step index, with a line at the shown step.

    The active branch is drawn bold; the other branches faintly, for comparison.
    """

    def __init__(self, parent=None, keys=("t", "x_norm", "eps_norm"), horizontal: bool = False):
        super().__init__(parent)
        self.setBackground("#1f2126")
        self.horizontal = horizontal
        self.scale = 1.0
        self.keys = ()
        self.plots, self.curves, self.lines, self.others = {}, {}, {}, {}
        self.set_keys(keys)

    def set_keys(self, keys) -> None:
        """Show the figures ``keys`` (names from ``SERIES``), rebuilding the plots if they differ."""
        keys = tuple(keys)
        if keys == self.keys:
            return
        self.clear()
        self.keys = keys
        titles = dict(SERIES)
        horizontal = self.horizontal
        self.plots, self.curves, self.lines, self.others = {}, {}, {}, {}
        first = None
        for row, key in enumerate(self.keys):
            p = self.addPlot(row=0, col=row) if horizontal else self.addPlot(row=row, col=0)
            p.setTitle(titles[key], size="9pt", color="#d0d0d0")
            p.showGrid(x=True, y=True, alpha=0.15)
            p.setMenuEnabled(False)
            p.setMouseEnabled(x=False, y=False)
            p.hideButtons()
            p.getAxis("left").setWidth(42)
            if first is None:
                first = p
            else:
                p.setXLink(first)
            if row < len(self.keys) - 1 and not horizontal:
                p.getAxis("bottom").setStyle(showValues=False)
            else:
                p.setLabel("bottom", "step")
            self.curves[key] = p.plot([], [], pen=pg.mkPen(ACCENT, width=2))
            line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(MARK, width=1.5))
            p.addItem(line)
            self.lines[key] = line
            self.plots[key] = p
            self.others[key] = []
            scale_plot_item(p, self.scale)
            if horizontal:
                self.ci.layout.setColumnStretchFactor(row, 1)
        self._free_titles()

    def _free_titles(self) -> None:
        """Titles do not set their plot's minimum width (pyqtgraph sizes a label to its text): side by side, long
        titles at a large font otherwise squeezed the last plot to a sliver; the plots share the width equally."""
        for p in self.plots.values():
            p.titleLabel.setMinimumWidth(0)

    def set_scale(self, scale: float) -> None:
        """Every title, axis label and tick label at ``scale`` times its size (presentation mode; 1: normal)."""
        self.scale = float(scale)
        for p in self.plots.values():
            scale_plot_item(p, self.scale)
        self._free_titles()

    def set_title(self, key: str, text: str) -> None:
        """Retitle the plot of ``key`` (at the current scale)."""
        p = self.plots[key]
        p.setTitle(text, size="9pt", color="#d0d0d0")
        scale_plot_item(p, self.scale)
        self._free_titles()

    def update_plots(self, branches, active: int, position: int, total_steps: int, selected: int = 0) -> None:
        """Redraw curves of ``branches`` (records lists per branch) and move the step line."""
        for key in self.keys:
            p = self.plots[key]
            for c in self.others[key]:
                p.removeItem(c)
            self.others[key] = []
            for i, recs in enumerate(branches):
                if i == active:
                    continue
                xs, ys = series(recs, key, selected)
                self.others[key].append(p.plot(xs, ys, pen=pg.mkPen(QColor(*FAINT), width=1)))
            if 0 <= active < len(branches):
                xs, ys = series(branches[active], key, selected)
                self.curves[key].setData(xs, ys)
            else:
                self.curves[key].setData([], [])
            self.lines[key].setPos(position)
            p.setXRange(0, max(total_steps, 1), padding=0.02)
            if key in ("p_final", "accept", "p_next"):
                p.setYRange(0, 1, padding=0.02)

    def set_position(self, position: int) -> None:
        """Move the step line only."""
        for line in self.lines.values():
            line.setPos(position)


class ProbBars(pg.PlotWidget):
    """Bar chart of class probabilities (e.g. the digit classifier on x̂₀ of the selected sample)."""

    def __init__(self, classes=tuple(str(i) for i in range(10)), parent=None):
        super().__init__(parent)
        self.setBackground("#1f2126")
        self.classes = list(classes)
        k = len(self.classes)
        self.bars = pg.BarGraphItem(x=np.arange(k), height=np.zeros(k), width=0.7, brush=ACCENT)
        self.addItem(self.bars)
        self.setYRange(0, 1.12, padding=0)
        self.setXRange(-0.6, k - 0.4, padding=0)
        self.getPlotItem().layout.setContentsMargins(2, 2, 10, 2)
        self.setMouseEnabled(x=False, y=False)
        self.setMenuEnabled(False)
        self.hideButtons()
        self.getAxis("bottom").setTicks([[(i, c) for i, c in enumerate(self.classes)]])
        self.getAxis("left").setWidth(34)
        self.showGrid(y=True, alpha=0.15)
        self.setTitle("p(digit | x̂₀)", size="9pt", color="#d0d0d0")
        self.probs = np.zeros(k)
        self.scale = 1.0
        self.verdict = pg.TextItem("", color="#ffffff", anchor=(0, 0))
        self.verdict.setPos(-0.55, 1.115)
        self.addItem(self.verdict)

    def set_classes(self, classes) -> None:
        """Show bars for ``classes`` (names; ten digits, nine emoji categories...): the x axis, its tick labels
        (names longer than two characters as their first two letters, "Smileys & Emotion" -> "Sm"; the verdict
        above the bars gives the whole name) and the title follow; the bars are cleared."""
        self.classes = list(classes)
        k = len(self.classes)
        self.bars.setOpts(x=np.arange(k), height=np.zeros(k), brushes=[pg.mkBrush(ACCENT)] * k)
        self.setXRange(-0.6, k - 0.4, padding=0)
        self.getAxis("bottom").setTicks([[(i, c if len(c) <= 2 else c[:2]) for i, c in enumerate(self.classes)]])
        self.setToolTip(", ".join(f"{c[:2]} = {c}" for c in self.classes if len(c) > 2))
        digits = self.classes == [str(i) for i in range(10)]
        self.setTitle(f"p({'digit' if digits else 'category'} | x̂₀)", size="9pt", color="#d0d0d0")
        scale_plot_item(self.getPlotItem(), self.scale)
        self.probs = np.zeros(k)
        self.verdict.setHtml("")

    def set_probs(self, probs, title: str | None = None) -> None:
        """Show ``probs`` (K,) (None clears); the most likely class is highlighted."""
        k = len(self.classes)
        if probs is None:
            self.probs = np.zeros(k)
            brushes = [pg.mkBrush(ACCENT)] * k
            self.verdict.setHtml("")
        else:
            self.probs = np.asarray(probs, float)[:k]
            top = int(np.argmax(self.probs))
            brushes = [pg.mkBrush(MARK if i == top else ACCENT) for i in range(k)]
            self.verdict.setHtml(f"<span style='font-size:{text_px(15, self.scale)}px'><b>{self.classes[top]}</b> "
                                 f"({self.probs[top]:.2f})</span>")
        self.bars.setOpts(height=self.probs, brushes=brushes)
        if title is not None:
            self.setTitle(title, size="9pt", color="#d0d0d0")
            scale_plot_item(self.getPlotItem(), self.scale)

    def set_scale(self, scale: float) -> None:
        """Title, axes and the verdict at ``scale`` times their size (presentation mode; 1: normal)."""
        self.scale = float(scale)
        scale_plot_item(self.getPlotItem(), self.scale)
        self.set_probs(self.probs if self.probs.any() else None)
