"""Demo mode for people who do not program: presets, a start page, presentation mode and saved sessions.

``DemoController(window)`` adds to a ``MainWindow``:

- a **Start** page and a **Demos** menu with one-click presets (``genviz.presets``: data files in
  ``resources/presets/``), and *Next preset* (N);
- **presentation mode** (F11; Esc leaves; ``genviz.gui.presentation``): full screen, larger text, the controls named in
  ``resources/presentation.json`` hidden (and shown again on exit), chains in slow motion;
- **File → Save session / Open session**: one ``.genviz`` JSON file with the checkpoint, the shown panel and
  every panel's state (controls, seeds, branches, drawing, chain position). Opening it rebuilds the same
  images at the same step (seeds fix every noise draw).

Every panel in ``genviz.panels.PANELS`` takes part through the panel protocol: ``session_state() -> dict``,
``restore_session(data, on_done)``, ``run()`` (a preset that runs), ``advanced_controls() -> {name: widget}``
(what presentation mode may hide) and ``set_presenting(on, scale)`` (presentation mode's sizes).
"""
from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QIcon, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ..presets import PresetError, list_presets
from ..sessions import SESSION_FORMAT, SESSION_VERSION
from .presentation import HINT, Presenter
from .thumbnails import THUMB_SIZE, thumbnail_path
from .widgets.overlay import BusyOverlay

SESSION_FILTER = "genviz sessions (*.genviz);;All files (*)"


class StartPage(QWidget):
    """One big button per preset: a thumbnail of its result (when rendered), its title and what it shows in plain
    words."""

    def __init__(self, presets: list[dict], choose, parent=None):
        super().__init__(parent)
        outer = QVBoxLayout(self)
        head = QLabel("<h1>genviz</h1><p style='font-size:13pt'>Watch generative models work. "
                      "Pick a demo to start — each one sets up a model, a view and its settings.</p>")
        head.setWordWrap(True)
        outer.addWidget(head)
        area = QScrollArea()
        area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        area.setWidgetResizable(True)
        inner = QWidget()
        grid = QGridLayout(inner)
        self.buttons = {}
        for i, p in enumerate(presets):
            # QPushButton does not wrap: the description is wrapped by hand at ~60 characters
            thumb = thumbnail_path(p["name"])
            width = 30 if thumb.exists() else 60  # characters per line: the card's text beside its thumbnail
            b = QPushButton(_wrap(p["title"], width) + "\n\n" + _wrap(p["description"], width))
            b.setObjectName(f"preset_{p['name']}")
            b.setToolTip(f"open this demo ({p['name']}: {p['checkpoint']}, {p['panel']} panel)")
            b.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
            b.setMinimumHeight(120)
            b.setStyleSheet("QPushButton { text-align: left; padding: 12px; font-size: 12pt; }")
            if thumb.exists():  # the preset's own result (genviz presets --thumbnails)
                b.setIcon(QIcon(str(thumb)))
                b.setIconSize(QSize(*THUMB_SIZE) / 2)
            b.setMinimumHeight(max(120, b.sizeHint().height()))  # the whole text shows (the page scrolls)
            b.clicked.connect(lambda _=False, p=p: choose(p))
            grid.addWidget(b, i // 2, i % 2)
            self.buttons[p["name"]] = b
        area.setWidget(inner)
        outer.addWidget(area, 1)


def _wrap(text: str, width: int) -> str:
    import textwrap
    return "\n".join(textwrap.wrap(text, width))


class DemoController:
    """Presets, presentation mode and sessions for ``window`` (a ``MainWindow``)."""

    def __init__(self, window):
        self.w = window
        self.presets = list_presets()
        self.preset_index = -1
        self.presenting = False
        self.presenter = Presenter(self)
        self.start_page = StartPage(self.presets, self.apply_preset)
        window.tabs.insertTab(0, self.start_page, "Start")
        # switching demos takes seconds (a checkpoint load, a chain rebuilt): say so over the panels until ready
        self.overlay = BusyOverlay(window.tabs)
        self._setting_up: str | None = None  # the preset being set up
        window.loadFailed.connect(lambda _msg: self._setup_ended())
        for panel in window.panels().values():
            panel.message.connect(lambda text, error: error and self._setup_ended())
        self._build_menus()

    # ---- menus and keys ----------------------------------------------------------------------------
    def _build_menus(self) -> None:
        w = self.w
        fm = w.file_menu
        first = fm.actions()[0] if fm.actions() else None
        save = QAction("&Save session…", w)
        save.setShortcut(QKeySequence.StandardKey.Save)
        save.triggered.connect(self.save_session_dialog)
        opn = QAction("Open &session…", w)
        opn.setShortcut(QKeySequence("Ctrl+Shift+O"))
        opn.triggered.connect(self.open_session_dialog)
        fm.insertActions(first, [opn, save])
        fm.insertSeparator(first)
        dm = w.menuBar().addMenu("De&mos")
        dm.addAction("Start page", lambda: w.tabs.setCurrentWidget(self.start_page))
        dm.addSeparator()
        for p in self.presets:
            dm.addAction(p["title"], lambda p=p: self.apply_preset(p))
        dm.addSeparator()
        nxt = dm.addAction("Next preset", self.next_preset)
        nxt.setShortcut(QKeySequence(Qt.Key.Key_N))
        self.present_action = dm.addAction("Presentation mode")
        self.present_action.setCheckable(True)
        self.present_action.setShortcut(QKeySequence(Qt.Key.Key_F11))
        self.present_action.toggled.connect(self.set_presenting)
        self._esc = QShortcut(QKeySequence(Qt.Key.Key_Escape), w, lambda: self.present_action.setChecked(False))
        self.menu = dm

    # ---- presets -----------------------------------------------------------------------------------
    def preset(self, name: str) -> dict:
        """The preset ``name``. Raises ``PresetError``."""
        for p in self.presets:
            if p["name"] == name:
                return p
        raise PresetError(f"unknown preset {name!r}; available: {', '.join(p['name'] for p in self.presets)}")

    def next_preset(self) -> None:
        """Open the preset after the last one opened (wraps around)."""
        if self.presets:
            self.apply_preset(self.presets[(self.preset_index + 1) % len(self.presets)])

    def apply_preset(self, preset: dict, on_done=None) -> None:
        """Load the preset's checkpoint (unless it is loaded), show its panel, restore its state, and run it
        when it says so. ``on_done()`` is called when the preset is set up (and, if it runs, started). Until then
        an overlay over the panels and the status bar say what is happening (loading, setting up)."""
        self.preset_index = next((i for i, p in enumerate(self.presets) if p["name"] == preset["name"]),
                                 self.preset_index)
        loaded = self.w.loaded is not None and self.w.loaded_source == preset["checkpoint"]
        self._progress(preset, f"Loading {preset['checkpoint']}…" if not loaded else "Setting up the demo…")

        def ready() -> None:
            self.w.set_panel(preset["panel"])
            panel = self.w.panels()[preset["panel"]]
            self._progress(preset, "Setting up the demo…")

            def restored() -> None:
                self._setup_ended()
                if preset.get("run"):
                    panel.run()
                self.w.show_message(f"demo: {preset['title']}")
                if on_done:
                    on_done()
            try:
                panel.restore_session(preset["state"], restored)
            except Exception as e:  # a preset that does not fit: say so, keep the app
                self._setup_ended()
                self.w.show_message(f"preset {preset['name']}: {e}", True)

        self._with_checkpoint(preset["checkpoint"], ready)
        if not loaded and self._setting_up == preset["name"]:  # after the window's own "loading …" line
            self._progress(preset, f"Loading {preset['checkpoint']}…")

    def _progress(self, preset: dict, step: str) -> None:
        self._setting_up = preset["name"]
        self.overlay.show_text(f"{step}\n\n{preset['title']}")
        self.w.show_message(f"{step} (demo: {preset['title']})")

    def _setup_ended(self) -> None:
        self._setting_up = None
        self.overlay.hide()

    def setting_up(self) -> str | None:
        """The name of the preset being set up (None when none is)."""
        return self._setting_up

    def _with_checkpoint(self, name: str, then) -> None:
        ld = self.w.loaded
        if ld is not None and self.w.loaded_source == name:
            then()
            return

        def loaded(_ld):
            done()
            then()

        def done(*_):  # one answer per request: a failed load must not leave `then` for the next load
            self.w.modelLoaded.disconnect(loaded)
            self.w.loadFailed.disconnect(done)
        self.w.modelLoaded.connect(loaded)
        self.w.loadFailed.connect(done)
        self.w.load(name, autorun=False)

    # ---- presentation mode -------------------------------------------------------------------------
    def hidable(self) -> dict:
        """Every control presentation mode may hide, by name (``"checkpoints"``, ``"PANEL.CONTROL"``); a value is
        a widget or a list of widgets hidden together."""
        out = {"checkpoints": self.w.dock}
        for pname, panel in self.w.panels().items():
            out.update({f"{pname}.{k}": v for k, v in panel.advanced_controls().items()})
        return out

    def set_presenting(self, on: bool) -> None:
        """Enter or leave presentation mode (``genviz.gui.presentation``: full screen, larger text everywhere,
        configured controls hidden, slow chains; leaving restores every setting)."""
        if on == self.presenting:
            return
        if on:
            self.presenter.enter()
        else:
            self.presenter.leave()
        self.presenting = on
        if self.present_action.isChecked() != on:
            self.present_action.setChecked(on)
        self.w.show_message(HINT if on else "presentation mode off")

    # ---- sessions ----------------------------------------------------------------------------------
    def session_dict(self) -> dict:
        """The whole setup as JSON-ready data (see module docstring)."""
        w = self.w
        if w.loaded is None:
            raise ValueError("no model loaded: nothing to save")
        panels = {name: p.session_state() for name, p in w.panels().items()}
        return {"format": SESSION_FORMAT, "version": SESSION_VERSION, "checkpoint": w.loaded_source,
                "model": w.loaded.model.name, "device": w.device_choice, "panel": w.current_panel(),
                "panels": panels}

    def save_session(self, path: str | Path) -> Path:
        """Write ``session_dict()`` to ``path`` (``.genviz`` added when missing)."""
        path = Path(path)
        if path.suffix != ".genviz":
            path = path.with_suffix(".genviz")
        tmp = path.with_name(path.name + ".tmp")  # atomically: a failed write never leaves half a session
        tmp.write_text(json.dumps(self.session_dict(), indent=2))
        tmp.replace(path)
        return path

    @staticmethod
    def read_session(path: str | Path) -> dict:
        """Read and check a session file against the one schema (``genviz.sessions.read_session_file``: size, depth,
        types, ranges, known panels and samplers, branches). Raises ``ValueError`` with a message naming the file."""
        from ..sessions import read_session_file
        return read_session_file(path)

    def open_session(self, path: str | Path, on_done=None) -> None:
        """Restore a saved session: load its checkpoint, restore every panel, show its panel. The file is checked
        whole first (``read_session``: ValueError, and the app keeps its current state); a panel that still refuses
        its state says so in the status bar and the others go on (``on_done`` is always called)."""
        data = self.read_session(path)
        pending = [name for name in self.w.panels() if name in data["panels"]]

        def ready() -> None:
            left = set(pending)

            def one_done(name=None):
                left.discard(name)
                if not left:
                    self.w.set_panel(data.get("panel", "chain"))
                    self.w.show_message(f"session restored from {Path(path).name}")
                    if on_done:
                        on_done()
            if not pending:
                one_done()
            for name in pending:
                try:
                    self.w.panels()[name].restore_session(data["panels"][name], lambda n=name: one_done(n))
                except Exception as e:  # a state that does not fit this model: say so, keep the app
                    self.w.show_message(f"session {Path(path).name}: {name} panel: {e}", True)
                    one_done(name)

        self._with_checkpoint(data["checkpoint"], ready)

    def save_session_dialog(self) -> None:
        """File → Save session…"""
        path, _ = QFileDialog.getSaveFileName(self.w, "Save session", "demo.genviz", SESSION_FILTER)
        if path:
            try:
                p = self.save_session(path)
                self.w.show_message(f"saved session {p}")
            except Exception as e:
                self.w.show_message(f"could not save the session: {e}", True)

    def open_session_dialog(self) -> None:
        """File → Open session…"""
        path, _ = QFileDialog.getOpenFileName(self.w, "Open session", "", SESSION_FILTER)
        if path:
            try:
                self.open_session(path)
            except Exception as e:
                self.w.show_message(f"could not open the session: {e}", True)
