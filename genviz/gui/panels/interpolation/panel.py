"""The interpolation panel: walk a line (or a 4-corner grid) through a model's latent and watch it decode.
(463 lines, kept whole: Qt wiring only, each handler a few lines; the state, numbers and texts are already
in ``model.py``, the controls in ``controls.py``; a split would scatter one signal map over two files.)

View and wiring only. The state and every number and text shown live in ``model.InterpolationState``
(Qt-free); torch work runs on the window's ``Engine`` thread: the walk as a generator job
(``genviz.backend.walk.walk`` through ``Engine.submit_job``: the panel draws the latest frames decoded so
far), the picker's samples likewise, the slider's live frame as a task. Nothing else is shared with the
engine thread.

Endpoints A, B (and C, D for the grid) come from a seed (z_s = randn(latent_shape, seed s): the latent
``genviz sample CKPT --n 1 --seed s`` decodes), from clicking a model sample or a held-out real digit in
the picker, or from dropping an image file on the panel (VAE encoder / DDIM inversion).
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog, QVBoxLayout, QWidget

from ...engine import Engine
from ...widgets.caption import make_caption
from ...widgets.notice import notice_stack
from .controls import CONTROL_NAMES, ControlColumn
from .exports import save_strip_png, save_walk_gif
from .jobs import PanelJobs
from .model import InterpolationState
from .settings import CORNERS, IMAGE_SUFFIXES, NOTICE, endpoint_text
from .views import VIEW_NAMES, WalkViews, present


def _from_state(name: str):
    return property(lambda self: getattr(self.state, name), doc=f"``state.{name}`` (read-only).")


class InterpolationPanel(QWidget):
    """Strip, grid, scrub slider with a live frame, latent-norm plot, endpoint controls and picker.

    State (read by tests; all from ``state``, an ``InterpolationState``): ``endpoints``, ``status`` (idle,
    running, done, error), ``frames_unit`` ((N, C, H, W) float32 in [0, 1] or None), ``grid_unit``, ``norms``
    ((N,) ‖z‖ of the strip's frames), ``profiles`` (norms of all methods), ``live_unit`` (the slider's
    frame), ``live_t``, ``error``.

    Signals:
        message(text, is_error): for the window's status bar.
    """

    message = Signal(str, bool)

    endpoints = _from_state("endpoints")
    status = _from_state("status")
    error = _from_state("error")
    frames_unit = _from_state("frames_unit")
    grid_unit = _from_state("grid_unit")
    norms = _from_state("norms")
    profiles = _from_state("profiles")
    typical = _from_state("typical")
    live_unit = _from_state("live_unit")
    live_t = _from_state("live_t")
    space_desc = _from_state("space_desc")

    def __init__(self, engine: Engine, parent=None):
        super().__init__(parent)
        self.engine = engine
        self.loaded = None
        self.state = InterpolationState()
        self.jobs = PanelJobs(engine)
        self._then = None  # called with True/False when the running walk ends (run(then=...))
        self._serial = 0  # bumped by set_model: answers about an earlier model are dropped
        self.setAcceptDrops(True)
        self._build()
        self._connect()
        self._set_enabled(False)
        self.refresh()

    # ---- layout ----------------------------------------------------------------------------------
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        self.stack, self.notice, lay = notice_stack(NOTICE)
        outer.addWidget(self.stack, 1)
        self.caption = make_caption()
        outer.addWidget(self.caption)
        self.controls = ControlColumn(self.state.settings)
        self.picker_tabs = self.controls.picker
        lay.addWidget(self.controls)
        self.views = WalkViews()
        lay.addWidget(self.views, 1)
        # the widgets by their names (tests, presentation mode, the window)
        for owner, names in ((self.controls, CONTROL_NAMES), (self.views, VIEW_NAMES)):
            for name in names:
                setattr(self, name, getattr(owner, name))

    def _connect(self) -> None:
        self.method_combo.currentIndexChanged.connect(lambda _i: self._setting("method", self.method_combo.currentData()))
        self.frames_spin.valueChanged.connect(lambda v: self._setting("frames", v))
        self.grid_check.toggled.connect(lambda on: self._setting("grid", on))
        self.grid_spin.valueChanged.connect(lambda v: self._setting("grid_side", v))
        self.steps_spin.valueChanged.connect(lambda v: self._setting("ddim_steps", v))
        self.walk_space_combo.currentIndexChanged.connect(lambda _i: self._walk_space(self.walk_space_combo.currentData()))
        self.picker_seed.valueChanged.connect(lambda v: self._setting("picker_seed", v))
        self.digit_page.valueChanged.connect(lambda v: self._setting("digit_page", v))
        for row in self.rows:
            row.seedChosen.connect(lambda i, seed: self.set_endpoint(i, seed=seed))
        self.corner_group.idToggled.connect(self._corner_toggled)
        self.samples_grid.tileClicked.connect(self._sample_clicked)
        self.digits_grid.tileClicked.connect(self._digit_clicked)
        self.strip.tileClicked.connect(lambda i: self.set_t(self.state.t_of_frame(i)))
        self.grid_view.tileClicked.connect(self._grid_clicked)
        self.slider.valueChanged.connect(self._scrub)
        self.run_btn.clicked.connect(self.run)
        self.stop_btn.clicked.connect(self.cancel)
        self.png_btn.clicked.connect(self.export_png_dialog)
        self.gif_btn.clicked.connect(self.export_gif_dialog)

    def _setting(self, name: str, value) -> None:
        """A control changed: store it in the state and show what follows from it."""
        setattr(self.state.settings, name, value)
        if name == "method" and self.state.profiles is not None:
            self.norm_plot.set_profiles(self.state.profiles, value, self.state.typical)
        elif name == "picker_seed":
            self.refresh_picker()
        elif name == "digit_page":
            self.refresh_digits()
        if self.state.status == "idle":
            self.refresh()  # titles follow the settings until a walk is decoded
        else:
            self.update_caption()

    def _walk_space(self, space) -> None:
        """A GLF's walk space changed (noise ε or latent z): the next walk runs there (same endpoint images)."""
        m = self.model
        if m is None or not hasattr(m, "walk_space") or space is None or m.walk_space == space:
            return
        m.walk_space = space  # read when the next walk builds its latent space
        self.space_label.setText(self.state.space_text())

    def _corner_toggled(self, i: int, on: bool) -> None:
        if on:
            self.state.active = i

    def _set_enabled(self, on: bool) -> None:
        for w in (self.run_btn, self.png_btn, self.gif_btn, self.method_combo, self.frames_spin, self.slider):
            w.setEnabled(on)

    # ---- model -----------------------------------------------------------------------------------
    @property
    def model(self):
        """The backend model shown (None before a load)."""
        return self.loaded.model if self.loaded else None

    def supported(self) -> bool:
        """An image model with a latent to walk: VAE, GAN, image diffusion model (DDIM latent), flow."""
        return self.state.supported

    def set_model(self, loaded) -> None:
        """Show a newly loaded model (a ``LoadedModel``); clears the previous walk, the picker and the big
        frame at once (the picker refills while the panel is shown)."""
        self.cancel()
        self.jobs.stop()
        self._serial += 1
        self.loaded = loaded
        self.state.set_model(self.model)
        for v in (self.strip, self.grid_view, self.live, self.samples_grid, self.digits_grid):
            v.set_images(None)
        self.samples_grid.set_title("model samples")
        self.norm_plot.set_profiles(None)
        if not self.supported():
            self.notice.setText(self.state.notice_text())
            self.stack.setCurrentIndex(0)
            self._set_enabled(False)
            self.refresh()
            return
        self.stack.setCurrentIndex(1)
        is_diff = self.state.is_diffusion
        self.steps_spin.setVisible(is_diff)
        self.steps_label.setVisible(is_diff)
        has_spaces = hasattr(self.model, "walk_space")
        self.walk_space_combo.setVisible(has_spaces)
        self.walk_space_label.setVisible(has_spaces)
        if has_spaces:
            self.walk_space_combo.setCurrentIndex(max(0, self.walk_space_combo.findData(self.model.walk_space)))
        self.controls.show_settings(self.state.settings)
        self.space_label.setText(self.state.space_text())
        self._set_enabled(True)
        self._update_rows()
        self.refresh_digits()
        if self.isVisible():
            self.refresh_picker()
        self.refresh()

    def showEvent(self, ev) -> None:  # noqa: N802
        """Shown (its tab chosen): fill the picker if it is empty (it is not decoded while hidden)."""
        super().showEvent(ev)
        self.refresh_picker()

    # ---- endpoints -------------------------------------------------------------------------------
    def active_corner(self) -> int:
        """The endpoint (0..3 = A..D) a click in the picker sets."""
        return self.state.active

    def set_active_corner(self, i: int) -> None:
        """Make endpoint ``i`` the active one."""
        self.state.active = i
        self.rows[i].radio.setChecked(True)

    def set_endpoint(self, i: int, seed: int | None = None, image: str | None = None, label: str | None = None,
                     advance: bool = False) -> None:
        """Set endpoint ``i`` (0..3 = A..D) to a seed or an image (path or ``mnist:K``)."""
        self.state.set_endpoint(i, seed=seed, image=image, label=label, advance=advance)
        self._update_rows()

    def set_endpoint_image_tensor(self, i: int, x, label: str, advance: bool = False) -> None:
        """Set endpoint ``i`` to an image already in model space, (1, *data_shape) (e.g. a sample picked in
        the chain panel; made on the engine thread). It enters through the encoder / DDIM inversion."""
        self.state.set_endpoint_tensor(i, x, label, advance=advance)
        self._update_rows()

    def _update_rows(self) -> None:
        for e, row in zip(self.state.endpoints, self.rows):
            row.show_endpoint(endpoint_text(e), e["seed"] if e["kind"] == "seed" else None)
        self.rows[self.state.active].radio.setChecked(True)

    def _sample_clicked(self, k: int) -> None:
        i, seed = self.active_corner(), self.state.picker_seeds()[k]
        self.set_endpoint(i, seed=seed, advance=True)
        self.message.emit(f"endpoint {CORNERS[i]} = sample seed {seed}", False)

    def digit_indices(self) -> list[int]:
        """Held-out digit indices shown on the current picker page (one of each class)."""
        return self.state.digit_indices()

    def _digit_clicked(self, k: int) -> None:
        i, K = self.active_corner(), self.digit_indices()[k]
        self.set_endpoint(i, image=f"mnist:{K}", label=f"digit #{K}", advance=True)
        self.message.emit(f"endpoint {CORNERS[i]} = held-out digit #{K} (mnist:{K})", False)

    def dragEnterEvent(self, ev) -> None:  # noqa: N802
        """Accept image files (checkpoints go on to the window)."""
        urls = ev.mimeData().urls() if ev.mimeData().hasUrls() else []
        if urls and all(u.isLocalFile() and u.toLocalFile().lower().endswith(IMAGE_SUFFIXES) for u in urls):
            ev.acceptProposedAction()
        else:
            ev.ignore()  # checkpoints dropped here go on to the window

    def dropEvent(self, ev) -> None:  # noqa: N802
        """Dropped image files become endpoints (``drop_images``)."""
        paths = [u.toLocalFile() for u in ev.mimeData().urls() if u.isLocalFile()]
        if paths:
            ev.acceptProposedAction()
            self.drop_images(paths)

    def drop_images(self, paths: list[str]) -> None:
        """Dropped image files become endpoints, starting at the active one."""
        for p in paths:
            self.set_endpoint(self.active_corner(), image=p, label=Path(p).name, advance=True)
        self.message.emit(f"{len(paths)} image(s) set as endpoint(s); press Interpolate", False)

    # ---- the walk (an engine job) ------------------------------------------------------------------
    def run(self, then=None) -> bool:
        """Encode the endpoints and decode the strip (and the grid) on the engine thread, frame by frame.
        ``then(ok)`` (optional) is called on the GUI thread when this walk ends (ok: decoded). False when the
        model is not supported."""
        if not self.supported():
            return False
        self.cancel()
        self.state.begin_walk()
        self._then = then
        self.jobs.start_walk(self.model, self.state.walk_request(), self._walk_progress, self._walk_done,
                             self._walk_failed)
        self.refresh()
        return True

    def _walk_progress(self, progress) -> None:
        self.state.walk_progress(progress)
        self._draw_walk()

    def _walk_done(self, result) -> None:
        self.state.walk_done(result)
        self.norm_plot.set_profiles(self.state.profiles, self.state.settings.method, self.state.typical)
        self.refresh()
        self.message.emit(self.state.done_message(), False)
        self._scrub(self.slider.value())
        self._finished(True)

    def _walk_failed(self, msg: str) -> None:
        self.state.walk_failed(msg)
        self.refresh()
        self.message.emit(f"interpolation failed: {msg}", True)
        self._finished(False)

    def _finished(self, ok: bool) -> None:
        then, self._then = self._then, None
        if then is not None:
            then(ok)

    def cancel(self) -> None:
        """Stop a running walk between two frames (the frames decoded so far stay on screen)."""
        if self.jobs.cancel_walk():
            self.state.walk_stopped()
            self.refresh()
            self._finished(False)

    # ---- slider: live frame -------------------------------------------------------------------------
    def _scrub(self, value: int) -> None:
        t = self.state.t_of_slider(value)
        self.state.set_t(t)
        self.norm_plot.set_cursor(t)
        self.strip.set_selected(self.state.frame_of(t))
        self.update_caption()
        if self.jobs.walk is not None and self.state.can_scrub():
            self.jobs.decode_live(t, self._live_decoded,
                                  lambda msg: self.message.emit(f"could not decode the frame: {msg}", True))
        else:
            self._draw_live()

    def _live_decoded(self, t: float, unit, norm: float) -> None:
        self.state.set_live(t, unit, norm)
        self._draw_live()

    def set_t(self, t: float) -> None:
        """Move the slider to path parameter t in [0, 1] (decodes that frame live)."""
        self.slider.setValue(self.state.slider_value(t))

    def _grid_clicked(self, i: int) -> None:
        if self.state.set_live_grid_cell(i):
            self._draw_live()
            self.grid_view.set_selected(i)

    # ---- picker ------------------------------------------------------------------------------------
    def refresh_picker(self) -> None:
        """Decode the picker's ``PICKER_N`` samples (seeds from ``picker_seed``) on the engine thread; they
        appear as they are decoded. Nothing to do when they are shown (or on their way) already."""
        if not self.supported():
            return
        base, st = self.state.settings.picker_seed, self.state
        steps = st.settings.ddim_steps if st.is_diffusion else None

        def show(imgs) -> None:
            from genviz.backend.imaging import to_uint8  # numpy only; torch is loaded by now
            self.samples_grid.set_images(to_uint8(imgs), cols=4)
            self.samples_grid.set_title(st.picker_title(base))

        self.jobs.picker_samples((self._serial, base), self.model, st.picker_seeds(), steps, show,
                                 lambda m: self.message.emit(f"picker: {m}", True))

    def refresh_digits(self) -> None:
        """Show ten held-out real digits (resources/mnist10k.npz) of the current page."""
        self.controls.picker.show_digits(self.state.digit_indices() if self.state.digits_fit() else None)

    # ---- drawing -----------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Draw everything from ``state``: the walk (frames decoded so far), the big frame, the caption."""
        self.update_caption()
        if self.state.model is not None:
            self._draw_walk()
            self._draw_live()

    def _draw_walk(self) -> None:
        self.views.draw_walk(self.state)
        value, total = self.state.progress()
        self.progress.setRange(0, total)
        self.progress.setValue(value)

    def _draw_live(self) -> None:
        self.views.draw_live(self.state)

    def update_caption(self) -> None:
        """Say in plain words what the strip, slider and plot show."""
        self.caption.setText(self.state.caption())

    # ---- export ------------------------------------------------------------------------------------
    def export_png(self, path) -> Path:
        """Write the strip as one PNG (frames side by side, 3x nearest-neighbour). ValueError: nothing yet."""
        return save_strip_png(self.state.frames_unit, path)

    def export_gif(self, path, frame_ms: int = 80) -> int:
        """Write the walk A → B → A as a looping animated GIF; returns the number of frames."""
        return save_walk_gif(self.state.frames_unit, path, frame_ms)

    def export_png_dialog(self) -> None:
        """Ask for a file and export the strip PNG."""
        path, _ = QFileDialog.getSaveFileName(self, "Export strip", "genviz-interpolation.png", "PNG images (*.png)")
        self._export(path, lambda: f"saved {self.export_png(path)}")

    def export_gif_dialog(self) -> None:
        """Ask for a file and export the walk GIF."""
        path, _ = QFileDialog.getSaveFileName(self, "Export walk GIF", "genviz-walk.gif", "GIF images (*.gif)")
        self._export(path, lambda: f"saved {path} ({self.export_gif(path)} frames)")

    def _export(self, path: str, write) -> None:
        if path:
            try:
                self.message.emit(write(), False)
            except Exception as e:
                self.message.emit(f"export failed: {e}", True)

    # ---- sessions, presets and the window (genviz.gui.demo, genviz.panels) ---------------------------
    def session_state(self) -> dict:
        """The walk as data (``InterpolationState.session_state``) and, for a GLF, its walk space (ε or z)."""
        data = self.state.session_state()
        if self.model is not None and hasattr(self.model, "walk_space"):
            data["walk_space"] = self.model.walk_space
        return data

    def restore_session(self, data: dict, on_done=None) -> None:
        """Set the controls and endpoints from ``session_state()``-style data (also a preset's ``state``);
        if it had been decoded (``decoded``), decode it again and move the slider to ``t``. ``on_done()``
        is called on the GUI thread when set up (after decoding, if any). Raises ValueError on bad data
        (changing nothing)."""
        space = data.get("walk_space") if isinstance(data, dict) else None
        if space is not None and self.walk_space_combo.findData(space) < 0:
            raise ValueError(f"walk_space must be 'eps' or 'z', got {space!r}")
        t, decoded = self.state.apply_session(data)
        if space is not None and self.model is not None and hasattr(self.model, "walk_space"):
            self.walk_space_combo.setCurrentIndex(self.walk_space_combo.findData(space))  # -> _walk_space
        self.controls.show_settings(self.state.settings)
        self._update_rows()
        self.refresh_digits()
        self.refresh()
        if self.isVisible():
            self.refresh_picker()

        def walked(ok: bool) -> None:
            if ok:
                self.set_t(t)
            if on_done:
                on_done()

        if not (decoded and self.run(then=walked)):
            self.set_t(t)
            if on_done:
                on_done()

    def set_presenting(self, on: bool, scale: float = 1.0) -> None:
        """Presentation mode (the panel protocol; ``views.present``)."""
        present(self, on, scale)

    def advanced_controls(self) -> dict:
        """Controls presentation mode may hide."""
        return {"ddim_steps": self.steps_spin, "picker_seed": self.picker_seed}

    def run_default(self, batch: int = 16) -> bool:
        """The window's default action: decode the walk and fill the picker (``batch`` is unused)."""
        if not self.supported():
            return False
        self.run()
        self.refresh_picker()
        return True

    def done(self) -> bool:
        """True when no walk is running and nothing is queued on the engine."""
        return self.state.status != "running" and self.engine.pending() == 0 and not self.jobs.live_busy

    def default_done(self) -> bool:
        """True once the default action has finished (``done``)."""
        return self.done()

    def shutdown(self) -> None:
        """Stop the panel's engine work (the window closes)."""
        self.cancel()
        self.jobs.stop()
