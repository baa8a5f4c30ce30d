"""The interpolation panel: walk a line (or a 4-corner grid) through a model's latent and watch it decode.

View only. Torch work (encoding endpoints, decoding frames, norms) runs as tasks on the window's
``Engine`` thread through ``genviz.backend.interpolation``; results come back as numpy arrays. A
~30 Hz timer draws frames as they arrive (decoding is frame by frame, so a slow DDIM strip fills
in progressively) and the slider's live frame.

Endpoints A, B (and C, D for the grid) come from a seed (z_s = randn(latent_shape, seed s): the latent
``genviz sample CKPT --n 1 --seed s`` decodes), from clicking a model sample or a held-out real digit in
the picker, or from dropping an image file on the panel (VAE encoder / DDIM inversion).
"""
from __future__ import annotations

import math
import threading
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QComboBox, QFileDialog, QFormLayout, QGridLayout,
                               QGroupBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QRadioButton,
                               QSlider, QSpinBox, QSplitter, QStackedWidget, QTabWidget, QVBoxLayout, QWidget)

from ..widgets.caption import make_caption
from ..engine import Engine
from ..widgets.image_grid import PAD, ImageGrid

REFRESH_MS = 33
METHODS = ("lerp", "slerp", "rho")
METHOD_TITLES = {"lerp": "lerp", "slerp": "slerp", "rho": "z_ρ = ρ z₁ + √(1−ρ²) z₂"}
METHOD_COLORS = {"lerp": "#ff6b6b", "slerp": "#4fc3f7", "rho": "#ffd54f"}
CORNERS = "ABCD"
SCRUB_TICKS = 200
PICKER_N = 12
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def _uint8(unit: np.ndarray) -> np.ndarray:
    return (np.clip(unit, 0, 1) * 255 + 0.5).astype(np.uint8)


def tiled(images: np.ndarray, cols: int, pad: int = PAD, background=(38, 40, 46)) -> np.ndarray:
    """(N, C, H, W) uint8 -> one RGB mosaic with ``cols`` tiles per row (tile i at row i // cols)."""
    n, c, h, w = images.shape
    if c == 1:
        images = np.repeat(images, 3, axis=1)
    rows = max(1, math.ceil(n / cols))
    out = np.empty((rows * (h + pad) + pad, cols * (w + pad) + pad, 3), np.uint8)
    out[:] = np.asarray(background, np.uint8)
    for i in range(n):
        r, q = divmod(i, cols)
        y, x = pad + r * (h + pad), pad + q * (w + pad)
        out[y:y + h, x:x + w] = images[i, :3].transpose(1, 2, 0)
    return out


class TileView(ImageGrid):
    """An ``ImageGrid`` with a fixed number of columns (a strip when cols = N, a grid otherwise)."""

    def __init__(self, title: str, cols: int = 8, parent=None):
        self.cols = cols
        super().__init__(title, parent)

    def set_images(self, images, n=None, shape=None, message: str = "", cols: int | None = None) -> None:
        if cols is not None:
            self.cols = max(1, int(cols))
        if images is None:
            if n is None or shape is None:
                self.image.clear()
                self.highlight.hide()
                self._shape = None
                self.message.setText(message)
                return
            images = np.full((n, *shape), 60, np.uint8)
        m = tiled(images, self.cols)
        self.image.setImage(m, levels=(0, 255), autoLevels=False)
        self._shape = (images.shape[0], images.shape[2], images.shape[3])
        if m.shape != self._mosaic_shape:
            self._mosaic_shape = m.shape
            self._fit()
        self.message.setText(message)
        self.message.setPos(m.shape[1] / 2, m.shape[0] / 2)
        self.set_selected(self.selected)

    def tile_rect(self, i: int):
        if self._shape is None:
            return None
        n, h, w = self._shape
        r, c = divmod(i, self.cols)
        return QRectF(PAD + c * (w + PAD) - 1, PAD + r * (h + PAD) - 1, w + 2, h + 2)

    def tile_at(self, x: float, y: float):
        if self._shape is None or x < 0 or y < 0:
            return None
        n, h, w = self._shape
        c, r = int((x - PAD / 2) // (w + PAD)), int((y - PAD / 2) // (h + PAD))
        if c >= self.cols:
            return None
        i = r * self.cols + c
        return i if 0 <= i < n else None


class NormPlot(pg.PlotWidget):
    """‖z(t)‖ along lerp, slerp and z_ρ between A and B, the typical norm √d of N(0, I), and the slider."""

    def __init__(self, parent=None):
        super().__init__(parent=parent, background="#26282e")
        self.setTitle("latent norm ‖z(t)‖ along the path", color="#e8e8e8", size="10pt")
        self.setLabel("bottom", "t (A → B)")
        self.setLabel("left", "‖z‖")
        self.showGrid(x=True, y=True, alpha=0.2)
        self.addLegend(offset=(-8, -8), labelTextSize="9pt")
        self.setMouseEnabled(False, False)
        self.hideButtons()
        self.curves = {m: self.plot([], [], pen=pg.mkPen(METHOD_COLORS[m], width=2), name=METHOD_TITLES[m])
                       for m in METHODS}
        self.typical = pg.InfiniteLine(angle=0, pen=pg.mkPen("#9aa0aa", width=1, style=Qt.PenStyle.DashLine),
                                       label="√d", labelOpts={"color": "#9aa0aa", "position": 0.05})
        self.addItem(self.typical)
        self.typical.hide()
        self.cursor = pg.InfiniteLine(angle=90, pen=pg.mkPen("#e8e8e8", width=1))
        self.addItem(self.cursor)

    def set_profiles(self, profiles: dict | None, active: str = "slerp", typical: float | None = None) -> None:
        """``profiles``: {method: (K,) norms, "t": (K,)}; None clears. The active method is drawn thick."""
        for m, c in self.curves.items():
            if profiles is None:
                c.setData([], [])
            else:
                c.setData(profiles["t"], profiles[m])
                c.setPen(pg.mkPen(METHOD_COLORS[m], width=4 if m == active else 1.5))
        if typical:
            self.typical.setValue(typical)
            self.typical.show()
        else:
            self.typical.hide()

    def set_cursor(self, t: float) -> None:
        self.cursor.setValue(t)


class EndpointRow(QWidget):
    """One endpoint: a radio button (the endpoint a click in the picker sets), its description, a seed box."""

    seedChosen = Signal(int, int)  # corner index, seed

    def __init__(self, index: int, parent=None):
        super().__init__(parent)
        self.index = index
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.radio = QRadioButton(CORNERS[index])
        self.radio.setToolTip(f"clicking a sample or a real digit sets endpoint {CORNERS[index]}")
        self.seed = QSpinBox()
        self.seed.setRange(0, 2 ** 31 - 1)
        self.seed.setValue(index)
        self.seed.setToolTip("seed s: z_s = randn(latent_shape, seed s)")
        self.seed.setObjectName(f"seed_{CORNERS[index].lower()}")
        self.seed.valueChanged.connect(lambda v: self.seedChosen.emit(self.index, int(v)))
        self.desc = QLabel()
        self.desc.setMinimumWidth(70)
        self.desc.setStyleSheet("color: #c8ccd4;")
        lay.addWidget(self.radio)
        lay.addWidget(self.seed)
        lay.addWidget(self.desc, 1)


class InterpolationPanel(QWidget):
    """Strip, grid, scrub slider with a live frame, latent-norm plot, endpoint controls and picker.

    State (read by tests): ``endpoints`` (4 dicts ``{"kind": "seed", "seed": s}`` or ``{"kind": "image",
    "spec": path-or-mnist:K, "label": ...}``), ``status`` (idle, running, done, error), ``frames_unit``
    ((N, C, H, W) float32 in [0, 1] or None), ``grid_unit``, ``norms`` ((N,) ‖z‖ of the strip's frames),
    ``profiles`` (norms of all methods), ``live_unit`` (the slider's frame), ``error``.

    Signals:
        message(text, is_error): for the window's status bar.
    """

    message = Signal(str, bool)

    def __init__(self, engine: Engine, parent=None):
        super().__init__(parent)
        self.engine = engine
        self.loaded = None
        self.endpoints = [{"kind": "seed", "seed": i} for i in range(4)]
        self.status = "idle"
        self.error = None
        self.frames_unit = None
        self.grid_unit = None
        self.norms = None
        self.profiles = None
        self.typical = None
        self.live_unit = None
        self.live_t = 0.0
        self.space_desc = ""
        self._job = 0
        self._stop = threading.Event()
        self._partial = {}  # filled by the engine thread: {"strip": [...], "grid": [...], "n": ..., "done": ...}
        self._lock = threading.Lock()
        self._live_busy = False
        self._live_pending = None
        self._dirty = True
        self.setAcceptDrops(True)
        self._build()
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        self._set_enabled(False)

    # ---- layout ----------------------------------------------------------------------------------
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        self.stack = QStackedWidget()
        outer.addWidget(self.stack, 1)
        self.caption = make_caption()
        outer.addWidget(self.caption)
        self.notice = QLabel("Load a VAE, GAN or diffusion model to walk through its latent space.")
        self.notice.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet("font-size: 14pt; color: #9aa0aa;")
        self.stack.addWidget(self.notice)
        content = QWidget()
        self.stack.addWidget(content)
        lay = QHBoxLayout(content)
        lay.setContentsMargins(0, 0, 0, 0)

        controls = QWidget()
        controls.setFixedWidth(300)
        cl = QVBoxLayout(controls)
        cl.setContentsMargins(0, 0, 0, 0)
        box = QGroupBox("Path")
        form = QFormLayout(box)
        self.method_combo = QComboBox()
        self.method_combo.setObjectName("method")
        for m in METHODS:
            self.method_combo.addItem(METHOD_TITLES[m], m)
        self.method_combo.setCurrentIndex(METHODS.index("slerp"))
        self.method_combo.currentIndexChanged.connect(self._method_changed)
        form.addRow("Method", self.method_combo)
        self.frames_spin = QSpinBox()
        self.frames_spin.setObjectName("frames")
        self.frames_spin.setRange(2, 32)
        self.frames_spin.setValue(10)
        form.addRow("Frames", self.frames_spin)
        self.grid_check = QCheckBox("4-corner grid (A B / C D)")
        self.grid_check.setChecked(True)
        self.grid_spin = QSpinBox()
        self.grid_spin.setRange(2, 12)
        self.grid_spin.setValue(5)
        self.grid_spin.setToolTip("frames per side of the grid")
        gl = QHBoxLayout()
        gl.addWidget(self.grid_check)
        gl.addWidget(self.grid_spin)
        form.addRow(gl)
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(1, 1000)
        self.steps_spin.setValue(50)
        self.steps_spin.setToolTip("deterministic DDIM (η = 0) steps from x_T (diffusion models)")
        self.steps_label = QLabel("DDIM steps")
        form.addRow(self.steps_label, self.steps_spin)
        self.space_label = QLabel()
        self.space_label.setWordWrap(True)
        self.space_label.setStyleSheet("color: #9aa0aa;")
        form.addRow(self.space_label)
        cl.addWidget(box)

        ebox = QGroupBox("Endpoints")
        el = QVBoxLayout(ebox)
        self.corner_group = QButtonGroup(self)
        self.rows = []
        for i in range(4):
            row = EndpointRow(i)
            row.seedChosen.connect(self._seed_chosen)
            self.corner_group.addButton(row.radio, i)
            self.rows.append(row)
            el.addWidget(row)
        self.rows[0].radio.setChecked(True)
        hint = QLabel("Pick a seed, click a sample or real digit below, or drop an image file on the panel.")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #9aa0aa; font-size: 9pt;")
        el.addWidget(hint)
        cl.addWidget(ebox)

        self.picker_tabs = QTabWidget()
        self.samples_grid = TileView("model samples", cols=4)
        self.samples_grid.tileClicked.connect(self._sample_clicked)
        self.digits_grid = TileView("held-out digits", cols=4)
        self.digits_grid.tileClicked.connect(self._digit_clicked)
        sw = QWidget()
        sl = QVBoxLayout(sw)
        sl.setContentsMargins(0, 0, 0, 0)
        self.picker_seed = QSpinBox()
        self.picker_seed.setRange(0, 2 ** 31 - 1 - PICKER_N)
        self.picker_seed.setPrefix("seeds from ")
        self.picker_seed.setValue(100)
        self.picker_seed.valueChanged.connect(lambda _v: self.refresh_picker())
        sl.addWidget(self.picker_seed)
        sl.addWidget(self.samples_grid, 1)
        dw = QWidget()
        dl = QVBoxLayout(dw)
        dl.setContentsMargins(0, 0, 0, 0)
        self.digit_page = QSpinBox()
        self.digit_page.setRange(0, 99)
        self.digit_page.setPrefix("page ")
        self.digit_page.valueChanged.connect(lambda _v: self.refresh_digits())
        dl.addWidget(self.digit_page)
        dl.addWidget(self.digits_grid, 1)
        self.picker_tabs.addTab(sw, "Samples")
        self.picker_tabs.addTab(dw, "Real digits")
        cl.addWidget(self.picker_tabs, 1)

        bl = QGridLayout()
        self.run_btn = QPushButton("Interpolate")
        self.run_btn.setObjectName("interpolate")
        self.run_btn.clicked.connect(self.run)
        self.stop_btn = QPushButton("Stop")
        self.stop_btn.clicked.connect(self.cancel)
        self.png_btn = QPushButton("Export strip PNG…")
        self.png_btn.clicked.connect(self.export_png_dialog)
        self.gif_btn = QPushButton("Export GIF…")
        self.gif_btn.clicked.connect(self.export_gif_dialog)
        bl.addWidget(self.run_btn, 0, 0)
        bl.addWidget(self.stop_btn, 0, 1)
        bl.addWidget(self.png_btn, 1, 0)
        bl.addWidget(self.gif_btn, 1, 1)
        cl.addLayout(bl)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("%v / %m frames")
        cl.addWidget(self.progress)
        lay.addWidget(controls)

        right = QSplitter(Qt.Orientation.Vertical)
        top = QWidget()
        tl = QVBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        self.strip = TileView("strip A → B", cols=10)
        self.strip.tileClicked.connect(self._strip_clicked)
        tl.addWidget(self.strip, 1)
        self.info = QLabel("")
        self.info.setObjectName("info")
        self.info.setWordWrap(True)
        self.info.setStyleSheet("color: #c8ccd4;")
        tl.addWidget(self.info)
        right.addWidget(top)
        bottom = QSplitter(Qt.Orientation.Horizontal)
        self.grid_view = TileView("grid (Real-NVP 4 corners)", cols=5)
        self.grid_view.tileClicked.connect(self._grid_clicked)
        bottom.addWidget(self.grid_view)
        mid = QWidget()
        ml = QVBoxLayout(mid)
        ml.setContentsMargins(0, 0, 0, 0)
        self.live = TileView("t = 0.00", cols=1)
        ml.addWidget(self.live, 1)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("scrub")
        self.slider.setRange(0, SCRUB_TICKS)
        self.slider.valueChanged.connect(self._scrub)
        ml.addWidget(self.slider)
        bottom.addWidget(mid)
        self.norm_plot = NormPlot()
        bottom.addWidget(self.norm_plot)
        bottom.setSizes([380, 300, 380])
        right.addWidget(bottom)
        right.setSizes([230, 560])
        lay.addWidget(right, 1)

    def _set_enabled(self, on: bool) -> None:
        for w in (self.run_btn, self.png_btn, self.gif_btn, self.method_combo, self.frames_spin, self.slider):
            w.setEnabled(on)

    # ---- model -----------------------------------------------------------------------------------
    @property
    def model(self):
        return self.loaded.model if self.loaded else None

    def supported(self) -> bool:
        """An image model with a latent to walk: VAE, GAN, image diffusion model (DDIM latent), flow."""
        m = self.model
        return m is not None and getattr(m, "is_image", False) and "interpolation" in m.capabilities()

    def set_model(self, loaded) -> None:
        """Show a newly loaded model (a ``LoadedModel``); clears the previous walk."""
        self.cancel()
        self._job += 1  # results of earlier runs are dropped
        self.loaded = loaded
        self._corners = self._space_obj = None
        self.frames_unit = self.grid_unit = self.norms = self.profiles = self.live_unit = None
        self.status, self.error = "idle", None
        m = loaded.model
        for v in (self.strip, self.grid_view, self.live, self.samples_grid, self.digits_grid):
            v.set_images(None)
        self.norm_plot.set_profiles(None)
        if not self.supported():
            self.notice.setText(f"Interpolation walks the latent space of VAE, GAN and diffusion models on images.\n"
                                f"{m.name} is a {m.family} model: it has no latent to walk.")
            self.stack.setCurrentIndex(0)
            self._set_enabled(False)
            return
        self.stack.setCurrentIndex(1)
        is_diff = m.family == "diffusion"
        self.steps_spin.setVisible(is_diff)
        self.steps_label.setVisible(is_diff)
        if is_diff:
            self.steps_spin.setValue(int(m.default_sampler.get("steps", 50)))
        shape = getattr(m, "latent_shape", m.data_shape)
        self.space_label.setText(("DDIM latent x_T, decoded by deterministic DDIM (η = 0); real images enter by "
                                  "DDIM inversion." if is_diff else
                                  f"{m.family.upper()} latent z ∈ R^{'×'.join(map(str, shape))}"
                                  + ("; real images enter by the encoder (μ)." if m.family == "vae" else
                                     "; no encoder: endpoints from seeds or samples.")))
        self._set_enabled(True)
        self._update_rows()
        self.refresh_digits()
        self._dirty = True

    # ---- endpoints -------------------------------------------------------------------------------
    def active_corner(self) -> int:
        return max(0, self.corner_group.checkedId())

    def set_active_corner(self, i: int) -> None:
        self.rows[i].radio.setChecked(True)

    def set_endpoint(self, i: int, seed: int | None = None, image: str | None = None, label: str | None = None,
                     advance: bool = False) -> None:
        """Set endpoint ``i`` (0..3 = A..D) to a seed or an image (path or ``mnist:K``)."""
        if (seed is None) == (image is None):
            raise ValueError("give exactly one of seed or image")
        if seed is not None:
            self.endpoints[i] = {"kind": "seed", "seed": int(seed)}
            self.rows[i].seed.blockSignals(True)
            self.rows[i].seed.setValue(int(seed))
            self.rows[i].seed.blockSignals(False)
        else:
            self.endpoints[i] = {"kind": "image", "spec": str(image), "label": label or Path(str(image)).name}
        self._update_rows()
        if advance:
            self.set_active_corner((i + 1) % (4 if self.grid_check.isChecked() else 2))

    def set_endpoint_image_tensor(self, i: int, x, label: str, advance: bool = False) -> None:
        """Set endpoint ``i`` to an image already in model space, (1, *data_shape) (e.g. a sample picked in
        the chain panel; made on the engine thread). It enters through the encoder / DDIM inversion."""
        self.endpoints[i] = {"kind": "tensor", "x": x, "label": label}
        self._update_rows()
        if advance:
            self.set_active_corner((i + 1) % (4 if self.grid_check.isChecked() else 2))

    def _update_rows(self) -> None:
        for i, row in enumerate(self.rows):
            e = self.endpoints[i]
            row.desc.setText(f"z_{e['seed']}" if e["kind"] == "seed" else f"image: {e['label']}")
            row.seed.setEnabled(True)

    def _seed_chosen(self, i: int, seed: int) -> None:
        self.set_endpoint(i, seed=seed)

    def _sample_clicked(self, k: int) -> None:
        i = self.active_corner()
        self.set_endpoint(i, seed=self.picker_seed.value() + k, advance=True)
        self.message.emit(f"endpoint {CORNERS[i]} = sample seed {self.picker_seed.value() + k}", False)

    def digit_indices(self) -> list[int]:
        """Held-out digit indices shown on the current picker page: one of each class (the held-out
        split is ordered by class, 100 per class)."""
        p = self.digit_page.value()
        return [100 * c + p for c in range(10)]

    def _digit_clicked(self, k: int) -> None:
        i = self.active_corner()
        K = self.digit_indices()[k]
        self.set_endpoint(i, image=f"mnist:{K}", label=f"digit #{K}", advance=True)
        self.message.emit(f"endpoint {CORNERS[i]} = held-out digit #{K} (mnist:{K})", False)

    def dragEnterEvent(self, ev) -> None:  # noqa: N802
        urls = ev.mimeData().urls() if ev.mimeData().hasUrls() else []
        if urls and all(u.isLocalFile() and u.toLocalFile().lower().endswith(IMAGE_SUFFIXES) for u in urls):
            ev.acceptProposedAction()
        else:
            ev.ignore()  # checkpoints dropped here go on to the window

    def dropEvent(self, ev) -> None:  # noqa: N802
        paths = [u.toLocalFile() for u in ev.mimeData().urls() if u.isLocalFile()]
        if paths:
            ev.acceptProposedAction()
            self.drop_images(paths)

    def drop_images(self, paths: list[str]) -> None:
        """Dropped image files become endpoints, starting at the active one."""
        i = self.active_corner()
        for p in paths:
            self.set_endpoint(i, image=p, label=Path(p).name, advance=True)
            i = self.active_corner()
        self.message.emit(f"{len(paths)} image(s) set as endpoint(s); press Interpolate", False)

    # ---- engine tasks ------------------------------------------------------------------------------
    def _space(self):
        from genviz.backend.interpolation import latent_space
        m = self.model
        return latent_space(m, steps=self.steps_spin.value() if m.family == "diffusion" else None)

    @staticmethod
    def _corner(space, e):
        from genviz.backend.interpolation import endpoint_latent, load_image
        if e["kind"] == "seed":
            return endpoint_latent(space, seed=e["seed"])
        m = space.model
        if e["kind"] == "tensor":
            return endpoint_latent(space, image=e["x"])
        return endpoint_latent(space, image=load_image(e["spec"], m.data_shape, m.data_range, model=m))

    def run(self) -> bool:
        """Encode the endpoints and decode the strip (and the grid) on the engine thread."""
        if not self.supported():
            return False
        self.cancel()
        self._stop = threading.Event()
        stop = self._stop
        self._job += 1
        job = self._job
        method = self.method_combo.currentData()
        frames = self.frames_spin.value()
        side = self.grid_spin.value() if self.grid_check.isChecked() else 0
        eps = [dict(e) for e in self.endpoints]
        partial = {"strip": [], "grid": [], "n_strip": frames, "n_grid": side * side, "job": job}
        with self._lock:
            self._partial = partial
        self.status, self.error = "running", None
        self.frames_unit = self.grid_unit = None
        self.strip.set_images(None, n=frames, shape=self.model.data_shape, cols=frames)
        self.strip.set_title(f"strip A → B ({method}) — encoding endpoints…")
        self.info.setText("")
        if side:
            self.grid_view.set_images(None, n=side * side, shape=self.model.data_shape, cols=side)
        else:
            self.grid_view.set_images(None, message="grid off")
        self.progress.setRange(0, frames + side * side)
        self.progress.setValue(0)
        self._dirty = True

        def task():
            import torch
            from genviz.backend.interpolation import norm_profiles
            space = self._space()
            corners = [self._corner(space, e) for e in (eps if side else eps[:2])]
            z_a, z_b = corners[0], corners[1]
            prof = norm_profiles(z_a, z_b, 65)
            typical = math.sqrt(float(np.prod(space.latent_shape)))

            # decode frame by frame so the view fills in as frames arrive
            from genviz.backend.interpolation import grid as grid_path, path as line_path
            zs = line_path(z_a, z_b, method, frames)
            for i in range(frames):
                if stop.is_set():
                    raise InterruptedError("cancelled")
                img = space.decode(zs[i:i + 1])
                partial["strip"].append(_uint8(space.model.to_unit(img).numpy()))
            grid_z = None
            if side:
                grid_z = grid_path(*corners, method=method, rows=side, cols=side).flatten(0, 1)
                for i in range(side * side):
                    if stop.is_set():
                        raise InterruptedError("cancelled")
                    img = space.decode(grid_z[i:i + 1])
                    partial["grid"].append(_uint8(space.model.to_unit(img).numpy()))
            with torch.inference_mode():
                norms = zs.flatten(1).double().norm(dim=1).numpy()
            return {"job": job, "space": space, "corners": corners, "method": method, "profiles": prof,
                    "typical": typical, "norms": norms, "desc": space.describe(),
                    "strip": np.concatenate(partial["strip"]),
                    "grid": np.concatenate(partial["grid"]) if side else None, "side": side}

        self.engine.submit(task, self._run_done, lambda msg: self._run_failed(msg, job))
        return True

    def _run_done(self, res: dict) -> None:
        if res["job"] != self._job:
            return
        self._space_obj, self._corners, self._method = res["space"], res["corners"], res["method"]
        self.frames_unit = res["strip"].astype(np.float32) / 255.0
        self.grid_unit = res["grid"].astype(np.float32) / 255.0 if res["grid"] is not None else None
        self.norms, self.profiles, self.typical = res["norms"], res["profiles"], res["typical"]
        self.space_desc = res["desc"]
        self.status = "done"
        self._dirty = True
        self.norm_plot.set_profiles(self.profiles, self._method, self.typical)
        self.message.emit(f"interpolated {len(self.frames_unit)} frames ({self._method}, {self.space_desc})", False)
        self._scrub(self.slider.value())

    def _run_failed(self, msg: str, job: int | None = None) -> None:
        if job is not None and job != self._job:
            return  # a superseded run (cancelled when a new one started)
        if "cancelled" in msg:
            self.status = "idle"
            self._dirty = True
            return
        self.status, self.error = "error", msg
        self._dirty = True
        self.message.emit(f"interpolation failed: {msg}", True)

    def cancel(self) -> None:
        """Stop a running walk between two frames."""
        self._stop.set()

    # ---- slider: live frame -------------------------------------------------------------------------
    def _scrub(self, value: int) -> None:
        t = value / SCRUB_TICKS
        self.live_t = t
        self.norm_plot.set_cursor(t)
        n = self.frames_spin.value()
        self.strip.set_selected(int(round(t * (n - 1))))
        if getattr(self, "_corners", None) is None or self.status != "done":
            return
        if self._live_busy:
            self._live_pending = t
            return
        self._decode_live(t)

    def _decode_live(self, t: float) -> None:
        self._live_busy = True
        space, z_a, z_b, method = self._space_obj, self._corners[0], self._corners[1], self._method
        job = self._job

        def task():
            from genviz.backend.interpolation import point
            z = point(z_a, z_b, method, t)
            img = space.decode(z[None])
            return t, _uint8(space.model.to_unit(img).numpy()), float(z.flatten().norm())

        def done(res):
            self._live_busy = False
            if job != self._job:
                return  # the model or the path changed meanwhile
            tt, img, norm = res
            self.live_unit = img.astype(np.float32) / 255.0
            self.live.set_images(img, cols=1)
            self.live.set_title(f"t = {tt:.2f}, ‖z‖ = {norm:.2f}")
            if self._live_pending is not None:
                nxt, self._live_pending = self._live_pending, None
                if abs(nxt - tt) > 1e-9:
                    self._decode_live(nxt)

        def failed(msg):
            self._live_busy = False
            self.message.emit(f"could not decode the frame: {msg}", True)

        self.engine.submit(task, done, failed)

    def set_t(self, t: float) -> None:
        """Move the slider to path parameter t in [0, 1] (decodes that frame live)."""
        self.slider.setValue(int(round(t * SCRUB_TICKS)))

    def _strip_clicked(self, i: int) -> None:
        n = self.frames_spin.value()
        self.set_t(i / max(1, n - 1))

    def _grid_clicked(self, i: int) -> None:
        if self.grid_unit is not None and i < len(self.grid_unit):
            img = _uint8(self.grid_unit[i:i + 1])
            self.live.set_images(img, cols=1)
            side = int(round(math.sqrt(len(self.grid_unit))))
            r, c = divmod(i, side)
            self.live.set_title(f"φ = {90 * r / (side - 1):.0f}°, φ' = {90 * c / (side - 1):.0f}°")
            self.grid_view.set_selected(i)

    def _method_changed(self, _i: int) -> None:
        if self.profiles is not None:
            self.norm_plot.set_profiles(self.profiles, self.method_combo.currentData(), self.typical)

    # ---- picker ------------------------------------------------------------------------------------
    def refresh_picker(self) -> None:
        """Decode PICKER_N samples (seeds picker_seed ...) for the picker, on the engine thread."""
        if not self.supported():
            return
        base = self.picker_seed.value()

        def task():
            space = self._space()
            out = []
            for k in range(PICKER_N):
                img = space.decode(space.seed_latent(base + k)[None])
                out.append(_uint8(space.model.to_unit(img).numpy()))
            return base, np.concatenate(out)

        def done(res):
            b, imgs = res
            if b == self.picker_seed.value():
                self.samples_grid.set_images(imgs, cols=4)
                self.samples_grid.set_title(f"seeds {b}–{b + PICKER_N - 1}")

        self.engine.submit(task, done, lambda m: self.message.emit(f"picker: {m}", True))

    def refresh_digits(self) -> None:
        """Show PICKER_N held-out real digits (resources/mnist10k.npz) of the current page."""
        m = self.model
        if m is None or tuple(m.data_shape) != (1, 28, 28):
            self.digits_grid.set_images(None, message="real digits fit 1×28×28 models")
            return
        from genviz.backend.data import load_mnist  # numpy only
        imgs, _ = load_mnist("test")
        idx = self.digit_indices()
        self.digits_grid.set_images(imgs[idx][:, None], cols=4)
        self.digits_grid.set_title(f"held-out digits #{idx[0]}, #{idx[1]}, …")

    # ---- drawing -----------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Draw frames decoded so far (called by the timer)."""
        self.update_caption()
        with self._lock:
            p = self._partial
            ns, ng = len(p.get("strip", [])), len(p.get("grid", []))
        if self.status == "running":
            key = (ns, ng)
            if key != getattr(self, "_drawn_key", None):
                self._drawn_key = key
                n, side = p["n_strip"], int(round(math.sqrt(p["n_grid"])))
                shape = self.model.data_shape
                if ns:
                    imgs = np.concatenate(p["strip"][:ns] + [np.full((n - ns, *shape), 60, np.uint8)] * (n > ns))
                    self.strip.set_images(imgs, cols=n)
                    self.strip.set_title(f"strip A → B — decoding {ns}/{n}…")
                if ng:
                    imgs = np.concatenate(p["grid"][:ng] + [np.full((p["n_grid"] - ng, *shape), 60, np.uint8)]
                                          * (p["n_grid"] > ng))
                    self.grid_view.set_images(imgs, cols=side)
                self.progress.setValue(ns + ng)
            return
        if not self._dirty:
            return
        self._dirty = False
        if self.status == "done" and self.frames_unit is not None:
            n = len(self.frames_unit)
            self.strip.set_images(_uint8(self.frames_unit), cols=n)
            steps = np.sqrt(((np.diff(self.frames_unit.reshape(n, -1), axis=0)) ** 2).mean(1))
            self.strip.set_title(f"strip A → B: {self._method}, {n} frames")
            self.info.setText(f"{self.space_desc}. Along the strip ‖z‖ goes {self.norms.min():.2f}–{self.norms.max():.2f} "
                              f"(√d = {self.typical:.2f}); frame-to-frame RMS change: largest {steps.max():.3f}, "
                              f"median {np.median(steps):.3f}. Click a frame or drag the slider to scrub.")
            if self.grid_unit is not None:
                side = int(round(math.sqrt(len(self.grid_unit))))
                self.grid_view.set_images(_uint8(self.grid_unit), cols=side)
                what = {"rho": "Real-NVP 4 corners", "lerp": "bilinear", "slerp": "nested slerp"}[self._method]
                self.grid_view.set_title(f"grid {side}×{side}: {what}")
            self.progress.setValue(self.progress.maximum())
        elif self.status == "error":
            self.strip.set_images(None, message=f"error: {self.error}")
            self.strip.set_title("strip — failed")

    # ---- export ------------------------------------------------------------------------------------
    def export_png(self, path) -> Path:
        """Write the strip as one PNG (frames side by side, 3x nearest-neighbour). ValueError: nothing yet."""
        from genviz.backend.imaging import make_grid, save_png
        if self.frames_unit is None:
            raise ValueError("nothing to export yet: run an interpolation first")
        save_png(path, make_grid(self.frames_unit, nrow=len(self.frames_unit), scale=3))
        return Path(path)

    def export_gif(self, path, frame_ms: int = 80) -> int:
        """Write the walk A → B → A as a looping animated GIF; returns the number of frames."""
        from genviz.backend.imaging import save_gif
        if self.frames_unit is None:
            raise ValueError("nothing to export yet: run an interpolation first")
        from genviz.backend.imaging import make_grid
        frames = [make_grid(f[None], nrow=1, pad=0, scale=4) for f in self.frames_unit]
        seq = frames + frames[-2:0:-1]
        save_gif(path, seq, duration_ms=frame_ms, hold_last_ms=frame_ms)
        return len(seq)

    def export_png_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export strip", "genviz-interpolation.png", "PNG images (*.png)")
        if path:
            try:
                self.export_png(path)
                self.message.emit(f"saved {path}", False)
            except Exception as e:
                self.message.emit(f"export failed: {e}", True)

    def export_gif_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export walk GIF", "genviz-walk.gif", "GIF images (*.gif)")
        if path:
            try:
                n = self.export_gif(path)
                self.message.emit(f"saved {path} ({n} frames)", False)
            except Exception as e:
                self.message.emit(f"export failed: {e}", True)

    # ---- sessions and presets (genviz.gui.demo) ------------------------------------------------------
    def session_state(self) -> dict:
        """The walk as data: path settings, endpoints (seeds and image specs; a chain sample is saved as
        its seed-free description only and comes back as seed 0), slider position, picker page, and
        whether a walk had been decoded (restoring then decodes it again: same seeds, same pixels)."""
        eps = []
        for e in self.endpoints:
            if e["kind"] == "seed":
                eps.append({"seed": e["seed"]})
            elif e["kind"] == "image":
                eps.append({"image": e["spec"], "label": e["label"]})
            else:
                eps.append({"seed": 0, "was": e.get("label", "")})
        return {"method": self.method_combo.currentData(), "frames": self.frames_spin.value(),
                "grid": self.grid_check.isChecked(), "grid_side": self.grid_spin.value(),
                "ddim_steps": self.steps_spin.value(), "endpoints": eps, "t": self.live_t,
                "picker_seed": self.picker_seed.value(), "digit_page": self.digit_page.value(),
                "decoded": self.status == "done"}

    def restore_session(self, data: dict, on_done=None) -> None:
        """Set the controls and endpoints from ``session_state()``-style data (also a preset's ``state``);
        if it had been decoded (``decoded``), decode it again and move the slider to ``t``. ``on_done()``
        is called on the GUI thread when set up (after decoding, if any). Raises ValueError on bad data."""
        m = data.get("method", "slerp")
        if m not in METHODS:
            raise ValueError(f"unknown interpolation method {m!r}")
        self.method_combo.setCurrentIndex(METHODS.index(m))
        self.frames_spin.setValue(int(data.get("frames", self.frames_spin.value())))
        self.grid_check.setChecked(bool(data.get("grid", self.grid_check.isChecked())))
        self.grid_spin.setValue(int(data.get("grid_side", self.grid_spin.value())))
        if "ddim_steps" in data:
            self.steps_spin.setValue(int(data["ddim_steps"]))
        for i, e in enumerate(list(data.get("endpoints", []))[:4]):
            if "image" in e:
                self.set_endpoint(i, image=str(e["image"]), label=e.get("label"))
            else:
                self.set_endpoint(i, seed=int(e.get("seed", i)))
        self.picker_seed.setValue(int(data.get("picker_seed", self.picker_seed.value())))
        self.digit_page.setValue(int(data.get("digit_page", self.digit_page.value())))
        t = float(data.get("t", 0.0))
        if not (data.get("decoded") and self.run()):
            self.set_t(t)
            if on_done:
                on_done()
            return
        job = self._job
        poll = QTimer(self)
        poll.setInterval(50)

        def check():
            if self._job != job or self.status != "running":
                poll.stop()
                poll.deleteLater()
                if self._job == job and self.status == "done":
                    self.set_t(t)
                if on_done:
                    on_done()
        poll.timeout.connect(check)
        poll.start()

    def update_caption(self) -> None:
        """Say in plain words what the strip, slider and plot show (refresh timer)."""
        from ..captions import interpolation_caption
        self.caption.setText(interpolation_caption(self.status, self.method_combo.currentData(), self.live_t,
                                                   self.frames_spin.value(), self.grid_check.isChecked()))

    def advanced_controls(self) -> dict:
        """Controls presentation mode may hide."""
        return {"ddim_steps": self.steps_spin, "picker_seed": self.picker_seed}

    def done(self) -> bool:
        """True when no walk is running and nothing is queued on the engine."""
        return self.status in ("done", "error", "idle") and self.engine.pending() == 0 and not self._live_busy

    def shutdown(self) -> None:
        self.timer.stop()
        self.cancel()
