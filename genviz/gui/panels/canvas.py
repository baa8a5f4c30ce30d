"""The canvas panel: draw a digit, get images (SDEdit, masked editing), stage, accept, live mode.

Layout: tools and the 280 x 280 canvas on the left; what the model sees (its resolution), x_{t0} and
the generation settings in the middle; the staging area (current candidate, all candidates,
prev/next/accept/save/discard) and the history of accepted results on the right.

All torch work runs on the window's ``Engine`` thread (``genviz.backend.conditioning.sdedit``);
the GUI thread only draws and converts images with numpy/pillow. The drawing is autosaved (PNG,
``autosave_dir()``) a moment after every change and when the window closes.
"""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QStandardPaths, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QComboBox, QFileDialog, QFormLayout, QGridLayout,
                               QGroupBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QProgressBar,
                               QPushButton, QSlider, QSpinBox, QToolButton, QVBoxLayout, QWidget)

from ..widgets.caption import make_caption
from ..engine import Engine
from ..live_scheduler import LiveScheduler
from ..staging import StagingArea
from ..widgets.stroke_canvas import StrokeCanvas

RESOURCES = Path(__file__).resolve().parents[3] / "resources"
DEFAULT_DRAWING = RESOURCES / "drawings" / "digit3_0.png"
DEFAULT_GUIDANCE = 2
GUIDE_CHECKPOINT = "mnist-guide"
DEFAULT_T0 = 0.6  # plain SDEdit; = genviz.backend.conditioning.DEFAULT_T0 (not imported: it pulls in torch)
RECOMMENDED_T0 = 0.9  # with ILVR (factor 4) and classifier guidance (scale 2), see README "Stroke canvas"


def autosave_dir() -> Path:
    """Where the drawing is autosaved: ``$GENVIZ_AUTOSAVE_DIR`` or the app-data folder."""
    env = os.environ.get("GENVIZ_AUTOSAVE_DIR")
    if env:
        return Path(env)
    loc = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(loc or Path.home() / ".genviz") / "canvas"


def unit_to_pixmap(img: np.ndarray, scale: int) -> QPixmap:
    """(C, H, W) float [0, 1] or uint8 -> nearest-neighbour scaled QPixmap."""
    a = np.asarray(img)
    if a.dtype != np.uint8:
        a = (np.clip(a, 0, 1) * 255 + 0.5).astype(np.uint8)
    if a.ndim == 3:
        a = a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0)
    a = np.ascontiguousarray(a)
    fmt = QImage.Format.Format_Grayscale8 if a.ndim == 2 else QImage.Format.Format_RGB888
    q = QImage(a.data, a.shape[1], a.shape[0], a.strides[0], fmt).copy()
    return QPixmap.fromImage(q.scaled(a.shape[1] * scale, a.shape[0] * scale, Qt.AspectRatioMode.IgnoreAspectRatio,
                                      Qt.TransformationMode.FastTransformation))


def strip(images, scale: int, pad: int = 3) -> QPixmap:
    """A row of (C, H, W) images as one pixmap."""
    images = list(images)
    if not images:
        return QPixmap()
    a = np.asarray(images[0])
    c, h, w = a.shape
    row = np.full((c, h, len(images) * (w + 1) - 1), 0.25, np.float32)
    for i, im in enumerate(images):
        im = np.asarray(im, np.float32)
        row[:, :, i * (w + 1):i * (w + 1) + w] = im / 255.0 if np.asarray(images[0]).dtype == np.uint8 else im
    return unit_to_pixmap(row, scale)


def model_view(ink: np.ndarray, shape) -> np.ndarray:
    """What the model sees: the (S, S, 3) uint8 canvas area-averaged to (C, H, W) float in [0, 1]
    (the same conversion as ``genviz.backend.conditioning.image_to_model``, without torch)."""
    from PIL import Image
    c, h, w = shape
    im = Image.fromarray(ink).convert("L" if c == 1 else "RGB").resize((w, h), Image.Resampling.BOX)
    a = np.asarray(im, np.float32) / 255.0
    return a[None] if c == 1 else a.transpose(2, 0, 1)


class CanvasPanel(QWidget):
    """Stroke canvas with SDEdit generation, a staging area and live mode.

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
        self.model_shape = (1, 28, 28)
        self.num_train_timesteps = 1000
        self.alphas_cumprod = None
        self.staging = StagingArea()
        self.scheduler = LiveScheduler()
        self.busy = False
        self.last_latency: float | None = None
        self.last_seconds: float | None = None
        self.last_x_t0 = None
        self._cancel = threading.Event()
        self._progress = (0, 0)
        self._latency_start: float | None = None
        self._stroke_time: float | None = None
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
        self.caption_timer = QTimer(self)
        self.caption_timer.setInterval(250)
        self.caption_timer.timeout.connect(self.update_caption)
        self.caption_timer.start()
        self.progress_timer = QTimer(self)
        self.progress_timer.setInterval(100)
        self.progress_timer.timeout.connect(self._show_progress)
        self.restore_autosave()
        self.autosave_timer.stop()
        self._dirty = False
        self._update_preview()
        self._update_staging()

    # ---- layout ----------------------------------------------------------------------------------
    def _build(self) -> None:
        root = QHBoxLayout(self)

        # left: tools + canvas
        left = QVBoxLayout()
        tools = QHBoxLayout()
        self.tool_group = QButtonGroup(self)
        self.tool_buttons = {}
        for key, text, tip in (("brush", "Brush", "B: paint ink"), ("eraser", "Eraser", "E: paint background"),
                               ("mask", "Mask", "M: mark pixels the model regenerates (masked editing)"),
                               ("unmask", "Unmask", "erase the mask")):
            b = QToolButton()
            b.setText(text)
            b.setCheckable(True)
            b.setToolTip(tip)
            self.tool_group.addButton(b)
            self.tool_buttons[key] = b
            b.clicked.connect(lambda _=False, k=key: self.set_tool(k))
            tools.addWidget(b)
        self.tool_buttons["brush"].setChecked(True)
        left.addLayout(tools)
        form = QFormLayout()
        self.size_slider = QSlider(Qt.Orientation.Horizontal)
        self.size_slider.setRange(2, 80)
        self.size_slider.setValue(22)
        self.size_slider.valueChanged.connect(self._brush_changed)
        form.addRow("Brush size", self.size_slider)
        self.ink_slider = QSlider(Qt.Orientation.Horizontal)
        self.ink_slider.setRange(10, 100)
        self.ink_slider.setValue(100)
        self.ink_slider.setToolTip("ink level (grey) of the brush, % of full ink")
        self.ink_slider.valueChanged.connect(self._brush_changed)
        inkrow = QHBoxLayout()
        inkrow.addWidget(self.ink_slider, 1)
        self.colour_btn = QPushButton("Colour…")
        self.colour_btn.setToolTip("brush colour (colour models only; grey models use the ink level)")
        self.colour_btn.setEnabled(False)
        self.colour_btn.clicked.connect(self.choose_colour)
        inkrow.addWidget(self.colour_btn)
        form.addRow("Ink level", inkrow)
        self.colour = None  # a chosen brush colour (colour models), else None
        left.addLayout(form)
        self.canvas = StrokeCanvas()
        self.canvas.changed.connect(self._canvas_changed)
        self.canvas.strokeFinished.connect(self._stroke_finished)
        left.addWidget(self.canvas, 0, Qt.AlignmentFlag.AlignHCenter)
        edit = QGridLayout()
        self.undo_btn = QPushButton("Undo")
        self.undo_btn.clicked.connect(self.canvas.undo)
        self.redo_btn = QPushButton("Redo")
        self.redo_btn.clicked.connect(self.canvas.redo)
        self.clear_btn = QPushButton("Clear")
        self.clear_btn.clicked.connect(lambda: self.canvas.clear())
        self.clear_mask_btn = QPushButton("Clear mask")
        self.clear_mask_btn.clicked.connect(lambda: self.canvas.clear(mask_only=True))
        self.load_btn = QPushButton("Load image…")
        self.load_btn.clicked.connect(self.load_image_dialog)
        self.digit_spin = QSpinBox()
        self.digit_spin.setRange(0, 9999)
        self.digit_spin.setToolTip("index of a real MNIST digit in resources/mnist10k.npz")
        self.digit_btn = QPushButton("Real digit")
        self.digit_btn.setToolTip("put a real MNIST digit (resources/mnist10k.npz) on the canvas")
        self.digit_btn.clicked.connect(lambda: self.load_real_digit(self.digit_spin.value()))
        for i, w in enumerate((self.undo_btn, self.redo_btn, self.clear_btn, self.clear_mask_btn)):
            edit.addWidget(w, 0, i)
        edit.addWidget(self.load_btn, 1, 0, 1, 2)
        edit.addWidget(self.digit_spin, 1, 2)
        edit.addWidget(self.digit_btn, 1, 3)
        left.addLayout(edit)
        self.autosave_label = QLabel("")
        self.autosave_label.setStyleSheet("color: #8a8f99;")
        self.autosave_label.setWordWrap(True)
        left.addWidget(self.autosave_label)
        left.addStretch(1)
        root.addLayout(left)
        for seq, fn in ((QKeySequence.StandardKey.Undo, self.canvas.undo),
                        (QKeySequence.StandardKey.Redo, self.canvas.redo)):
            sc = QShortcut(seq, self)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(fn)

        # middle: model view, x_t0, settings
        mid = QVBoxLayout()
        views = QHBoxLayout()
        box = QGroupBox("Model sees")
        bl = QVBoxLayout(box)
        self.preview = QLabel()
        self.preview.setFixedSize(116, 116)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setToolTip("the drawing at the model's resolution (area-averaged), as the model gets it")
        bl.addWidget(self.preview)
        self.preview_caption = QLabel("")
        self.preview_caption.setStyleSheet("color: #8a8f99;")
        bl.addWidget(self.preview_caption)
        views.addWidget(box)
        box2 = QGroupBox("x_t0 (noised drawing)")
        bl2 = QVBoxLayout(box2)
        self.xt0_view = QLabel("—")
        self.xt0_view.setMinimumHeight(60)
        self.xt0_view.setAlignment(Qt.AlignmentFlag.AlignCenter)
        bl2.addWidget(self.xt0_view)
        views.addWidget(box2, 1)
        mid.addLayout(views)

        gen = QGroupBox("SDEdit")
        gf = QFormLayout(gen)
        t0row = QHBoxLayout()
        self.t0_slider = QSlider(Qt.Orientation.Horizontal)
        self.t0_slider.setRange(0, 100)
        self.t0_slider.setValue(int(round(DEFAULT_T0 * 100)))
        self.t0_slider.valueChanged.connect(self._t0_changed)
        self.t0_label = QLabel()
        self.t0_label.setMinimumWidth(150)
        t0row.addWidget(self.t0_slider, 1)
        t0row.addWidget(self.t0_label)
        gf.addRow("t0 / T", t0row)
        self.k_spin = QSpinBox()
        self.k_spin.setRange(1, 16)
        self.k_spin.setValue(4)
        gf.addRow("Candidates K", self.k_spin)
        seedrow = QHBoxLayout()
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2 ** 31 - 1)
        self.new_seed_cb = QCheckBox("new seed each time")
        self.new_seed_cb.setChecked(False)
        seedrow.addWidget(self.seed_spin, 1)
        seedrow.addWidget(self.new_seed_cb)
        gf.addRow("Seed", seedrow)
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(1, 1000)
        self.steps_spin.setValue(25)
        gf.addRow("Steps (t0 → 0)", self.steps_spin)
        self.sampler_combo = QComboBox()
        self.sampler_combo.addItems(["ddim", "ddpm"])
        gf.addRow("Sampler", self.sampler_combo)
        ilvrrow = QHBoxLayout()
        self.ilvr_cb = QCheckBox("ILVR low-pass guidance, factor")
        self.ilvr_cb.setToolTip("Choi et al. 2021: keep the drawing's coarse layout (downsampled by the factor) "
                                "at every step, let the model draw the detail")
        self.ilvr_spin = QSpinBox()
        self.ilvr_spin.setRange(2, 14)
        self.ilvr_spin.setValue(4)
        ilvrrow.addWidget(self.ilvr_cb)
        ilvrrow.addWidget(self.ilvr_spin)
        gf.addRow("Guidance", ilvrrow)
        guiderow = QHBoxLayout()
        self.guide_cb = QCheckBox("toward digit")
        self.guide_cb.setToolTip("classifier guidance (mnist-guide classifier on x̂₀) toward the digit drawn: "
                                 "'auto' takes the class the guide classifier sees in the drawing")
        self.guide_combo = QComboBox()
        self.guide_combo.addItems(["auto"] + [str(i) for i in range(10)])
        self.guide_scale = QSpinBox()
        self.guide_scale.setRange(1, 20)
        self.guide_scale.setValue(int(DEFAULT_GUIDANCE))
        self.guide_scale.setPrefix("scale ")
        guiderow.addWidget(self.guide_cb)
        guiderow.addWidget(self.guide_combo)
        guiderow.addWidget(self.guide_scale)
        gf.addRow("", guiderow)
        mid.addWidget(gen)
        run = QHBoxLayout()
        self.generate_btn = QPushButton("Generate")
        self.generate_btn.setDefault(True)
        self.generate_btn.clicked.connect(lambda: self.generate())
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.setEnabled(False)
        self.cancel_btn.clicked.connect(self.cancel)
        self.live_cb = QCheckBox("Live")
        self.live_cb.setToolTip("regenerate while drawing (debounced: waits 0.25 s after the last stroke when a "
                                "generation takes > 1.5 s on average, never more than 3 s)")
        self.live_cb.toggled.connect(self.set_live)
        run.addWidget(self.generate_btn, 1)
        run.addWidget(self.cancel_btn)
        run.addWidget(self.live_cb)
        mid.addLayout(run)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        mid.addWidget(self.progress)
        self.latency_label = QLabel("latency: —")
        self.latency_label.setToolTip("stroke released (or Generate pressed) → candidates shown")
        mid.addWidget(self.latency_label)
        self.support_label = QLabel("")
        self.support_label.setWordWrap(True)
        self.support_label.setStyleSheet("color: #ff6b6b;")
        mid.addWidget(self.support_label)
        self.caption = make_caption()
        mid.addWidget(self.caption)
        mid.addStretch(1)
        root.addLayout(mid)

        # right: staging area + history
        right = QVBoxLayout()
        st = QGroupBox("Staging area")
        sl = QVBoxLayout(st)
        self.stage_view = QLabel("no candidates yet: draw, then Generate")
        self.stage_view.setFixedSize(232, 232)
        self.stage_view.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stage_view.setStyleSheet("background: #1f2126; color: #8a8f99;")
        sl.addWidget(self.stage_view, 0, Qt.AlignmentFlag.AlignHCenter)
        self.stage_label = QLabel("")
        self.stage_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        sl.addWidget(self.stage_label)
        self.stage_list = QListWidget()
        self.stage_list.setViewMode(QListWidget.ViewMode.IconMode)
        self.stage_list.setFlow(QListWidget.Flow.LeftToRight)
        self.stage_list.setWrapping(True)
        self.stage_list.setIconSize(self.stage_list.iconSize().__class__(56, 56))
        self.stage_list.setFixedHeight(140)
        self.stage_list.setMovement(QListWidget.Movement.Static)
        self.stage_list.currentRowChanged.connect(self._stage_row)
        sl.addWidget(self.stage_list)
        nav = QHBoxLayout()
        self.prev_btn = QPushButton("◀ Prev")
        self.prev_btn.clicked.connect(self.prev_candidate)
        self.next_btn = QPushButton("Next ▶")
        self.next_btn.clicked.connect(self.next_candidate)
        nav.addWidget(self.prev_btn)
        nav.addWidget(self.next_btn)
        sl.addLayout(nav)
        acts = QHBoxLayout()
        self.accept_btn = QPushButton("Accept")
        self.accept_btn.setToolTip("put this candidate on the canvas (Undo brings the drawing back)")
        self.accept_btn.clicked.connect(self.accept)
        self.save_btn = QPushButton("Save PNG…")
        self.save_btn.clicked.connect(self.save_dialog)
        self.discard_btn = QPushButton("Discard")
        self.discard_btn.setToolTip("drop this batch of candidates")
        self.discard_btn.clicked.connect(self.discard)
        for b in (self.accept_btn, self.save_btn, self.discard_btn):
            acts.addWidget(b)
        sl.addLayout(acts)
        right.addWidget(st)
        hb = QGroupBox("History (accepted; double-click to put back on the canvas)")
        hl = QVBoxLayout(hb)
        self.history_list = QListWidget()
        self.history_list.setViewMode(QListWidget.ViewMode.IconMode)
        self.history_list.setFlow(QListWidget.Flow.LeftToRight)
        self.history_list.setIconSize(self.history_list.iconSize().__class__(48, 48))
        self.history_list.setFixedHeight(90)
        self.history_list.setMovement(QListWidget.Movement.Static)
        self.history_list.itemDoubleClicked.connect(self._history_clicked)
        hl.addWidget(self.history_list)
        right.addWidget(hb)
        right.addStretch(1)
        root.addLayout(right)
        self._t0_changed(self.t0_slider.value())

    # ---- model -----------------------------------------------------------------------------------
    @property
    def model(self):
        return self.loaded.model if self.loaded is not None else None

    def supported(self) -> bool:
        m = self.model
        return m is not None and "canvas" in m.capabilities()

    def set_model(self, loaded) -> None:
        """Use ``loaded`` (a ``LoadedModel``); the canvas takes the model's convention."""
        self.loaded = loaded
        m = loaded.model if loaded is not None else None
        ok = self.supported()
        self.support_label.setText("" if ok or m is None else
                                   f"{m.name} ({m.family}) cannot turn drawings into images: load a diffusion "
                                   "model of images")
        self.generate_btn.setEnabled(ok)
        if not ok:
            return
        self.model_shape = tuple(m.data_shape)
        self.colour_btn.setEnabled(self.model_shape[0] == 3)
        self.num_train_timesteps = int(getattr(m, "num_train_timesteps", 1000))
        acp = getattr(m, "_acp_cpu", None)
        self.alphas_cumprod = [float(v) for v in acp] if acp is not None else None
        conv = str(m.metadata.get("data", {}).get("convention", "")).lower()
        if conv.startswith("black ink"):
            self.canvas.set_background(QColor(255, 255, 255), self._ink_colour(black_on_white=True))
        else:
            self.canvas.set_background(QColor(0, 0, 0), self._ink_colour(black_on_white=False))
        self.apply_recommended(self._guide_available(m))
        self._t0_changed(self.t0_slider.value())
        self._update_preview()

    def _guide_available(self, m) -> bool:
        """Is there a guide classifier for this model's images? (reads a checkpoint header; the backend
        is already imported once a model is loaded)"""
        try:
            from ...backend.checkpoints import read_metadata
            meta = read_metadata(GUIDE_CHECKPOINT)
        except Exception:
            return False
        return tuple(meta.get("data", {}).get("shape", ())) == tuple(m.data_shape)

    def apply_recommended(self, guided: bool) -> None:
        """The measured defaults (README "Stroke canvas"): with a guide classifier, t0 = 0.9 with ILVR
        (factor 4) and classifier guidance (scale 2); without, plain SDEdit at t0 = 0.6."""
        self.guide_cb.setEnabled(guided)
        self.guide_combo.setEnabled(guided)
        self.guide_scale.setEnabled(guided)
        self.guide_cb.setChecked(guided)
        self.ilvr_cb.setChecked(guided)
        self.ilvr_spin.setValue(4)
        self.guide_scale.setValue(DEFAULT_GUIDANCE)
        self.t0_slider.setValue(int(round((RECOMMENDED_T0 if guided else DEFAULT_T0) * 100)))

    def choose_colour(self) -> None:
        from PySide6.QtWidgets import QColorDialog
        c = QColorDialog.getColor(self.canvas.ink, self, "Brush colour")
        if c.isValid():
            self.set_colour(c)

    def set_colour(self, colour: QColor | None) -> None:
        """Brush colour for colour models (None: grey at the ink level)."""
        self.colour = QColor(colour) if colour is not None else None
        self.canvas.ink = self._ink_colour()

    def _ink_colour(self, black_on_white: bool | None = None) -> QColor:
        if self.colour is not None and self.model_shape[0] == 3:
            level = self.ink_slider.value() / 100.0
            c = self.colour
            return QColor(int(c.red() * level), int(c.green() * level), int(c.blue() * level))
        if black_on_white is None:
            black_on_white = self.canvas.background == QColor(255, 255, 255)
        level = self.ink_slider.value() / 100.0
        g = int(round(255 * (1 - level))) if black_on_white else int(round(255 * level))
        return QColor(g, g, g)

    # ---- tools -----------------------------------------------------------------------------------
    def set_tool(self, tool: str) -> None:
        self.canvas.tool = tool
        self.tool_buttons[tool].setChecked(True)

    def _brush_changed(self, *_) -> None:
        self.canvas.brush_size = float(self.size_slider.value())
        self.canvas.ink = self._ink_colour()

    def load_image_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load image onto the canvas", "",
                                              "Images (*.png *.jpg *.jpeg *.bmp *.gif *.webp);;All files (*)")
        if path:
            self.load_image(path)

    def load_image(self, path) -> bool:
        """Put an image file on the canvas (undoable), following the canvas convention: an image with
        a light border on a dark canvas (or the reverse) is inverted. Errors go to the status bar."""
        from PIL import Image, UnidentifiedImageError
        try:
            with Image.open(path) as im:
                im.load()
                a = np.asarray(im.convert("RGB"))
        except (OSError, UnidentifiedImageError, ValueError) as e:
            self.message.emit(f"could not load {path}: {e.__class__.__name__}", True)
            return False
        border = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]]).mean() / 255.0
        dark_canvas = self.canvas.background == QColor(0, 0, 0)
        if (border > 0.5) == dark_canvas:
            a = 255 - a
        self.canvas.set_image(a)
        self.message.emit(f"loaded {Path(path).name} onto the canvas", False)
        return True

    def load_real_digit(self, index: int) -> bool:
        """Put MNIST digit ``index`` of resources/mnist10k.npz on the canvas (undoable)."""
        try:
            with np.load(RESOURCES / "mnist10k.npz") as f:
                img, label = f["images"][int(index)], int(f["labels"][int(index)])
        except (OSError, IndexError, KeyError) as e:
            self.message.emit(f"could not load real digit {index}: {e}", True)
            return False
        if self.canvas.background == QColor(255, 255, 255):
            img = 255 - img
        self.canvas.set_image(img)
        self.message.emit(f"real MNIST digit #{index} (a {label}) on the canvas", False)
        return True

    # ---- drawing changes ---------------------------------------------------------------------------
    def _canvas_changed(self) -> None:
        self.undo_btn.setEnabled(self.canvas.can_undo())
        self.redo_btn.setEnabled(self.canvas.can_redo())
        self._update_preview()
        self._dirty = True
        self.autosave_timer.start()

    def _stroke_finished(self) -> None:
        self._stroke_time = time.perf_counter()

    def _update_preview(self) -> None:
        v = model_view(self.canvas.ink_array(), self.model_shape)
        scale = max(1, 112 // max(self.model_shape[1:]))
        self.preview.setPixmap(unit_to_pixmap(v, scale))
        self.preview_caption.setText(f"{self.model_shape[2]}×{self.model_shape[1]} px"
                                     + (", masked" if self.canvas.has_mask() else ""))

    def _t0_changed(self, v: int) -> None:
        t0 = v / 100.0
        T = self.num_train_timesteps
        t = int(min(T - 1, max(-1, round(t0 * T) - 1)))
        if t < 0:
            txt = "t = 0: the drawing itself"
        elif t0 >= 1:
            txt = f"t = {T}: pure noise"
        elif self.alphas_cumprod is not None:
            txt = f"t = {t + 1}, ᾱ = {self.alphas_cumprod[t]:.3f}"
        else:
            txt = f"t = {t + 1}"
        self.t0_label.setText(f"{t0:.2f}  ({txt})")

    def settings(self) -> dict:
        """The generation settings as ``sdedit`` keyword arguments."""
        return dict(t0=self.t0_slider.value() / 100.0, n=self.k_spin.value(), seed=self.seed_spin.value(),
                    steps=self.steps_spin.value(), sampler=self.sampler_combo.currentText(),
                    ilvr=self.ilvr_spin.value() if self.ilvr_cb.isChecked() else 0,
                    guidance=float(self.guide_scale.value()) if self.guide_cb.isChecked() else 0.0,
                    guide_class=None if self.guide_combo.currentIndex() == 0 else self.guide_combo.currentIndex() - 1)

    def input_key(self) -> tuple:
        """What live mode compares: the drawing's revision plus the settings."""
        return (self.canvas.revision, tuple(sorted(self.settings().items())))

    # ---- generation --------------------------------------------------------------------------------
    def generate(self, live: bool = False) -> bool:
        """Start SDEdit on the engine thread with the current drawing and settings. Returns False (and
        says why) when there is no suitable model or a generation is already running."""
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
        model = self.model
        cancel = self._cancel
        cancel.clear()
        self.busy = True
        if live:
            self.scheduler.notify_started()
            self._latency_start = self._stroke_time or time.perf_counter()
        else:
            self._latency_start = time.perf_counter()
        self._progress = (0, 1)
        self.cancel_btn.setEnabled(True)
        self.generate_btn.setEnabled(False)
        self.progress_timer.start()

        def progress(i, total, x, x0):
            self._progress = (i, total)
            return not cancel.is_set()

        def task():
            from ...backend.conditioning import image_to_model, mask_to_model, model_to_unit, sdedit
            y = image_to_model(ink, model, invert=False)
            m = mask_to_model(mask, model) if mask is not None else None
            kw = dict(params)
            if kw.get("guidance", 0) > 0:
                kw["guide_classifier"] = self._guide_classifier(model)
            else:
                kw.pop("guide_class", None)
            res = sdedit(model, y, mask=m, callback=progress, **kw)
            if res.guide_class is not None:
                params["guided_to"] = res.guide_class
            return {"samples": model_to_unit(res.samples, model), "x_t0": model_to_unit(res.x_t0, model),
                    "seconds": res.seconds, "params": params, "t_start": res.t_start, "live": live}

        self.engine.submit(task, self._generated, self._failed)
        return True

    def _guide_classifier(self, model):
        """The guide classifier (engine thread; loaded once). ValueError when there is none that fits."""
        from ...backend.checkpoints import CheckpointError, load_checkpoint
        cached = getattr(self, "_guide", None)
        if cached is not None and cached.data_shape == tuple(model.data_shape):
            return cached.to(model.device)
        try:
            clf = load_checkpoint(GUIDE_CHECKPOINT, device=model.device)
        except CheckpointError as e:
            raise ValueError(f"guidance needs the {GUIDE_CHECKPOINT} checkpoint: {e}") from None
        if clf.data_shape != tuple(model.data_shape):
            raise ValueError(f"{GUIDE_CHECKPOINT} works on {clf.data_shape} images, the model on {model.data_shape}")
        self._guide = clf
        return clf

    def cancel(self) -> None:
        self._cancel.set()

    def _finish(self) -> None:
        self.busy = False
        self.update_caption()
        self.progress_timer.stop()
        self.cancel_btn.setEnabled(False)
        self.generate_btn.setEnabled(self.supported())

    def _generated(self, out: dict) -> None:
        self._finish()
        self.scheduler.notify_finished(True)
        had = self.staging.dropped
        num = self.staging.add_batch(list(out["samples"]), out["params"])
        self.last_x_t0 = out["x_t0"]
        self.last_seconds = out["seconds"]
        self._update_staging()
        self.xt0_view.setPixmap(strip(out["x_t0"], 2))
        self.progress.setValue(100)
        self.last_latency = time.perf_counter() - (self._latency_start or time.perf_counter())
        p = out["params"]
        self.latency_label.setText(f"latency: {self.last_latency:.2f} s (stroke/click → shown); "
                                   f"generation {out['seconds']:.2f} s")
        guided = f", guided to {p['guided_to']}" if "guided_to" in p else ""
        note = guided + (f"; {self.staging.dropped - had} oldest batch dropped from staging"
                         if self.staging.dropped > had else "")
        self.message.emit(f"batch {num}: {len(out['samples'])} candidates, t0 {p['t0']:.2f}, {p['sampler']} "
                          f"{p['steps']} steps, seed {p['seed']}{note}", False)
        self.generated.emit()

    def _failed(self, msg: str) -> None:
        self._finish()
        self.scheduler.notify_finished(False)
        self.progress.setValue(0)
        if "cancelled" in msg:
            self.message.emit("generation cancelled", False)
        else:
            self.message.emit(f"generation failed: {msg}", True)

    def _show_progress(self) -> None:
        i, total = self._progress
        self.progress.setValue(int(100 * i / max(1, total)))

    # ---- live mode -----------------------------------------------------------------------------------
    def set_live(self, on: bool) -> None:
        if self.live_cb.isChecked() != on:
            self.live_cb.setChecked(on)
            return
        if on:
            self.scheduler.notify_change(self.input_key())
            self.live_timer.start()
        else:
            self.live_timer.stop()

    def _poll_live(self) -> None:
        if not self.supported() or self.canvas.is_blank():
            return
        if self.scheduler.should_generate(self.input_key()) and not self.busy:
            self.generate(live=True)

    # ---- staging ---------------------------------------------------------------------------------
    def _update_staging(self) -> None:
        self.update_caption()
        st = self.staging
        n = len(st)
        self.stage_list.blockSignals(True)
        self.stage_list.clear()
        for c in st.candidates:
            it = QListWidgetItem(f"{c.batch}.{c.k + 1}")
            it.setIcon(unit_to_pixmap(c.image, 2))
            self.stage_list.addItem(it)
        if n:
            self.stage_list.setCurrentRow(st.index)
        self.stage_list.blockSignals(False)
        cur = st.current
        if cur is None:
            self.stage_view.setPixmap(QPixmap())
            self.stage_view.setText("no candidates: draw, then Generate")
            self.stage_label.setText("")
        else:
            h = cur.image.shape[1]
            self.stage_view.setPixmap(unit_to_pixmap(cur.image, max(1, 224 // h)))
            p = cur.params
            self.stage_label.setText(f"candidate {st.index + 1} of {n} — batch {cur.batch}, "
                                     f"t0 {p.get('t0', 0):.2f}, seed {p.get('seed', '')}")
        for b in (self.prev_btn, self.next_btn, self.accept_btn, self.save_btn, self.discard_btn):
            b.setEnabled(n > 0)

    def _stage_row(self, row: int) -> None:
        if 0 <= row < len(self.staging):
            self.staging.select(row)
            self._update_staging()

    def next_candidate(self) -> None:
        self.staging.next()
        self._update_staging()

    def prev_candidate(self) -> None:
        self.staging.prev()
        self._update_staging()

    def accept(self) -> bool:
        """Put the current candidate on the canvas (one undo step) and into the history."""
        if self.staging.current is None:
            return False
        c = self.staging.accept()
        self._put_on_canvas(c.image)
        it = QListWidgetItem(f"{c.batch}.{c.k + 1}")
        it.setIcon(unit_to_pixmap(c.image, 2))
        it.setData(Qt.ItemDataRole.UserRole, len(self.staging.history) - 1)
        self.history_list.addItem(it)
        self._update_staging()
        self.message.emit(f"accepted candidate {c.batch}.{c.k + 1}: it is the drawing now (Undo brings the "
                          "old drawing back)", False)
        return True

    def _put_on_canvas(self, image: np.ndarray) -> None:
        a = image[0] if image.shape[0] == 1 else image.transpose(1, 2, 0)
        self.canvas.set_image(a, mask=np.zeros(a.shape[:2], np.uint8))

    def _history_clicked(self, item) -> None:
        i = item.data(Qt.ItemDataRole.UserRole)
        if i is not None and 0 <= i < len(self.staging.history):
            self._put_on_canvas(self.staging.history[i].image)

    def discard(self) -> int:
        n = self.staging.discard()
        self._update_staging()
        if n:
            self.message.emit(f"discarded {n} candidates", False)
        return n

    def save_candidate(self, path) -> None:
        """Save the current candidate as a PNG at model resolution (raises OSError, LookupError)."""
        from PIL import Image
        c = self.staging.current
        if c is None:
            raise LookupError("no candidate to save")
        a = (np.clip(c.image, 0, 1) * 255 + 0.5).astype(np.uint8)
        a = a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0)
        Image.fromarray(a).save(str(path), format="PNG")

    def save_dialog(self) -> None:
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

    # ---- autosave --------------------------------------------------------------------------------
    def autosave_paths(self) -> tuple[Path, Path]:
        return self._autosave_dir / "drawing.png", self._autosave_dir / "mask.png"

    def autosave(self) -> bool:
        """Write the drawing and the mask as PNGs (atomically: temp file, then rename)."""
        from PIL import Image
        ink_p, mask_p = self.autosave_paths()
        try:
            ink_p.parent.mkdir(parents=True, exist_ok=True)
            for p, a in ((ink_p, self.canvas.ink_array()), (mask_p, self.canvas.mask_array())):
                tmp = p.with_suffix(".tmp.png")
                Image.fromarray(a).save(tmp, format="PNG")
                os.replace(tmp, p)
        except OSError as e:
            self.autosave_label.setText(f"autosave failed: {e}")
            return False
        self._dirty = False
        self.autosave_label.setText(f"autosaved to {ink_p.parent}")
        return True

    def restore_autosave(self) -> bool:
        """Load the autosaved drawing (if any) onto the canvas; not an undo step."""
        from PIL import Image
        ink_p, mask_p = self.autosave_paths()
        if not ink_p.is_file():
            return False
        try:
            with Image.open(ink_p) as im:
                ink = np.asarray(im.convert("RGB"))
            mask = None
            if mask_p.is_file():
                with Image.open(mask_p) as im:
                    mask = np.asarray(im.convert("L"))
        except (OSError, ValueError) as e:
            self.autosave_label.setText(f"could not restore the autosaved drawing: {e}")
            return False
        self.canvas.set_image(ink, mask=mask, undoable=False)
        self.autosave_label.setText(f"restored the drawing autosaved in {ink_p.parent}")
        return True

    # ---- sessions (File → Save session, demo mode) -------------------------------------------------
    def session_state(self) -> dict:
        """The canvas as data: the generation settings and the drawing and mask as base64 PNGs."""
        import base64
        import io

        from PIL import Image

        def png(a) -> str:
            buf = io.BytesIO()
            Image.fromarray(a).save(buf, format="PNG")
            return base64.b64encode(buf.getvalue()).decode("ascii")

        out = {"settings": self.settings(), "drawing": png(self.canvas.ink_array())}
        if self.canvas.has_mask():
            out["mask"] = png(self.canvas.mask_array())
        return out

    def restore_session(self, data: dict, on_done=None) -> None:
        """Restore ``session_state()`` data: settings, then the drawing (one undo step). Raises
        ValueError on malformed data."""
        import base64
        import io

        from PIL import Image

        def arr(b64: str, mode: str):
            try:
                with Image.open(io.BytesIO(base64.b64decode(b64))) as im:
                    return np.asarray(im.convert(mode))
            except Exception as e:
                raise ValueError(f"canvas session: unreadable image ({e.__class__.__name__})") from None

        st = dict(data.get("settings") or {})
        if "t0" in st:
            self.t0_slider.setValue(int(round(float(st["t0"]) * 100)))
        for key, w in (("n", self.k_spin), ("seed", self.seed_spin), ("steps", self.steps_spin)):
            if key in st:
                w.setValue(int(st[key]))
        if st.get("sampler") in ("ddim", "ddpm"):
            self.sampler_combo.setCurrentText(st["sampler"])
        if "ilvr" in st:
            self.ilvr_cb.setChecked(int(st["ilvr"]) > 1)
            if int(st["ilvr"]) > 1:
                self.ilvr_spin.setValue(int(st["ilvr"]))
        if "guidance" in st:
            self.guide_cb.setChecked(float(st["guidance"]) > 0)
            if float(st["guidance"]) > 0:
                self.guide_scale.setValue(int(round(float(st["guidance"]))))
        if "guide_class" in st:
            self.guide_combo.setCurrentIndex(0 if st["guide_class"] is None else int(st["guide_class"]) + 1)
        if "drawing" in data:
            mask = arr(data["mask"], "L") if data.get("mask") else np.zeros((1, 1), np.uint8)
            self.canvas.set_image(arr(data["drawing"], "RGB"), mask=mask)
        elif "drawing_file" in data:  # presets: a drawing shipped in resources/
            path = RESOURCES / str(data["drawing_file"])
            if not path.is_file():
                raise ValueError(f"canvas preset: no drawing {data['drawing_file']!r} in resources/")
            self.load_image(path)
        if on_done is not None:
            on_done()

    def update_caption(self) -> None:
        """Say in plain words what generation does at this t0 and what the staging area holds (timer)."""
        from ..captions import canvas_caption
        if not hasattr(self, "caption"):
            return
        n, cur = len(self.staging), max(self.staging.index, 0)
        self.caption.setText(canvas_caption(self.t0_slider.value() / 100, self.busy, n, cur, self.canvas.is_blank(),
                                            self.guide_cb.isChecked() and self.guide_cb.isEnabled()))

    def advanced_controls(self) -> dict:
        """Controls presentation mode may hide."""
        return {"seed": self.seed_spin, "steps": self.steps_spin, "sampler": self.sampler_combo,
                "guidance": self.guide_scale, "ilvr": self.ilvr_spin, "history": self.history_list}

    def run(self) -> bool:
        """Generate candidates from the drawing (demo presets' "run")."""
        return self.generate()

    # ---- default action (screenshots) ------------------------------------------------------------
    def run_default(self) -> bool:
        """Draw the bundled example (when the canvas is blank) and generate."""
        if not self.supported():
            return False
        if self.canvas.is_blank() and DEFAULT_DRAWING.is_file():
            self.load_image(DEFAULT_DRAWING)
        return self.generate()

    def shutdown(self) -> None:
        """Stop timers, cancel a running generation and autosave (window closing)."""
        self.live_timer.stop()
        self.progress_timer.stop()
        self.caption_timer.stop()
        self._cancel.set()
        self.autosave_timer.stop()
        if self._dirty:
            self.autosave()
