"""The main window: checkpoint browser dock, panel tabs, menus, status bar, drag-and-drop."""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QEvent, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QDockWidget, QFileDialog, QFrame, QLabel, QMainWindow, QScrollArea, QTabWidget

from ..panels import PANELS, get_panel
from .chain_runner import LoadedModel, list_bundled, load_model
from .demo import DemoController
from .engine import Engine
from .panels.checkpoints import CheckpointBrowser

CHECKPOINT_FILTER = "Checkpoints (*.safetensors *.pt *.pth *.ckpt);;All files (*)"
MAX_RECENT = 8
ERROR_STYLE = "color: #ff6b6b; font-weight: bold;"


class _Page(QScrollArea):
    """A tab's page: the panel fills the page and scrolls only where the page is smaller than the panel's minimum
    size. (QScrollArea's own widgetResizable sizes a panel with word-wrapped captions by height-for-width, which
    is its preferred height, and so scrolled panels that would have fitted.) A panel with a ``reflow(width)``
    method is told the page's width first, so it can rearrange its columns to fit (the canvas panel)."""

    def __init__(self, panel):
        super().__init__()
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWidget(panel)
        panel.installEventFilter(self)

    def fit(self) -> None:
        w, vp = self.widget(), self.viewport().size()
        if w is not None:
            if callable(getattr(w, "reflow", None)):
                w.reflow(vp.width())
            m = w.minimumSizeHint().expandedTo(w.minimumSize())
            w.resize(max(vp.width(), m.width()), max(vp.height(), m.height()))

    def resizeEvent(self, ev) -> None:
        super().resizeEvent(ev)
        self.fit()

    def eventFilter(self, obj, ev) -> bool:
        if ev.type() == QEvent.Type.LayoutRequest:  # the panel's minimum may have changed
            self.fit()
        return False


class MainWindow(QMainWindow):
    """genviz's main window.

    All torch work runs on one ``Engine`` thread owned by the window; ``closeEvent`` stops it (and
    waits) before the window goes away.

    Signals:
        modelLoaded(LoadedModel): a checkpoint was loaded and is shown.
        loadFailed(str): a load failed (the previous model stays).
        closed(): the window was closed and its engine stopped.
    """

    modelLoaded = Signal(object)
    loadFailed = Signal(str)
    closed = Signal()

    def __init__(self, device: str = "auto", parent=None):
        super().__init__(parent)
        self.setWindowTitle("genviz")
        self.resize(1440, 900)
        self.setAcceptDrops(True)
        self.device_choice = device
        self.autorun = False  # run the default action after every load (the app does; tests do not)
        self.loaded: LoadedModel | None = None
        self.loaded_source: str | None = None  # the name or path the loaded model came from
        self.loading = False
        self._closing = False
        self.engine = Engine(self)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self._panels: dict = {}
        self._pages: dict = {}
        for spec in PANELS:  # the one list of panels (genviz.panels)
            panel = spec.widget_class()(self.engine)
            panel.message.connect(self.show_message)
            self._panels[spec.key] = panel
            # each tab scrolls rather than widening the window: a tab's minimum size is otherwise the largest
            # panel's, and the window grew (1,463 px with the canvas) whatever the screen
            page = _Page(panel)
            self._pages[spec.key] = page
            self.tabs.addTab(page, spec.title)
        self.engine.stepper = self.chain_panel.runner
        self.density_panel.modelTrained.connect(self._trained_live)
        self.setCentralWidget(self.tabs)

        self.browser = CheckpointBrowser()
        self.browser.loadRequested.connect(self.load)
        self.browser.openRequested.connect(self.open_file_dialog)
        self.browser.refreshRequested.connect(self.refresh_checkpoints)
        dock = QDockWidget("Checkpoints", self)
        dock.setObjectName("checkpoints_dock")
        dock.setWidget(self.browser)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        dock.setMinimumWidth(330)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        self.resizeDocks([dock], [340], Qt.Orientation.Horizontal)
        self.dock = dock

        sb = self.statusBar()
        self.msg_label = QLabel("starting…")
        self.ckpt_label = QLabel("no model")
        self.device_label = QLabel(f"device: {device}")
        self.speed_label = QLabel("")
        self.speed_label.setMinimumWidth(90)
        sb.addWidget(self.msg_label, 1)
        for w in (self.ckpt_label, self.device_label, self.speed_label):
            sb.addPermanentWidget(w)
        self._build_menus()
        from .remote_connect import RemoteController
        self.remote = RemoteController(self)  # File ▸ Connect to server… (genviz.remote)
        self.demo = DemoController(self)
        self.speed_timer = QTimer(self)
        self.speed_timer.setInterval(250)
        self.speed_timer.timeout.connect(self._update_speed)
        self.speed_timer.start()
        self.engine.start()
        self.refresh_checkpoints()

    # ---- menus -----------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        mb = self.menuBar()
        fm = mb.addMenu("&File")
        self.file_menu = fm
        a = fm.addAction("&Open checkpoint file…", self.open_file_dialog)
        a.setShortcut(QKeySequence.StandardKey.Open)
        fm.addAction("Open &diffusers folder…", self.open_folder_dialog)
        self.recent_menu = fm.addMenu("&Recent files")
        self._update_recent_menu()
        fm.addSeparator()
        fm.addAction("Export &grid PNG (x_t)…", lambda: self.export_grid_dialog("x"))
        fm.addAction("Export x̂₀ grid PNG…", lambda: self.export_grid_dialog("x0"))
        fm.addAction("Export chain &GIF…", self.export_gif_dialog)
        fm.addSeparator()
        q = fm.addAction("&Quit", self.close)
        q.setShortcut(QKeySequence.StandardKey.Quit)
        self.device_menu = mb.addMenu("&Device")
        self.device_group = QActionGroup(self)
        self.device_group.setExclusive(True)
        self._set_device_choices(["auto", "cpu"])
        im = mb.addMenu("&Interpolation")
        im.addAction("Use the chain's selected sample as endpoint", self.chain_sample_to_endpoint)
        vm = mb.addMenu("&View")
        vm.addAction(self.dock.toggleViewAction())

    def _set_device_choices(self, devices) -> None:
        for a in list(self.device_group.actions()):
            self.device_group.removeAction(a)
            self.device_menu.removeAction(a)
        for d in devices:
            a = QAction(d, self, checkable=True)
            a.setChecked(d == self.device_choice)
            a.triggered.connect(lambda _=False, d=d: self.set_device(d))
            self.device_group.addAction(a)
            self.device_menu.addAction(a)

    # ---- recent files ----------------------------------------------------------------------------
    @staticmethod
    def settings() -> QSettings:
        """The app's persistent settings (organisation "genviz")."""
        return QSettings("genviz", "genviz")

    def recent_files(self) -> list[str]:
        """Recently opened checkpoint paths, newest first."""
        v = self.settings().value("recent", [])
        if isinstance(v, str):
            v = [v]
        return [str(x) for x in (v or [])]

    def _add_recent(self, path: str) -> None:
        items = [path] + [p for p in self.recent_files() if p != path]
        self.settings().setValue("recent", items[:MAX_RECENT])
        self._update_recent_menu()

    def _update_recent_menu(self) -> None:
        self.recent_menu.clear()
        items = self.recent_files()
        for p in items:
            self.recent_menu.addAction(p, lambda p=p: self.load(p))
        if not items:
            a = self.recent_menu.addAction("(none)")
            a.setEnabled(False)

    # ---- loading ---------------------------------------------------------------------------------
    def refresh_checkpoints(self) -> None:
        """Re-read the bundled checkpoints (on the engine thread)."""
        if self.remote.connected:
            return self.remote.refresh()
        self.engine.submit(list_bundled, self.browser.set_checkpoints,
                           lambda m: self.show_message(f"could not list checkpoints: {m}", True))

    def load(self, name_or_path: str, device: str | None = None, autorun: bool | None = None) -> None:
        """Load a checkpoint in the background; on failure the previous model stays.

        ``autorun`` overrides ``self.autorun`` (run the panel's default action after this load) once."""
        if self.remote.connected:
            return self.remote.load(name_or_path, autorun)
        device = device or self.device_choice
        self._autorun_once = autorun
        runner = self.chain_panel.runner
        self.loading = True
        self.show_message(f"loading {name_or_path} on {device}…")

        def task():
            ld = load_model(name_or_path, device)
            runner.set_model(ld)  # on the engine thread: no step can run concurrently
            return ld

        self.engine.submit(task, lambda ld: self._loaded(ld, name_or_path), self._load_failed)

    def _loaded(self, ld: LoadedModel, source: str) -> None:
        self.loading = False
        self.loaded = ld
        self.loaded_source = source
        m = ld.model
        self.setWindowTitle(f"genviz — {m.name}")
        self.ckpt_label.setText(f"checkpoint: <b>{m.name}</b>")
        self.device_label.setText(f"device: <b>{m.device}</b>")
        self._set_device_choices(ld.devices)
        self.browser.set_model(ld)
        for panel in self._panels.values():
            panel.set_model(ld)
        autorun = self.autorun if getattr(self, "_autorun_once", None) is None else self._autorun_once
        self._autorun_once = None
        if not (autorun and self.run_default_action(batch=self.chain_panel.batch_spin.value())):
            self.chain_panel.reset()
        if os.sep in source or Path(source).suffix:
            self._add_recent(str(Path(source).resolve()))
        self.show_message(f"loaded {m.name} ({m.family}, {m.dataset}) on {m.device}"
                          + (f" — {ld.note}" if ld.note else ""))
        self.modelLoaded.emit(ld)

    def _trained_live(self, model) -> None:
        """A model trained live in the density lab: the dock and the status bar say it is the one shown there."""
        from ..backend.samplers import samplers_for
        ld = LoadedModel(model, None, samplers_for(model), self.loaded.devices if self.loaded else ["auto", "cpu"],
                         "trained live in the density lab (not saved)")
        self.browser.set_model(ld)
        self.ckpt_label.setText(f"checkpoint: <b>{model.name}</b> (trained live)")
        self.show_message(f"trained {model.name} live: shown in the Density panel (not saved to disk)")

    def _load_failed(self, msg: str) -> None:
        self.loading = False
        self.show_message(f"could not load: {msg}", True)
        self.loadFailed.emit(msg)

    def open_file_dialog(self) -> None:
        """File → Open checkpoint file…"""
        path, _ = QFileDialog.getOpenFileName(self, "Open checkpoint", "", CHECKPOINT_FILTER)
        if path:
            self.load(path)

    def open_folder_dialog(self) -> None:
        """File → Open diffusers folder…"""
        path = QFileDialog.getExistingDirectory(self, "Open diffusers model folder")
        if path:
            self.load(path)

    # ---- device ----------------------------------------------------------------------------------
    def set_device(self, device: str) -> None:
        """Switch device: pause the chain, move the model on the engine thread, then go on."""
        self.device_choice = device
        for a in self.device_group.actions():
            a.setChecked(a.text() == device)
        if self.loaded is None:
            self.device_label.setText(f"device: {device}")
            return
        state = self.chain_panel.state
        was_running = state.running
        state.set_running(False)
        self.show_message(f"moving the model to {device}…")

        def moved(dev: str) -> None:
            self.device_label.setText(f"device: <b>{dev}</b>")
            self.show_message(f"model on {dev}" + (": the chain goes on" if was_running else ""))
            if was_running and state.set_running(True):
                self.engine.wake()

        def failed(msg: str) -> None:
            self.show_message(f"could not move to {device}: {msg}", True)
            if was_running and state.set_running(True):
                self.engine.wake()

        self.engine.submit(lambda: self.chain_panel.runner.move(device), moved, failed)

    # ---- panels, messages, default action ---------------------------------------------------------
    def panels(self) -> dict:
        """The panel widgets by key, in tab order (``genviz.panels.PANELS``)."""
        return dict(self._panels)

    def __getattr__(self, name: str):
        # ``window.chain_panel`` etc.: the panel registered under that key
        if name.endswith("_panel") and "_panels" in self.__dict__:
            key = name[:-len("_panel")]
            if key in self.__dict__["_panels"]:
                return self.__dict__["_panels"][key]
        raise AttributeError(name)

    def set_panel(self, name: str) -> None:
        """Show the panel ``name`` (chain, interpolation, density, canvas; ``start`` for the start page)."""
        if name == "start":
            self.tabs.setCurrentWidget(self.demo.start_page)
            return
        get_panel(name)  # ValueError for an unknown key
        self.tabs.setCurrentWidget(self._pages[name])

    def current_panel(self) -> str:
        """Name of the shown panel (``start`` for the start page)."""
        current = self.tabs.currentWidget()
        return next((k for k, w in self._pages.items() if w is current), "start")

    def show_message(self, text: str, error: bool = False) -> None:
        """Show ``text`` in the status bar (red when ``error``)."""
        self.msg_label.setStyleSheet(ERROR_STYLE if error else "")
        self.msg_label.setText(text)
        self.msg_label.setToolTip(text)
        self.last_message = (text, error)

    def _update_speed(self) -> None:
        st = self.chain_panel.state
        if st.status == "running" and st.steps_per_s > 0:
            self.speed_label.setText(f"{st.steps_per_s:.1f} steps/s")
        elif st.steps_per_s > 0:
            self.speed_label.setText(f"last run: {st.steps_per_s:.1f} steps/s")
        else:
            self.speed_label.setText("")

    def run_default_action(self, batch: int = 16) -> bool:
        """Run the shown panel's default action (``panel.run_default(batch)``: for the chain, the default sampler
        over the whole chain with ``batch`` samples; for the canvas, SDEdit on the drawing...). Returns False when
        the panel has nothing to run (or the start page is shown)."""
        panel = self._panels.get(self.current_panel())
        return bool(panel is not None and panel.run_default(batch))

    def default_action_done(self) -> bool:
        """True once the default action has finished (nothing queued on the engine, the panel done)."""
        panel = self._panels.get(self.current_panel())
        return self.engine.pending() == 0 and (panel is None or panel.default_done())

    def chain_sample_to_endpoint(self) -> None:
        """Interpolation ▸ Use the chain's selected sample: its latest state becomes the interpolation
        panel's active endpoint (entering the latent by DDIM inversion), and the panel is shown."""
        st, ip = self.chain_panel.state, self.interpolation_panel
        rec, sel = st.shown_record(), st.selected
        if rec is None or not ip.supported():
            self.show_message("no chain sample to use: run a chain of a model the interpolation panel supports", True)
            return
        corner = ip.active_corner()
        label = f"chain sample #{sel}, step {rec.index}"

        branch, pos, runner = st.branch, st.position, self.chain_panel.runner

        def take():  # the exact state: kept, or replayed from the nearest keyframe (gui.history)
            return runner.exact_x(branch, min(pos, len(branch) - 1))[sel:sel + 1].detach().clone().float()

        def done(x) -> None:
            ip.set_endpoint_image_tensor(corner, x, label, advance=True)
            self.set_panel("interpolation")
            self.show_message(f"endpoint {'ABCD'[corner]} = {label}; press Interpolate")

        self.engine.submit(take, done, lambda m: self.show_message(f"could not take the sample: {m}", True))

    # ---- export ----------------------------------------------------------------------------------
    def export_grid_dialog(self, which: str = "x") -> None:
        """File → Export grid PNG."""
        path, _ = QFileDialog.getSaveFileName(self, "Export grid", f"genviz-{which}.png", "PNG images (*.png)")
        if path:
            try:
                self.chain_panel.export_grid(path, which)
                self.show_message(f"saved {path}")
            except Exception as e:
                self.show_message(f"export failed: {e}", True)

    def export_gif_dialog(self) -> None:
        """File → Export chain GIF."""
        path, _ = QFileDialog.getSaveFileName(self, "Export chain GIF", "genviz-chain.gif", "GIF images (*.gif)")
        if path:
            try:
                n = self.chain_panel.export_gif(path)
                self.show_message(f"saved {path} ({n} steps)")
            except Exception as e:
                self.show_message(f"export failed: {e}", True)

    # ---- drag and drop ---------------------------------------------------------------------------
    def dragEnterEvent(self, ev) -> None:
        if ev.mimeData().hasUrls() and any(u.isLocalFile() for u in ev.mimeData().urls()):
            ev.acceptProposedAction()
        else:
            ev.ignore()

    def dropEvent(self, ev) -> None:
        paths = [u.toLocalFile() for u in ev.mimeData().urls() if u.isLocalFile()]
        if paths:
            ev.acceptProposedAction()
            self.load(paths[0])

    # ---- closing ---------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop the chain and the engine thread (waits for the current step to finish)."""
        self.speed_timer.stop()
        for panel in self._panels.values():
            panel.shutdown()
        self.remote.shutdown()
        self.engine.shutdown()

    def closeEvent(self, ev) -> None:
        if not self._closing:
            self._closing = True
            self.shutdown()
            self.closed.emit()
        ev.accept()
