"""``CanvasPanel``: wires the drawing column, the SDEdit controls and the staging view to a ``CanvasState`` and the
window's ``Engine`` (generation is a generator job, ``generation.sdedit_job``)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PySide6.QtCore import QStandardPaths, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import QCheckBox, QFileDialog, QGridLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from ....panels import get_panel
from ...engine import Engine
from ...widgets.caption import make_caption
from .actions import CanvasActions
from .controls import ModelViews, SDEditControls
from .drawing import DrawingColumn
from .model import CanvasState, follow_convention, model_view, real_digit, real_emoji, recommended, sdedit_samplers
from .staging_view import StagingView

# the sub-widgets' controls the panel exposes as its own attributes (tests, presentation mode)
_DRAWING = ("canvas", "tool_group", "tool_buttons", "size_slider", "ink_slider", "colour_btn", "undo_btn", "redo_btn",
            "clear_btn", "clear_mask_btn", "load_btn", "digit_spin", "digit_btn", "autosave_label", "palette")
_CONTROLS = ("t0_slider", "t0_label", "k_spin", "seed_spin", "new_seed_cb", "steps_spin", "sampler_combo", "ilvr_cb",
             "ilvr_spin", "guide_cb", "guide_combo", "guide_scale")
STAGE_SIDE = 232  # the shown candidate's square (px) outside presentation mode
_VIEWS = ("preview", "preview_caption", "xt0_view")
_STAGE = ("stage_view", "stage_label", "stage_list", "prev_btn", "next_btn", "accept_btn", "save_btn", "discard_btn",
          "history_list")


def autosave_dir() -> Path:
    """Where the drawing is autosaved: ``$GENVIZ_AUTOSAVE_DIR`` or the app-data folder."""
    env = os.environ.get("GENVIZ_AUTOSAVE_DIR")
    if env:
        return Path(env)
    loc = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(loc or Path.home() / ".genviz") / "canvas"


class CanvasPanel(CanvasActions, QWidget):
    """Stroke canvas with SDEdit generation, a staging area and live mode.

    Layout: tools and the 280 x 280 canvas on the left; what the model sees, x_t0 and the settings in the middle;
    the staging area and the history of accepted results on the right. The drawing is autosaved (PNG,
    ``autosave_dir()``) a moment after every change and when the window closes.

    Signals:
        message(text, is_error): for the window's status bar.
        generated(): a batch of candidates arrived in the staging area.
    """

    message = Signal(str, bool)
    generated = Signal()

    def __init__(self, engine: Engine, parent=None, autosave: Path | None = None):
        super().__init__(parent)
        self.engine = engine
        self.loaded = None
        self.state = CanvasState()
        self.colour: QColor | None = None  # a chosen brush colour (colour models), else None
        self._job = None
        self._guide = None  # the guide classifier the last guided job loaded (used on the engine thread only)
        self._autosave_dir = Path(autosave) if autosave is not None else autosave_dir()
        self._dirty = False
        self._build()
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setSingleShot(True)
        self.autosave_timer.setInterval(400)
        self.autosave_timer.timeout.connect(self.autosave)
        self.live_timer = QTimer(self)
        self.live_timer.setInterval(int(self.scheduler.poll_interval * 1000))
        self.live_timer.timeout.connect(self._poll_live)
        self.restore_autosave()
        self.autosave_timer.stop()
        self._dirty = False
        self._update_preview()
        self._update_staging()

    # ---- layout ------------------------------------------------------------------------------------------
    def _build(self) -> None:
        root = self._root = QGridLayout(self)
        root.setContentsMargins(4, 4, 4, 4)
        self.drawing = DrawingColumn()
        self.drawing.install_shortcuts(self)
        root.addWidget(self.drawing, 0, 0)
        self.settings_column = QWidget()
        mid = QVBoxLayout(self.settings_column)
        mid.setContentsMargins(0, 0, 0, 0)
        self.views = ModelViews()
        mid.addWidget(self.views)
        self.controls = SDEditControls()
        self.controls.setEnabled(False)
        mid.addWidget(self.controls)
        run = QHBoxLayout()
        self.generate_btn = QPushButton("Generate")
        self.generate_btn.setDefault(True)
        self.generate_btn.setEnabled(False)
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.setEnabled(False)
        self.live_cb = QCheckBox("Live")
        self.live_cb.setToolTip("regenerate while drawing (debounced: waits 0.25 s after the last stroke when a "
                                "generation takes > 1.5 s on average, never more than 3 s)")
        run.addWidget(self.generate_btn, 1)
        run.addWidget(self.cancel_btn)
        run.addWidget(self.live_cb)
        mid.addLayout(run)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        mid.addWidget(self.progress)
        self.latency_label = QLabel(self.state.latency_text())
        self.latency_label.setToolTip("stroke released (or Generate pressed) → candidates shown")
        self.latency_label.setWordWrap(True)
        mid.addWidget(self.latency_label)
        self.support_label = QLabel("")
        self.support_label.setWordWrap(True)
        self.support_label.setStyleSheet("color: #ff6b6b;")
        mid.addWidget(self.support_label)
        self.caption = make_caption()
        mid.addWidget(self.caption)
        mid.addStretch(1)
        root.addWidget(self.settings_column, 0, 1)
        self.stage = StagingView()
        self.stacked = False  # a narrow page: the staging column beside the drawing, the settings under both (``reflow``)
        root.addWidget(self.stage, 0, 2)
        root.setColumnStretch(1, 1)
        for names, owner in ((_DRAWING, self.drawing), (_CONTROLS, self.controls), (_VIEWS, self.views),
                             (_STAGE, self.stage)):
            for name in names:
                setattr(self, name, getattr(owner, name))
        d, c, s = self.drawing, self.controls, self.stage
        d.size_slider.valueChanged.connect(self._brush_changed)
        d.ink_slider.valueChanged.connect(self._brush_changed)
        d.colour_btn.clicked.connect(self.choose_colour)
        d.palette.colourChosen.connect(self._colour_chosen)
        d.canvas.colourPicked.connect(self._colour_chosen)
        d.load_btn.clicked.connect(self.load_image_dialog)
        d.digit_btn.clicked.connect(lambda: self.load_real_image(self.digit_spin.value()))
        d.canvas.changed.connect(self._canvas_changed)
        d.canvas.strokeFinished.connect(self.state.stroke_finished)
        c.t0Changed.connect(self._t0_changed)
        c.guide_cb.toggled.connect(self.update_caption)
        self.generate_btn.clicked.connect(lambda: self.generate())
        self.generate_btn.setToolTip("K candidates from the drawing (Ctrl+Return)")
        gen_key = QShortcut(QKeySequence("Ctrl+Return"), self)
        gen_key.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        gen_key.activated.connect(lambda: self.generate_btn.isEnabled() and self.generate())
        self.cancel_btn.clicked.connect(self.cancel)
        self.live_cb.toggled.connect(self.set_live)
        s.rowChosen.connect(self._stage_row)
        s.historyChosen.connect(self._history_chosen)
        s.prev_btn.clicked.connect(self.prev_candidate)
        s.next_btn.clicked.connect(self.next_candidate)
        s.accept_btn.clicked.connect(self.accept)
        s.save_btn.clicked.connect(self.save_dialog)
        s.discard_btn.clicked.connect(self.discard)
        self._t0_changed()

    # ---- state shown by tests and the window ---------------------------------------------------------
    @property
    def staging(self):
        """The ``StagingArea``."""
        return self.state.staging

    @property
    def scheduler(self):
        """Live mode's ``LiveScheduler``."""
        return self.state.scheduler

    @property
    def busy(self) -> bool:
        """A generation is running."""
        return self.state.busy

    @property
    def last_latency(self) -> float | None:
        """Seconds from the stroke (or click) to the candidates shown, for the last generation."""
        return self.state.last_latency

    @property
    def last_x_t0(self):
        """(K, C, H, W) x_t0 of the last batch, in [0, 1]."""
        return self.state.last_x_t0

    @property
    def model_shape(self) -> tuple:
        """(C, H, W) of the model's images."""
        return self.state.shape

    @model_shape.setter
    def model_shape(self, shape) -> None:
        self.state.shape = tuple(shape)

    # ---- model -------------------------------------------------------------------------------------------
    @property
    def model(self):
        """The loaded backend model (None before the first load)."""
        return self.loaded.model if self.loaded is not None else None

    def supported(self) -> bool:
        """Whether the loaded model can turn drawings into images (``genviz.panels``: a diffusion model of images)."""
        return get_panel("canvas").supports(self.model)

    def set_model(self, loaded) -> None:
        """Use ``loaded`` (a ``LoadedModel``): the canvas takes the model's convention and the measured defaults."""
        self.loaded = loaded
        m = self.model
        ok = self.supported()
        self.support_label.setText("" if ok or m is None else
                                   f"{get_panel('canvas').why_not(m)} Load a diffusion model of images to draw with.")
        self.generate_btn.setEnabled(ok and not self.busy)
        self.controls.setEnabled(ok)
        if not ok:
            return
        self.state.set_model(m)
        self.views.set_fill(self.state.fill)
        self.controls.set_samplers(sdedit_samplers(m))
        self.controls.steps_spin.setEnabled(not self.state.steps_fixed)
        self.controls.steps_spin.setToolTip("an autoregressive model draws each unknown pixel once"
                                            if self.state.fill == "causal" else "Gibbs sweeps with the known pixels "
                                            "clamped" if self.state.fill else "a denoising diffusion GAN runs the "
                                            "round(t0·T) steps left of its T" if self.state.steps_fixed else "")
        self.colour_btn.setEnabled(self.model_shape[0] == 3)
        from .palette import palette_for
        self.palette.set_colours(palette_for(m))
        emoji = m.dataset == "emoji"
        self.digit_btn.setText("Real emoji" if emoji else "Real digit")
        self.digit_spin.setMaximum(379 if emoji else 9999)
        self.digit_btn.setToolTip("put a held-out emoji (resources/emoji32.npz) on the canvas" if emoji else
                                  "put a real MNIST digit (resources/mnist10k.npz) on the canvas")
        conv = str(m.metadata.get("data", {}).get("convention", "")).lower()
        black_on_white = conv.startswith("black ink") or conv.endswith("on white")  # e.g. emoji: "RGB on white"
        self.canvas.set_background(QColor(255, 255, 255) if black_on_white else QColor(0, 0, 0),
                                   self._ink_colour(black_on_white=black_on_white))
        self.apply_recommended(self.state.guided)
        self.ilvr_cb.setEnabled(not self.state.fill)  # clamped completion (backend.completion) has no ILVR
        if self.state.fill == "gibbs":
            from ....backend.completion import DEFAULT_SWEEPS
            self.steps_spin.setValue(DEFAULT_SWEEPS)
        self._t0_changed()
        self._update_preview()

    def apply_recommended(self, guided: bool) -> None:
        """The measured defaults (``model.recommended``): with a guide classifier, t0 0.9 with ILVR (factor 4)
        and classifier guidance (scale 2); without, plain SDEdit at the model's default t0 (0.6 on mnist-ddpm;
        ``sdedit_defaults.default_t0``)."""
        self.controls.apply_recommended(recommended(guided, self.model))

    def choose_colour(self) -> None:
        """Ask for a brush colour (colour models)."""
        from PySide6.QtWidgets import QColorDialog
        c = QColorDialog.getColor(self.canvas.ink, self, "Brush colour")
        if c.isValid():
            self.set_colour(c)

    def _colour_chosen(self, colour: QColor) -> None:
        """A swatch or the eyedropper chose ``colour``: colour models paint it at full ink; grey models take its
        grey level as the ink level. The brush tool comes back after the eyedropper."""
        if self.model_shape[0] == 3:
            self.ink_slider.setValue(100)
            self.set_colour(colour)
        else:
            g = colour.red() / 255.0
            dark_on_light = self.canvas.background == QColor(255, 255, 255)
            self.ink_slider.setValue(max(10, round(100 * ((1 - g) if dark_on_light else g))))
        if self.canvas.tool == "eyedropper":
            self.set_tool("brush")

    def set_colour(self, colour: QColor | None) -> None:
        """Brush colour for colour models (None: grey at the ink level)."""
        self.colour = QColor(colour) if colour is not None else None
        self.canvas.ink = self._ink_colour()

    def _ink_colour(self, black_on_white: bool | None = None) -> QColor:
        return self.drawing.ink_colour(self.colour, self.model_shape[0] == 3, black_on_white)

    # ---- drawing -----------------------------------------------------------------------------------------
    def set_tool(self, tool: str) -> None:
        """Choose the canvas tool ("brush", "eraser", "mask", "unmask")."""
        self.drawing.set_tool(tool)

    def _brush_changed(self, *_) -> None:
        self.canvas.brush_size = float(self.size_slider.value())
        self.canvas.ink = self._ink_colour()

    def load_image_dialog(self) -> None:
        """File dialog for ``load_image``."""
        path, _ = QFileDialog.getOpenFileName(self, "Load image onto the canvas", "",
                                              "Images (*.png *.jpg *.jpeg *.bmp *.gif *.webp);;All files (*)")
        if path:
            self.load_image(path)

    def load_image(self, path) -> bool:
        """Put an image file on the canvas (undoable), following the canvas convention (``follow_convention``).
        Errors go to the status bar."""
        from ....backend.safe_io import open_image
        try:  # checked for size before decoding (a tiny 1 x 110000 PNG would become a huge square)
            a = np.asarray(open_image(path, Path(path).name).convert("RGB"))
        except ValueError as e:
            self.message.emit(f"could not load {e}", True)
            return False
        self.canvas.set_image(follow_convention(a, self.canvas.background == QColor(0, 0, 0)))
        self.message.emit(f"loaded {Path(path).name} onto the canvas", False)
        return True

    def load_real_image(self, index: int) -> bool:
        """The "Real digit" / "Real emoji" button: a real image of the model's data set (``load_real_digit`` for
        all but the emoji data, whose held-out image ``index`` is put on the canvas, undoable)."""
        if self.model is None or self.model.dataset != "emoji":
            return self.load_real_digit(index)
        try:
            img, category = real_emoji(index)
        except (OSError, IndexError) as e:
            self.message.emit(f"could not load held-out emoji {index}: {e}", True)
            return False
        self.canvas.set_image(img)
        self.message.emit(f"held-out emoji #{index} ({category}) on the canvas", False)
        return True

    def load_real_digit(self, index: int) -> bool:
        """Put MNIST digit ``index`` of resources/mnist10k.npz on the canvas (undoable)."""
        try:
            img, label = real_digit(index)
        except (OSError, IndexError, KeyError) as e:
            self.message.emit(f"could not load real digit {index}: {e}", True)
            return False
        self.canvas.set_image(255 - img if self.canvas.background == QColor(255, 255, 255) else img)
        self.message.emit(f"real MNIST digit #{index} (a {label}) on the canvas", False)
        return True

    def _canvas_changed(self) -> None:
        self._update_preview()
        self.update_caption()
        self._dirty = True
        self.autosave_timer.start()

    def _update_preview(self) -> None:
        """The drawing as the model gets it (``model_view``), once a model is loaded (the backend is imported)."""
        if self.loaded is None:
            self.views.show_preview(None, self.model_shape, False)
            return
        self.views.show_preview(model_view(self.canvas.ink_array(), self.model_shape), self.model_shape,
                                self.canvas.has_mask())

    def _t0_changed(self, *_) -> None:
        self.t0_label.setText(self.state.t0_text(self.t0_slider.value() / 100.0))
        self.update_caption()

    def settings(self) -> dict:
        """The generation settings as ``sdedit`` keyword arguments."""
        return self.controls.settings().as_dict()

    def input_key(self) -> tuple:
        """What live mode compares: the drawing's revision plus the settings."""
        return (self.canvas.revision, tuple(sorted(self.settings().items())))

    def set_presenting(self, on: bool, scale: float = 1.0) -> None:
        """Presentation mode (the panel protocol): the caption at ``scale`` times its size, the drawing and the
        shown candidate larger (at most 1.6×, the columns keep their room); ``on=False`` gives them back."""
        s = float(scale) if on else 1.0
        self.caption.set_scale(s)
        self.canvas.set_zoom(min(s, 1.6))  # the audience sees the strokes; the drawing stays 280 x 280 pixels
        side = round(STAGE_SIDE * min(s, 1.6))
        if self.stage_view.width() != side:
            self.stage_view.setFixedSize(side, side)
            self._update_staging()

    def wide_width(self) -> int:
        """The least width (px) that holds the three columns side by side at the current text size."""
        m, sp = self._root.contentsMargins(), max(0, self._root.horizontalSpacing())
        return (m.left() + m.right() + 2 * sp + self.drawing.minimumSizeHint().width()
                + self.settings_column.minimumSizeHint().width() + self.stage.minimumSizeHint().width())

    def reflow(self, width: int) -> None:
        """Fit a page ``width`` px wide (called by the window's page before it sizes the panel). When the three
        columns do not fit side by side (a small screen, or presentation mode's larger text on a projector), the
        staging column moves beside the drawing, so the audience sees the drawing and its candidates together, and
        the settings go under both (Ctrl+Return generates without scrolling to the button); they move back when
        the page is wide enough."""
        stacked = width < self.wide_width()
        if stacked == self.stacked:
            return
        self.stacked = stacked
        root, mid, stage = self._root, self.settings_column, self.stage
        root.removeWidget(mid)
        root.removeWidget(stage)
        if stacked:
            root.addWidget(stage, 0, 1)
            root.addWidget(mid, 1, 0, 1, 2)
        else:
            root.addWidget(mid, 0, 1)
            root.addWidget(stage, 0, 2)
        root.setColumnStretch(1, 0 if stacked else 1)  # stacked: the staging column keeps its width, the rest is
        root.setColumnStretch(2, 1 if stacked else 0)  # the empty third column's

    def refresh(self) -> None:
        """Redraw from the state now (the panel protocol; the canvas otherwise redraws on every change)."""
        self._update_preview()
        self.update_caption()

    def update_caption(self, *_) -> None:
        """Say in plain words what generation does at this t0 and what the staging area holds."""
        self.caption.setText(self.state.caption(self.t0_slider.value() / 100, self.canvas.is_blank(),
                                                self.controls.guided()))
