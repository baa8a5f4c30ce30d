"""Start-page thumbnails: each demo preset's result, rendered from the preset itself.

``render_thumbnails()`` opens every preset in a window (offscreen), lets it run to the end at full speed, grabs
the preset's panel and saves it, scaled, as ``resources/presets/<name>.png``; the Start page shows that picture
on the preset's card. Run it again after changing a preset or a bundled model:
``genviz presets --thumbnails`` (about 10–30 s per preset on a CPU).
"""
from __future__ import annotations

from pathlib import Path

from ..presets import PRESET_DIR

THUMB_SIZE = (360, 225)  # pixels, 16:10 like the window
PRESET_TIMEOUT_MS = 180_000


def thumbnail_path(name: str, folder: str | Path | None = None) -> Path:
    """Where the thumbnail of preset ``name`` lives (it may not exist)."""
    return Path(folder or PRESET_DIR) / f"{name}.png"


def render_thumbnails(names: list[str] | None = None, folder: str | Path | None = None, log=print) -> list[Path]:
    """Render the thumbnails of the presets ``names`` (default: all) into ``folder`` (default: the presets'
    folder). Returns the written paths; a preset that fails or times out is reported through ``log`` and skipped.
    Needs a QApplication-capable environment (set ``QT_QPA_PLATFORM=offscreen`` without a display)."""
    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from .app import SCREENSHOT_SIZE, apply_style
    from .main_window import MainWindow
    app = QApplication.instance() or QApplication([])
    apply_style(app)
    out = []
    win = MainWindow()
    win.resize(*SCREENSHOT_SIZE)
    win.show()
    try:
        for preset in win.demo.presets:
            if names and preset["name"] not in names:
                continue
            loop = QEventLoop()
            state = {"ready": False, "ok": False}

            def ready() -> None:
                state["ready"] = True
                win.chain_panel.speed_combo.setCurrentIndex(0)  # full speed: the thumbnail shows the end

            def poll() -> None:
                if state["ready"] and win.default_action_done():
                    state["ok"] = True
                    loop.quit()
            timer = QTimer()
            timer.setInterval(100)
            timer.timeout.connect(poll)
            timer.start()
            QTimer.singleShot(PRESET_TIMEOUT_MS, loop.quit)
            win.demo.apply_preset(preset, on_done=ready)
            loop.exec()
            timer.stop()
            if not state["ok"]:
                log(f"{preset['name']}: did not finish in {PRESET_TIMEOUT_MS // 1000} s, skipped")
                continue
            panel = win.panels()[preset["panel"]]
            for p in win.panels().values():
                p.refresh()
            app.processEvents()
            pix = panel.grab().scaled(*THUMB_SIZE, Qt.AspectRatioMode.KeepAspectRatio,
                                      Qt.TransformationMode.SmoothTransformation)
            path = thumbnail_path(preset["name"], folder)
            if pix.save(str(path), "PNG"):
                out.append(path)
                log(f"wrote {path}")
            else:
                log(f"{preset['name']}: could not write {path}")
    finally:
        win.close()
    return out
