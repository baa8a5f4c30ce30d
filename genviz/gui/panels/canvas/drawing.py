"""The canvas panel's left column: tools (brush, eraser, fill, eyedropper, mask), brush size, ink level and the
colour palette, the 280 x 280 stroke canvas, undo/redo, clear, load an image or a real digit, and the autosave
line."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...widgets.stroke_canvas import StrokeCanvas
from .palette import PaletteBar

TOOLS = (("brush", "Brush", "B: paint ink"), ("eraser", "Eraser", "E: paint background"),
         ("fill", "Fill", "fill the touching region of similar colour with the brush colour"),
         ("eyedropper", "Pick", "eyedropper: take the brush colour from the drawing"),
         ("mask", "Mask", "M: mark pixels the model regenerates (masked editing)"), ("unmask", "Unmask", "erase the mask"))


def _edit_button(text: str) -> QToolButton:
    """A text tool button that fills its grid cell."""
    b = QToolButton()
    b.setText(text)
    b.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    return b


class DrawingColumn(QWidget):
    """Tools and the stroke canvas (``canvas``). The tool buttons, undo/redo/clear and the shortcuts act on the
    canvas directly; the panel connects the colour, load and real-digit buttons and the brush sliders."""

    def __init__(self, parent=None):
        super().__init__(parent)
        left = QVBoxLayout(self)
        left.setContentsMargins(0, 0, 0, 0)
        tools = QHBoxLayout()
        self.tool_group = QButtonGroup(self)
        self.tool_buttons: dict[str, QToolButton] = {}
        for key, text, tip in TOOLS:
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
        form.addRow("Brush size", self.size_slider)
        self.ink_slider = QSlider(Qt.Orientation.Horizontal)
        self.ink_slider.setRange(10, 100)
        self.ink_slider.setValue(100)
        self.ink_slider.setToolTip("ink level (grey) of the brush, % of full ink")
        inkrow = QHBoxLayout()
        inkrow.addWidget(self.ink_slider, 1)
        self.colour_btn = QPushButton("Colour…")
        self.colour_btn.setToolTip("brush colour (colour models only; grey models use the ink level)")
        self.colour_btn.setEnabled(False)
        inkrow.addWidget(self.colour_btn)
        form.addRow("Ink level", inkrow)
        self.palette = PaletteBar()
        self.palette.setToolTip("the data's common colours (colour models)")
        form.addRow("", self.palette)
        left.addLayout(form)
        self.canvas = StrokeCanvas()
        left.addWidget(self.canvas, 0, Qt.AlignmentFlag.AlignHCenter)
        edit = QGridLayout()
        # tool buttons, as in the tools row: as wide as their text (a push button is at least 80 px in Fusion), so
        # the three columns fit side by side on a 1280 px laptop with the checkpoint dock open
        self.undo_btn, self.redo_btn, self.clear_btn, self.clear_mask_btn = (
            _edit_button(t) for t in ("Undo", "Redo", "Clear", "Clear mask"))
        self.undo_btn.clicked.connect(self.canvas.undo)
        self.redo_btn.clicked.connect(self.canvas.redo)
        self.clear_btn.clicked.connect(lambda: self.canvas.clear())
        self.clear_mask_btn.clicked.connect(lambda: self.canvas.clear(mask_only=True))
        self.load_btn = QPushButton("Load image…")
        self.digit_spin = QSpinBox()
        self.digit_spin.setRange(0, 9999)
        self.digit_spin.setToolTip("index of a real MNIST digit in resources/mnist10k.npz")
        self.digit_btn = QPushButton("Real digit")
        self.digit_btn.setToolTip("put a real MNIST digit (resources/mnist10k.npz) on the canvas")
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
        self.canvas.changed.connect(self.update_undo_buttons)

    def install_shortcuts(self, owner: QWidget) -> None:
        """Ctrl+Z / Ctrl+Shift+Z (the platform's undo/redo keys) anywhere in ``owner``."""
        for seq, fn in ((QKeySequence.StandardKey.Undo, self.canvas.undo),
                        (QKeySequence.StandardKey.Redo, self.canvas.redo)):
            sc = QShortcut(seq, owner)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(fn)

    def set_tool(self, tool: str) -> None:
        """Choose the canvas tool ("brush", "eraser", "mask", "unmask")."""
        self.canvas.tool = tool
        self.tool_buttons[tool].setChecked(True)

    def update_undo_buttons(self) -> None:
        """Enable Undo/Redo as the canvas's stacks allow."""
        self.undo_btn.setEnabled(self.canvas.can_undo())
        self.redo_btn.setEnabled(self.canvas.can_redo())

    def ink_colour(self, colour: QColor | None, rgb_model: bool, black_on_white: bool | None = None) -> QColor:
        """The brush colour: ``colour`` scaled by the ink level for colour models, else a grey at the ink level
        (dark ink on a white canvas, light ink on a black one)."""
        level = self.ink_slider.value() / 100.0
        if colour is not None and rgb_model:
            return QColor(int(colour.red() * level), int(colour.green() * level), int(colour.blue() * level))
        if black_on_white is None:
            black_on_white = self.canvas.background == QColor(255, 255, 255)
        g = int(round(255 * (1 - level))) if black_on_white else int(round(255 * level))
        return QColor(g, g, g)
