"""``run_gui``: start the desktop app (the ``genviz gui`` command calls this).

The window is shown before torch is imported: the model loads on the window's engine thread.
"""
from __future__ import annotations

import signal
import sys
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer, qInstallMessageHandler
from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import QApplication

DEFAULT_CHECKPOINT = "mnist-ddpm"
ICON = Path(__file__).resolve().parents[2] / "resources" / "icons" / "genviz.svg"
SCREENSHOT_SIZE = (1440, 900)
SCREENSHOT_TIMEOUT_MS = 600_000


QUIET_QT_MESSAGES = ("This plugin does not support propagateSizeHints()",)  # the offscreen platform, every window


def _qt_message(mode, context, message: str) -> None:
    """Qt's messages to stderr, less those that are not the user's business (``QUIET_QT_MESSAGES``)."""
    if not any(q in message for q in QUIET_QT_MESSAGES):
        sys.stderr.write(message + "\n")


def apply_style(app: QApplication) -> None:
    """Fusion style with a dark palette that matches the plots."""
    app.setStyle("Fusion")
    p = QPalette()
    base, window, text = QColor("#1f2126"), QColor("#2a2d34"), QColor("#e4e6ea")
    p.setColor(QPalette.ColorRole.Window, window)
    p.setColor(QPalette.ColorRole.WindowText, text)
    p.setColor(QPalette.ColorRole.Base, base)
    p.setColor(QPalette.ColorRole.AlternateBase, QColor("#262930"))
    p.setColor(QPalette.ColorRole.ToolTipBase, QColor("#33363e"))
    p.setColor(QPalette.ColorRole.ToolTipText, text)
    p.setColor(QPalette.ColorRole.Text, text)
    p.setColor(QPalette.ColorRole.Button, QColor("#363a43"))
    p.setColor(QPalette.ColorRole.ButtonText, text)
    p.setColor(QPalette.ColorRole.Highlight, QColor("#3d7dd8"))
    p.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    p.setColor(QPalette.ColorRole.PlaceholderText, QColor("#8a8f99"))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6c717b"))
    app.setPalette(p)


def _attach_probe(win, path: str, loop: QEventLoop) -> None:
    """Record when the window is shown and when the first chain step is drawn; then close (benchmarks)."""
    import json
    import time
    times = {"shown": None}

    def check_shown():
        if times["shown"] is None and win.windowHandle() is not None and win.windowHandle().isExposed():
            times["shown"] = time.time()

    def drawn(index: int):
        check_shown()
        if index >= 1 and "first_step" not in times:
            times["first_step"] = time.time()
            Path(path).write_text(json.dumps(times))
            win.close()
            loop.quit()

    check_shown()
    poll = QTimer(win)
    poll.setInterval(1)
    poll.timeout.connect(lambda: (check_shown(), poll.stop() if times["shown"] else None))
    poll.start()
    win.chain_panel.recordDrawn.connect(drawn)


def initial_view(checkpoint, panel, screenshot=None, probe=None) -> tuple[str, bool]:
    """(the tab shown first, whether the loaded model's default action runs): plain ``genviz`` opens on the Start
    page with nothing running; a named checkpoint or panel, a screenshot or a probe opens that panel (default
    chain) and runs it."""
    if panel is None and checkpoint is None and screenshot is None and probe is None:
        return "start", False
    return panel or "chain", True


def run_gui(checkpoint: str | None = None, panel: str | None = None, device: str = "auto",
            screenshot: str | None = None, probe: str | None = None, preset: str | None = None,
            session: str | None = None, server: str | None = None, token: str | None = None) -> int:
    """Open the main window, load ``checkpoint`` (default ``mnist-ddpm``) and run the event loop.

    Args:
        checkpoint: bundled name or path of a checkpoint file or diffusers folder.
        panel: the panel shown first (``genviz.panels``), running its default action. None: the chain when a
            checkpoint, a screenshot or a probe is asked for; otherwise (plain ``genviz``) the Start page with the
            demos, the default model loaded in the background and nothing running.
        device: "auto", "cpu", "cuda", "mps", ...
        screenshot: if set, run the panel's default action to completion (for the chain: the
            default sampler over the whole chain, batch 16), save the window as this PNG and return.
        probe: (benchmarks) write ``{"shown": t, "first_step": t}`` — ``time.time()`` when the window
            was first exposed and when the first chain step (record 1) was drawn — to this JSON path,
            then close the window.
        preset: open this demo preset (``genviz presets`` lists them) instead of ``checkpoint``/``panel``;
            with ``screenshot``, the PNG is taken after the preset has run.
        session: open this saved ``.genviz`` session instead.
        server, token: connect to this genviz server first (``genviz serve``; ``GENVIZ_TOKEN`` when no token) and
            load ``checkpoint`` from it (``genviz.gui.remote_connect``).
    Returns:
        0, or 1 when ``screenshot`` is set and the checkpoint could not be loaded, or the preset or session
        cannot be opened (after printing ``genviz: error: ...`` to stderr).
    """
    from ..panels import panel_keys
    from .main_window import MainWindow
    first, autorun = initial_view(checkpoint, panel, screenshot, probe)
    panel = panel or "chain"
    if panel not in panel_keys():
        print(f"genviz: error: unknown panel {panel!r} (expected one of {', '.join(panel_keys())})", file=sys.stderr)
        return 2
    app = QApplication.instance()
    if app is None:
        qInstallMessageHandler(_qt_message)
        app = QApplication(sys.argv[:1])
        app.setOrganizationName("genviz")
        app.setApplicationName("genviz")
        apply_style(app)
        if ICON.exists():
            app.setWindowIcon(QIcon(str(ICON)))
    if screenshot is None and hasattr(signal, "SIGINT"):
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl+C in the terminal quits
    win = MainWindow(device=device)
    win.set_panel(first)
    win.autorun = autorun
    setup = {"ready": preset is None and session is None}
    if preset is not None:
        try:
            preset_data = win.demo.preset(preset)
        except ValueError as e:
            print(f"genviz: error: {e}", file=sys.stderr)
            win.close()
            return 1
    if session is not None:
        try:
            win.demo.read_session(session)
        except ValueError as e:
            print(f"genviz: error: {e}", file=sys.stderr)
            win.close()
            return 1
    if screenshot:
        win.resize(*SCREENSHOT_SIZE)
    win.show()
    loop = QEventLoop()
    result = {"rc": 0}
    win.closed.connect(loop.quit)

    if screenshot:
        poll = QTimer(win)
        poll.setInterval(100)

        def finish(rc: int) -> None:
            poll.stop()
            result["rc"] = rc
            win.close()
            loop.quit()

        def shoot() -> None:
            if not setup["ready"] or not win.default_action_done():
                return
            for panel in win.panels().values():  # the panel protocol: redraw now
                panel.refresh()
            win._update_speed()
            app.processEvents()
            ok = win.grab().save(screenshot, "PNG")
            if not ok:
                print(f"genviz: error: could not write {screenshot}", file=sys.stderr)
            finish(0 if ok else 1)

        def loaded(_ld) -> None:
            poll.timeout.connect(shoot)
            poll.start()

        def failed(msg: str) -> None:
            print(f"genviz: error: {msg}", file=sys.stderr)
            finish(1)

        win.modelLoaded.connect(loaded)
        win.loadFailed.connect(failed)
        QTimer.singleShot(SCREENSHOT_TIMEOUT_MS, lambda: (print("genviz: error: screenshot timed out", file=sys.stderr),
                                                          finish(1)))

    if probe:
        _attach_probe(win, probe, loop)
    def mark_ready() -> None:
        setup["ready"] = True

    if preset is not None:
        QTimer.singleShot(0, lambda: win.demo.apply_preset(preset_data, on_done=mark_ready))
    elif session is not None:
        QTimer.singleShot(0, lambda: win.demo.open_session(session, on_done=mark_ready))
    elif server:
        QTimer.singleShot(0, lambda: win.remote.connect_to(server, token,
                                                           on_done=lambda: win.load(checkpoint or DEFAULT_CHECKPOINT)))
    else:
        QTimer.singleShot(0, lambda: win.load(checkpoint or DEFAULT_CHECKPOINT))
    loop.exec()
    if not win._closing:
        win.close()
    win.deleteLater()
    return result["rc"]
