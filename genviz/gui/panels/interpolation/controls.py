"""The interpolation panel's left column: path settings, endpoints, the picker, buttons and progress.

Plain widgets that emit what the user did; ``panel.InterpolationPanel`` keeps ``model.InterpolationState``
in step with them.
"""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...widgets.tile_view import TileView
from .settings import (
    CORNERS,
    DIGIT_PAGE_RANGE,
    FRAMES_RANGE,
    GRID_SIDE_RANGE,
    METHOD_TITLES,
    METHODS,
    PICKER_SEED_RANGE,
    SEED_MAX,
    STEPS_RANGE,
    WalkSettings,
)

HINT_STYLE = "color: #9aa0aa;"
PARTS = {"path_box": ("method_combo", "frames_spin", "grid_check", "grid_spin", "steps_spin", "steps_label",
                      "walk_space_combo", "walk_space_label", "space_label"),
         "endpoints_box": ("corner_group", "rows"),
         "picker": ("samples_grid", "digits_grid", "picker_seed", "digit_page"),
         "actions": ("run_btn", "stop_btn", "png_btn", "gif_btn", "progress")}
CONTROL_NAMES = tuple(n for names in PARTS.values() for n in names)


def _spin(lo: int, hi: int, value: int, name: str = "", tip: str = "", prefix: str = "") -> QSpinBox:
    s = QSpinBox()
    s.setRange(lo, hi)
    s.setValue(value)
    if name:
        s.setObjectName(name)
    if tip:
        s.setToolTip(tip)
    if prefix:
        s.setPrefix(prefix)
    return s


class PathBox(QGroupBox):
    """Method, frames, the 4-corner grid switch and side, DDIM steps, and a line about the latent."""

    def __init__(self, settings: WalkSettings, parent=None):
        super().__init__("Path", parent)
        form = QFormLayout(self)
        self.method_combo = QComboBox()
        self.method_combo.setObjectName("method")
        for m in METHODS:
            self.method_combo.addItem(METHOD_TITLES[m], m)
        self.method_combo.setCurrentIndex(METHODS.index(settings.method))
        form.addRow("Method", self.method_combo)
        self.frames_spin = _spin(*FRAMES_RANGE, settings.frames, "frames")
        form.addRow("Frames", self.frames_spin)
        self.grid_check = QCheckBox("4-corner grid (A B / C D)")
        self.grid_check.setChecked(settings.grid)
        self.grid_spin = _spin(*GRID_SIDE_RANGE, settings.grid_side, tip="frames per side of the grid")
        gl = QHBoxLayout()
        gl.addWidget(self.grid_check)
        gl.addWidget(self.grid_spin)
        form.addRow(gl)
        self.steps_spin = _spin(*STEPS_RANGE, settings.ddim_steps,
                                tip="deterministic DDIM (η = 0) steps from x_T (diffusion models)")
        self.steps_label = QLabel("DDIM steps")
        form.addRow(self.steps_label, self.steps_spin)
        self.walk_space_combo = QComboBox()  # a GLF's two spaces (genviz.backend.glf.GLFModel.walk_space)
        self.walk_space_combo.setObjectName("walk_space")
        self.walk_space_combo.addItem("noise ε: x = G(f⁻¹(ε))", "eps")
        self.walk_space_combo.addItem("latent z: x = G(z)", "z")
        self.walk_space_label = QLabel("Walk in")
        form.addRow(self.walk_space_label, self.walk_space_combo)
        self.space_label = QLabel()
        self.space_label.setWordWrap(True)
        self.space_label.setStyleSheet(HINT_STYLE)
        form.addRow(self.space_label)


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
        self.seed = _spin(0, SEED_MAX, index, f"seed_{CORNERS[index].lower()}",
                          "seed s: z_s = randn(latent_shape, seed s)")
        self.seed.valueChanged.connect(lambda v: self.seedChosen.emit(self.index, int(v)))
        self.desc = QLabel()
        self.desc.setMinimumWidth(70)
        self.desc.setStyleSheet("color: #c8ccd4;")
        lay.addWidget(self.radio)
        lay.addWidget(self.seed)
        lay.addWidget(self.desc, 1)

    def show_endpoint(self, text: str, seed: int | None) -> None:
        """Show an endpoint's description and, for a seed endpoint, its seed (without emitting)."""
        self.desc.setText(text)
        if seed is not None and self.seed.value() != seed:
            self.seed.blockSignals(True)
            self.seed.setValue(seed)
            self.seed.blockSignals(False)


class EndpointsBox(QGroupBox):
    """The four endpoint rows A, B, C, D; one radio button is the active endpoint."""

    def __init__(self, parent=None):
        super().__init__("Endpoints", parent)
        el = QVBoxLayout(self)
        self.corner_group = QButtonGroup(self)
        self.rows = []
        for i in range(4):
            row = EndpointRow(i)
            self.corner_group.addButton(row.radio, i)
            self.rows.append(row)
            el.addWidget(row)
        self.rows[0].radio.setChecked(True)
        hint = QLabel("Pick a seed, click a sample or real digit below, or drop an image file on the panel.")
        hint.setWordWrap(True)
        hint.setStyleSheet(HINT_STYLE + " font-size: 9pt;")
        el.addWidget(hint)


class PickerTabs(QTabWidget):
    """Model samples (a run of seeds) and held-out real digits (a page), each a clickable grid."""

    def __init__(self, settings: WalkSettings, parent=None):
        super().__init__(parent)
        self.samples_grid = TileView("model samples", cols=4)
        self.digits_grid = TileView("held-out digits", cols=4)
        self.picker_seed = _spin(*PICKER_SEED_RANGE, settings.picker_seed, prefix="seeds from ")
        self.digit_page = _spin(*DIGIT_PAGE_RANGE, settings.digit_page, prefix="page ")
        for title, spin, grid in (("Samples", self.picker_seed, self.samples_grid),
                                  ("Real digits", self.digit_page, self.digits_grid)):
            page = QWidget()
            lay = QVBoxLayout(page)
            lay.setContentsMargins(0, 0, 0, 0)
            lay.addWidget(spin)
            lay.addWidget(grid, 1)
            self.addTab(page, title)

    def show_digits(self, indices: list[int] | None) -> None:
        """Show these held-out MNIST digits (resources/mnist10k.npz); None: they do not fit the model."""
        if indices is None:
            self.digits_grid.set_images(None, message="real digits fit 1×28×28 models")
            return
        from genviz.backend.data import load_mnist  # numpy only (genviz.backend imports torch: not at import time)
        imgs, _ = load_mnist("test")
        self.digits_grid.set_images(imgs[indices][:, None], cols=4)
        self.digits_grid.set_title(f"held-out digits #{indices[0]}, #{indices[1]}, …")


class ActionBar(QWidget):
    """Interpolate, Stop, the two exports and the progress bar."""

    def __init__(self, parent=None):
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        bl = QGridLayout()
        self.run_btn = QPushButton("Interpolate")
        self.run_btn.setObjectName("interpolate")
        self.stop_btn = QPushButton("Stop")
        self.png_btn = QPushButton("Export strip PNG…")
        self.gif_btn = QPushButton("Export GIF…")
        for k, b in enumerate((self.run_btn, self.stop_btn, self.png_btn, self.gif_btn)):
            bl.addWidget(b, k // 2, k % 2)
        outer.addLayout(bl)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("%v / %m frames")
        outer.addWidget(self.progress)


class ControlColumn(QWidget):
    """The left column (300 px): path, endpoints, picker, buttons. Its widgets are also attributes of the
    column by the names in ``CONTROL_NAMES``."""

    def __init__(self, settings: WalkSettings, parent=None):
        super().__init__(parent)
        self.setFixedWidth(300)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.path_box, self.endpoints_box = PathBox(settings), EndpointsBox()
        self.picker, self.actions = PickerTabs(settings), ActionBar()
        lay.addWidget(self.path_box)
        lay.addWidget(self.endpoints_box)
        lay.addWidget(self.picker, 1)
        lay.addWidget(self.actions)
        for part, names in PARTS.items():
            for name in names:
                setattr(self, name, getattr(getattr(self, part), name))

    def show_settings(self, s: WalkSettings) -> None:
        """Copy ``s`` into the widgets (without their change signals)."""
        for w, set_value in ((self.method_combo, lambda: self.method_combo.setCurrentIndex(METHODS.index(s.method))),
                             (self.frames_spin, lambda: self.frames_spin.setValue(s.frames)),
                             (self.grid_check, lambda: self.grid_check.setChecked(s.grid)),
                             (self.grid_spin, lambda: self.grid_spin.setValue(s.grid_side)),
                             (self.steps_spin, lambda: self.steps_spin.setValue(s.ddim_steps)),
                             (self.picker_seed, lambda: self.picker_seed.setValue(s.picker_seed)),
                             (self.digit_page, lambda: self.digit_page.setValue(s.digit_page))):
            w.blockSignals(True)
            set_value()
            w.blockSignals(False)
