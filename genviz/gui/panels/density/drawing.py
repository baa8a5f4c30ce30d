"""Drawing the density panel from its state: the plot's static views, live particles, the figure layout,
readouts and caption, and exporting the figure. A mixin of ``DensityPanel`` (GUI thread only)."""
from __future__ import annotations

from PySide6.QtWidgets import QFileDialog

from .model import USER_BOUNDS


class DensityDrawing:
    """Redraw, particle frames, caption and figure export of ``DensityPanel``."""

    # ---- drawing ---------------------------------------------------------------------------------------
    def _layout_changed(self) -> None:
        self.state.set("layout", self.layout_combo.currentData())
        self.stack.setCurrentIndex(0 if self.state.settings.layout == "plot" else 1)
        self.redraw()

    def image_view(self) -> str:
        """The image shown under the dots (a key of ``model.IMAGE_VIEWS``)."""
        return self.state.settings.image

    def redraw(self) -> None:
        """Redraw every static view from the latest computed result (or training preview); cheap, GUI thread."""
        r = self.state.shown()
        if r is None:
            return
        self.plot.show_views(r, self.state.settings.image, self.state.settings.views, self.state.image_units())
        self._draw_particles(force=True)
        self._draw_figure()

    def _draw_figure(self) -> None:
        r = self.state.shown()
        if r is None:
            return
        name = self.model.name if self.model is not None else None
        ds = self.dataset.name if self.dataset is not None else self.state.settings.dataset
        self.figure.draw(r, self.state.figure_titles(r), self.state.figure_caption(r, name, ds))

    def _draw_particles(self, force: bool = False) -> None:
        """Draw the newest particle frame (``force``: redraw it even when drawn already) and its Langevin move."""
        st, views = self.state, self.state.settings.views
        live = st.live
        on = views["particles"]
        self.plot.show_moves(live.moves if live is not None and on and views["moves"] else None)
        if live is None or not on:
            self.plot.hide_particles()
            return
        frame = st.frame_to_draw(force)
        if frame is None:
            return
        bounds = self.dataset.bounds if self.dataset is not None else USER_BOUNDS
        self.plot.show_particles(st.trail[-1], st.trail, frame.image, bounds)
        self.chain_label.setText(st.particles_text())

    def refresh(self) -> None:
        """Timer tick (~30 Hz): draw the newest particles; the caption every 8th tick."""
        self._caption_tick = (self._caption_tick + 1) % 8
        if self._caption_tick == 0:
            self.update_caption()
        if self.state.live is not None:
            self._draw_particles()

    def _show_readouts(self) -> None:
        self.readout.setText(self.state.readout_html(None if self.model is None else self.model.name))

    def update_caption(self) -> None:
        """Say in plain words what the plot shows (refresh timer)."""
        from ...captions import density_caption
        st, live = self.state, self.state.live
        self.caption.setText(density_caption(
            self.model.family if self.model is not None else None, st.settings.dataset, st.settings.image,
            st.chain_running, None if live is None else live.step, None if live is None else live.steps,
            st.training, dict(st.settings.views)))

    # ---- export ----------------------------------------------------------------------------------------
    def export_figure(self, path: str) -> None:
        """Save the four-column figure (data, samples, −E / log p, normalised density) as a PNG (OSError)."""
        prev = self.stack.currentIndex()
        self.stack.setCurrentIndex(1)
        self._draw_figure()
        try:
            self.figure.save_png(path)
        finally:
            self.stack.setCurrentIndex(prev)

    def export_dialog(self) -> None:
        """Ask for a file name and export the figure there."""
        path, _ = QFileDialog.getSaveFileName(self, "Export figure", "genviz-density.png", "PNG images (*.png)")
        if path:
            try:
                self.export_figure(path)
                self.message.emit(f"saved {path}", False)
            except Exception as e:
                self.message.emit(f"export failed: {e}", True)
