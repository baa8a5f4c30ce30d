"""The "Samplers" panel: a sampler × step-count grid from one seed, every chain's curves overlaid, a click opens a
cell's chain in the Chain panel, Export PNG saves the grid. The grid runs on the engine thread
(``backend.sampler_grid.run_grid`` through ``engine.submit_job``); ``CompareModel`` holds what it yields."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ....backend.sampler_grid import REFERENCES
from ....panels import get_panel
from ...widgets.caption import make_caption
from ...widgets.scaling import scale_plot_item
from .grid_view import GridView, row_color
from .model import CURVES, CompareModel, parse_steps

CONTROLS_WIDTH = 250
STYLES = (Qt.PenStyle.DotLine, Qt.PenStyle.DashDotLine, Qt.PenStyle.DashLine, Qt.PenStyle.SolidLine)
REF_TEXT = {"most-steps": "its own chain with the most steps", "ddpm-1000": "DDPM, 1000 steps (slow)"}


class ComparePanel(QWidget):
    """Controls (samplers, step counts, seed, batch, reference, Run, Export PNG), the grid, three curve plots and
    the caption. Signals: message(text, is_error) for the status bar."""

    message = Signal(str, bool)

    def __init__(self, engine=None, parent=None):
        super().__init__(parent)
        self.engine = engine
        self.loaded = None
        self.state = CompareModel()
        self.scale = 1.0
        self.job = None
        self._on_done = None
        self._build()

    # ---- layout ----------------------------------------------------------------------------------
    def _build(self) -> None:
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        self.controls = QGroupBox("The grid")
        self.controls.setFixedWidth(CONTROLS_WIDTH)
        form = QFormLayout(self.controls)
        self.sampler_list = QListWidget()
        self.sampler_list.setToolTip("the rows: tick the samplers to compare")
        form.addRow(self.sampler_list)
        self.steps_edit = QLineEdit(", ".join(map(str, self.state.settings.steps)))
        self.steps_edit.setToolTip("the columns: numbers of steps, e.g. 5, 10, 20, 50")
        form.addRow("Steps", self.steps_edit)
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        form.addRow("Seed", self.seed_spin)
        self.batch_spin = QSpinBox()
        self.batch_spin.setRange(1, 64)
        self.batch_spin.setValue(self.state.settings.n)
        self.batch_spin.setToolTip("samples per cell, all cells from the same noise")
        form.addRow("Samples", self.batch_spin)
        self.ref_combo = QComboBox()
        for r in REFERENCES:
            self.ref_combo.addItem(REF_TEXT[r], r)
        self.ref_combo.setToolTip("what a cell's digits are compared with (the readout under each cell)")
        form.addRow("Compare with", self.ref_combo)
        self.run_button = QPushButton("Run")
        self.run_button.clicked.connect(self.run)
        self.export_button = QPushButton("Export PNG…")
        self.export_button.clicked.connect(self._export_dialog)
        form.addRow(self.run_button)
        form.addRow(self.export_button)
        lay.addWidget(self.controls)

        centre = QVBoxLayout()
        self.grid_view = GridView(self.state)
        self.grid_view.cellClicked.connect(self.open_chain)
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.grid_view)
        self.scroll.setWidgetResizable(False)
        self.scroll.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        centre.addWidget(self.scroll, 3)
        plots = QHBoxLayout()
        self.plots: dict = {}
        for key, title in CURVES:
            p = pg.PlotWidget()
            p.setMinimumHeight(150)
            p.setTitle(title, size="9pt", color="#d0d0d0")
            p.setLabel("bottom", "share of the chain done")
            plots.addWidget(p)
            self.plots[key] = p
        centre.addLayout(plots, 2)
        self.caption = make_caption()
        centre.addWidget(self.caption)
        lay.addLayout(centre, 1)
        self.refresh()

    # ---- controls <-> settings ---------------------------------------------------------------------
    def _known(self) -> list:
        if self.loaded is None:
            return []
        return [s.name for s in self.loaded.samplers if s.kind == "denoising"]

    def _fill_samplers(self) -> None:
        self.sampler_list.clear()
        chosen = set(self.state.settings.samplers)
        for s in (self.loaded.samplers if self.loaded else []):
            if s.kind != "denoising":
                continue
            it = QListWidgetItem(s.title)
            it.setData(Qt.ItemDataRole.UserRole, s.name)
            it.setToolTip(s.description)
            it.setFlags(it.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            it.setCheckState(Qt.CheckState.Checked if s.name in chosen else Qt.CheckState.Unchecked)
            self.sampler_list.addItem(it)

    def _sync_controls(self) -> None:
        s = self.state.settings
        for k in range(self.sampler_list.count()):
            it = self.sampler_list.item(k)
            on = it.data(Qt.ItemDataRole.UserRole) in s.samplers
            it.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
        self.steps_edit.setText(", ".join(map(str, s.steps)))
        self.seed_spin.setValue(int(s.seed))
        self.batch_spin.setValue(int(s.n))
        self.ref_combo.setCurrentIndex(max(0, self.ref_combo.findData(s.reference)))

    def _read_controls(self) -> None:
        """Settings from the controls (the list's order); raises ValueError."""
        names = [self.sampler_list.item(k).data(Qt.ItemDataRole.UserRole) for k in range(self.sampler_list.count())
                 if self.sampler_list.item(k).checkState() == Qt.CheckState.Checked]
        self.state.restore({"samplers": names, "steps": parse_steps(self.steps_edit.text()),
                            "seed": self.seed_spin.value(), "n": self.batch_spin.value(),
                            "reference": self.ref_combo.currentData()}, self._known())

    # ---- running ------------------------------------------------------------------------------------
    def run(self) -> None:
        """Run the grid for the controls' settings on the engine thread (a running grid is cancelled first)."""
        if self.loaded is None or not self.supported():
            self.message.emit("the sampler grid needs a diffusion model on images", True)
            return
        try:
            self._read_controls()
        except ValueError as e:
            self.message.emit(str(e), True)
            return
        if self.job is not None:
            self.job.cancel()
        s = self.state.settings
        model, clf = self.loaded.model, self.loaded.classifier

        def work():
            from genviz.backend.sampler_grid import run_grid
            return run_grid(model, s.samplers, s.steps, n=s.n, seed=s.seed, classifier=clf, reference=s.reference)

        self.state.running, self.state.error, self.state.result = True, "", None
        self.grid_view.selected = None
        self.refresh()
        self.job = self.engine.submit_job(work, self._progress, self._finished, self._failed)

    def _progress(self, result) -> None:
        self.state.result = result
        self.refresh()

    def _finished(self, _value=None) -> None:
        self.state.running = False
        self.job = None
        self.refresh()
        self.message.emit("sampler grid done", False)
        if self._on_done is not None:
            cb, self._on_done = self._on_done, None
            cb()

    def _failed(self, msg: str) -> None:
        self.state.running, self.state.error = False, msg
        self.job = None
        self.refresh()
        self.message.emit(f"sampler grid failed: {msg}", True)

    # ---- actions ------------------------------------------------------------------------------------
    def open_chain(self, i: int, j: int) -> None:
        """Open cell (i, j)'s chain in the Chain panel (same sampler, steps, seed, batch) and show that panel."""
        win = self.window()
        chain = getattr(win, "chain_panel", None)
        if chain is None or not hasattr(win, "set_panel"):
            self.message.emit("the Chain panel is not available here", True)
            return
        try:
            chain.restore_session(self.state.chain_session(i, j))
        except (ValueError, IndexError) as e:
            self.message.emit(str(e), True)
            return
        win.set_panel("chain")
        self.message.emit(f"opened {self.state.settings.samplers[i]}, {self.state.settings.steps[j]} steps, "
                          "in the Chain panel", False)

    def export_png(self, path: str) -> None:
        """Save the grid (labels, images, readouts) as a PNG at its natural size; OSError when it cannot."""
        if not self.grid_view.render_image().save(str(path), "PNG"):
            raise OSError(f"could not write {path}")

    def _export_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the sampler grid", "sampler-grid.png", "PNG (*.png)")
        if path:
            try:
                self.export_png(path)
                self.message.emit(f"wrote {path}", False)
            except OSError as e:
                self.message.emit(str(e), True)

    # ---- drawing ------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Redraw the grid, the curves and the caption from the state."""
        self.grid_view.changed()
        rows = max(1, len(self.state.settings.samplers))
        for key, p in self.plots.items():
            item = p.getPlotItem()
            item.clear()
            last_col = len(self.state.settings.steps) - 1
            for name, i, j, xs, ys in self.state.curves(key):
                style = STYLES[(j - last_col - 1) % len(STYLES)]
                pen = pg.mkPen(row_color(i, rows), width=1.5 if j == last_col else 1.2, style=style)
                item.plot(xs, ys, pen=pen)
            if key == "confidence":
                item.setYRange(0, 1.02, padding=0)
            scale_plot_item(item, self.scale)
        self.caption.setText(self.state.caption())
        self.run_button.setText("Run again" if self.state.result is not None and not self.state.running else "Run")

    # ---- panel protocol ---------------------------------------------------------------------------
    def set_model(self, loaded) -> None:
        """Use ``loaded`` (a ``LoadedModel``): its denoising samplers become the rows to pick from."""
        if self.job is not None:
            self.job.cancel()
            self.job = None
        self.loaded = loaded
        self.state.result, self.state.running, self.state.error = None, False, ""
        self.state.labels = {s.name: s.title for s in (loaded.samplers if loaded else [])}
        known = self._known()
        self.state.settings.samplers = [s for s in self.state.settings.samplers if s in known] or known[:4]
        self._fill_samplers()
        self._sync_controls()
        self.refresh()

    def supported(self) -> bool:
        """``get_panel("compare").supports(model)``."""
        return get_panel("compare").supports(self.loaded.model if self.loaded else None)

    def run_default(self, batch: int = 16) -> bool:
        """Run the grid with the current settings (``batch`` caps the samples per cell); False when unsupported."""
        if not self.supported():
            return False
        self.batch_spin.setValue(min(int(batch), self.batch_spin.value()))
        self.run()
        return self.job is not None

    def default_done(self) -> bool:
        """True once the grid is complete (or failed)."""
        return not self.state.running

    def session_state(self) -> dict:
        """``CompareModel.session_state()``: samplers, steps, seed, n, reference."""
        return self.state.session_state()

    def restore_session(self, data: dict, on_done=None) -> None:
        """Settings from ``session_state()``-style data into the controls; ``on_done()`` at once (a preset that
        runs calls ``run``). Raises ValueError for settings that do not fit the model."""
        self.state.restore(dict(data or {}), self._known() or None)
        self._sync_controls()
        self.refresh()
        if on_done:
            on_done()

    def advanced_controls(self) -> dict:
        """Controls a presenter may hide: the reference choice and the batch."""
        return {"reference": self.ref_combo, "batch": self.batch_spin}

    def set_presenting(self, on: bool, scale: float = 1.0) -> None:
        """Presentation mode: caption, labels and plot text at ``scale``, digits drawn twice as large when a cell
        holds at most 4, a wider control column; ``on=False`` restores every size."""
        self.scale = float(scale) if on else 1.0
        self.caption.set_scale(self.scale)
        self.grid_view.scale = self.scale
        # digits twice as large where a cell holds few (16 at 1× already fill 122 px; 2× would leave one row in view)
        self.grid_view.zoom = 2 if on and scale >= 1.5 and self.state.settings.n <= 4 else 1
        self.controls.setFixedWidth(round(CONTROLS_WIDTH * min(self.scale, 1.5)) if on else CONTROLS_WIDTH)
        self.refresh()

    def shutdown(self) -> None:
        """Cancel a running grid."""
        if self.job is not None:
            self.job.cancel()
            self.job = None
