"""The canvas panel's actions (a mixin of ``CanvasPanel``): generation as an engine job, live mode, the staging
area's buttons, autosave, sessions and the window protocol's default action."""
from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QFileDialog

from .generation import sdedit_job
from .model import COLOUR_DRAWING, DEFAULT_DRAWING, Progress, parse_session, read_drawing, session_dict, write_drawing


class CanvasActions:
    """What the panel does; ``CanvasPanel`` supplies the widgets, ``state`` (a ``CanvasState``) and ``engine``."""

    # ---- generation ------------------------------------------------------------------------------------
    def generate(self, live: bool = False) -> bool:
        """Start SDEdit on the engine thread with the current drawing and settings. Returns False (and says why)
        when there is no suitable model or a generation is already running."""
        if not self.supported():
            self.message.emit("load a diffusion model of images to use the canvas", True)
            return False
        if self.busy:
            if not live:
                self.message.emit("a generation is running: wait or Cancel", False)
            return False
        if self.new_seed_cb.isChecked() and not live:
            self.seed_spin.setValue(int(np.random.default_rng().integers(0, 2 ** 31 - 1)))
        params = self.settings()
        ink = self.canvas.ink_array()
        mask = self.canvas.mask_array() if self.canvas.has_mask() else None
        model, guide = self.model, self._guide
        self.state.start(live)
        self.cancel_btn.setEnabled(True)
        self.generate_btn.setEnabled(False)
        self._progressed(self.state.progress)
        self.update_caption()
        box: dict = {}  # the job, for the sampler's cancel check (set before anything can cancel it)

        def gen():
            return sdedit_job(model, ink, mask, params, guide,
                              cancelled=lambda: "job" in box and box["job"].cancelled)

        def mine(fn):  # deliveries of this job only (a cancelled job delivers nothing anyway)
            return lambda v: fn(v) if self._job is not None and box.get("job") is self._job else None

        job = self.engine.submit_job(gen, mine(self._progressed), mine(self._generated), mine(self._failed))
        box["job"] = self._job = job
        if job.cancelled:  # the engine has stopped
            self._failed("the engine has stopped")
            return False
        return True

    def cancel(self) -> None:
        """Stop the running generation (its sampler stops at the next step; nothing is staged)."""
        if self._job is None:
            return
        self._job.cancel()
        self._job = None
        msg = self.state.cancel()
        self._finish()
        self.progress.setValue(0)
        self.message.emit(msg, False)

    def _progressed(self, p: Progress | None) -> None:
        if p is None or p.fraction is None:
            self.progress.setRange(0, 0)  # busy: the sampler reports no steps to the job
            self.progress.setFormat(p.stage if p is not None else "")
        else:
            self.progress.setRange(0, 100)
            self.progress.setFormat("%p%")
            self.progress.setValue(int(round(100 * p.fraction)))

    def _finish(self) -> None:
        self._job = None
        self.progress.setRange(0, 100)
        self.progress.setFormat("%p%")
        self.cancel_btn.setEnabled(False)
        self.generate_btn.setEnabled(self.supported())
        self.update_caption()

    def _generated(self, out: dict) -> None:
        self._guide = out.pop("guide", None) or self._guide
        msg = self.state.finish(out)
        self._finish()
        self._update_staging()
        self.views.show_x_t0(out["x_t0_grid"])
        self.progress.setValue(100)
        self.latency_label.setText(self.state.latency_text())
        self.message.emit(msg, False)
        self.generated.emit()

    def _failed(self, msg: str) -> None:
        text = self.state.fail(msg)
        self._finish()
        self.progress.setValue(0)
        self.message.emit(text, True)

    # ---- live mode -------------------------------------------------------------------------------------
    def set_live(self, on: bool) -> None:
        """Regenerate while drawing (``LiveScheduler``'s debounce). Switching on clears the latency readout until
        a fresh generation finishes."""
        if self.live_cb.isChecked() != on:
            self.live_cb.setChecked(on)
            return
        if on:
            self.state.live_enabled()
            self.latency_label.setText(self.state.latency_text())
            self.scheduler.notify_change(self.input_key())
            self.live_timer.start()
        else:
            self.live_timer.stop()

    def _poll_live(self) -> None:
        if not self.supported() or self.canvas.is_blank():
            return
        if self.scheduler.should_generate(self.input_key()) and not self.busy:
            self.generate(live=True)

    # ---- staging ---------------------------------------------------------------------------------------
    def _update_staging(self) -> None:
        self.stage.show_state(self.state)
        self.update_caption()

    def _stage_row(self, row: int) -> None:
        if 0 <= row < len(self.staging):
            self.staging.select(row)
            self._update_staging()

    def next_candidate(self) -> None:
        """Show the next candidate."""
        self.staging.next()
        self._update_staging()

    def prev_candidate(self) -> None:
        """Show the previous candidate."""
        self.staging.prev()
        self._update_staging()

    def accept(self) -> bool:
        """Put the shown candidate on the canvas (one undo step) and into the history; the staging area and the
        shown candidate stay."""
        if self.staging.current is None:
            return False
        c, new, msg = self.state.accept()
        self._put_on_canvas(c.image)
        if new:
            self.stage.add_history(c, len(self.staging.history) - 1)
        self._update_staging()
        self.message.emit(msg, False)
        return True

    def _put_on_canvas(self, image: np.ndarray) -> None:
        a = image[0] if image.shape[0] == 1 else image.transpose(1, 2, 0)
        self.canvas.set_image(a, mask=np.zeros(a.shape[:2], np.uint8))

    def _history_chosen(self, i: int) -> None:
        if 0 <= i < len(self.staging.history):
            self._put_on_canvas(self.staging.history[i].image)

    def discard(self) -> int:
        """Drop the shown candidate's batch; returns how many candidates went."""
        n = self.staging.discard()
        self._update_staging()
        if n:
            self.message.emit(f"discarded {n} candidates", False)
        return n

    def save_candidate(self, path) -> None:
        """Save the shown candidate as a PNG at model resolution (raises OSError, LookupError)."""
        from ....backend.imaging import save_png, to_uint8
        c = self.staging.current
        if c is None:
            raise LookupError("no candidate to save")
        a = to_uint8(c.image)
        save_png(path, a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0))

    def save_dialog(self) -> None:
        """File dialog for ``save_candidate``."""
        c = self.staging.current
        if c is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save candidate", f"genviz-sdedit-{c.batch}-{c.k + 1}.png",
                                              "PNG images (*.png)")
        if path:
            try:
                self.save_candidate(path)
                self.message.emit(f"saved {path}", False)
            except (OSError, LookupError, ValueError) as e:
                self.message.emit(f"could not save: {e}", True)

    # ---- autosave --------------------------------------------------------------------------------------
    def autosave(self) -> bool:
        """Write the drawing and the mask as PNGs (atomically: temp file, then rename)."""
        try:
            write_drawing(self._autosave_dir, self.canvas.ink_array(), self.canvas.mask_array())
        except OSError as e:
            self.autosave_label.setText(f"autosave failed: {e}")
            return False
        self._dirty = False
        self.autosave_label.setText(f"autosaved to {self._autosave_dir}" + getattr(self, "_kept_note", ""))
        return True

    def restore_autosave(self) -> bool:
        """Load the autosaved drawing (if any) onto the canvas; not an undo step. A file that cannot be read (garbage,
        a 20000 x 20000 PNG) is set aside (``autosave.set_aside``: renamed, kept) with a message: never a failed start."""
        try:
            saved = read_drawing(self._autosave_dir)
        except (OSError, ValueError) as e:
            from .autosave import set_aside
            try:
                moved = set_aside(self._autosave_dir)
                where = f"; set aside as {moved[0].name}" if moved else ""
                if moved:  # said again with every later autosave line, until the window closes
                    self._kept_note = f" (an unreadable autosave was set aside as {moved[0]})"
            except OSError:
                where = ""
            self.autosave_label.setText(f"could not restore the autosaved drawing: {e}{where}")
            self.message.emit(f"could not restore the autosaved drawing: {e}{where}", True)
            return False
        if saved is None:
            return False
        import numpy as np
        img = np.asarray(saved[0])
        if img.dtype == np.uint8 and img.ndim >= 2:  # drawn on the other paper (a white-paper model's drawing, say)
            border = np.concatenate([img[0].ravel(), img[-1].ravel(), img[:, 0].ravel(), img[:, -1].ravel()])
            bg = 255 if self.canvas.background.lightness() > 127 else 0
            if abs(float(np.median(border)) - (255 - bg)) < abs(float(np.median(border)) - bg):
                img = 255 - img  # the canvas' convention: old paper becomes this paper, as set_background does
        self.canvas.set_image(img, mask=saved[1], undoable=False)
        self.autosave_label.setText(f"restored the drawing autosaved in {self._autosave_dir}")
        return True

    # ---- sessions (File → Save session, demo mode) ------------------------------------------------------
    def session_state(self) -> dict:
        """The canvas as data: the generation settings (once a model set them) and the drawing and mask as
        base64 PNGs."""
        return session_dict(self.controls.settings() if self.controls.ready else None, self.canvas.ink_array(),
                            self.canvas.mask_array() if self.canvas.has_mask() else None)

    def restore_session(self, data: dict, on_done=None) -> None:
        """Restore ``session_state()`` data (or a preset's, with a ``drawing_file`` in resources/): settings,
        then the drawing (one undo step). A new drawing starts a clean staging area: the candidates staged were
        made from the old drawing (often by another model: demo after demo); accepted ones stay in the history.
        Everything is checked first: ValueError on malformed data, and nothing changes then."""
        settings, ink, mask, path = parse_session(data, self.controls.settings() if self.controls.ready else None)
        if ink is not None or path is not None:
            self._keep_autosave()
            if len(self.staging):
                self.staging.clear()
                self._update_staging()
        if settings is not None:
            self.controls.apply(settings)
        if ink is not None:
            self.canvas.set_image(ink, mask=mask)
        elif path is not None:
            self.load_image(path)
        if on_done is not None:
            on_done()

    def _keep_autosave(self) -> None:
        """Before a preset or session replaces the drawing: write pending strokes, then keep the autosaved drawing
        in the history folder (``autosave.keep_in_history``), so the user's own drawing is never overwritten."""
        from .autosave import keep_in_history
        try:
            if self._dirty:
                self.autosave()
            kept = keep_in_history(self._autosave_dir)
        except OSError as e:
            self.autosave_label.setText(f"could not keep the autosaved drawing: {e}")
            return
        if kept is not None:
            self._kept_note = f" (your previous drawing is kept in {kept})"
            self.autosave_label.setText(f"your previous drawing is kept in {kept}")
            self.message.emit(f"your previous drawing is kept in {kept}", False)

    def advanced_controls(self) -> dict:
        """Controls presentation mode may hide."""
        return {"seed": self.seed_spin, "steps": self.steps_spin, "sampler": self.sampler_combo,
                "guidance": self.guide_scale, "ilvr": self.ilvr_spin, "history": self.history_list}

    # ---- the window's protocol -------------------------------------------------------------------------
    def run(self) -> bool:
        """Generate candidates from the drawing (demo presets' "run")."""
        return self.generate()

    def run_default(self, batch: int = 16) -> bool:
        """Draw the bundled example (when the canvas is blank) and generate K candidates (``batch`` is the
        chain's sample count: the canvas keeps its own K)."""
        if not self.supported():
            return False
        default = COLOUR_DRAWING if self.model_shape[0] == 3 else DEFAULT_DRAWING
        if self.canvas.is_blank() and default.is_file():
            self.load_image(default)
        return self.generate()

    def default_done(self) -> bool:
        """True once no generation is running."""
        return not self.busy

    def shutdown(self) -> None:
        """Stop timers, cancel a running generation and autosave (window closing)."""
        self.live_timer.stop()
        self.autosave_timer.stop()
        if self._job is not None:
            self._job.cancel()
            self._job = None
        if self._dirty:
            self.autosave()
