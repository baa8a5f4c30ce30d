"""Nothing the user drew is lost (issue 20): a preset or session keeps the autosaved drawing in history before it
replaces it, and a bad autosave file (garbage, a 20000 x 20000 PNG) is set aside with a message, never a failed start."""
import struct
import zlib

import numpy as np
from PIL import Image

from genviz.gui.panels.canvas.model import autosave_paths, write_drawing


def _panel(qtbot, folder):
    from genviz.gui.engine import Engine
    from genviz.gui.panels.canvas import CanvasPanel
    p = CanvasPanel(Engine(), autosave=folder)
    qtbot.addWidget(p)
    return p


def _huge_png(path, w, h):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def test_bad_autosave_is_set_aside_not_a_failed_start(qtbot, tmp_path):
    for i, write in enumerate([lambda p: p.write_bytes(b"\x89PNG garbage" * 50), lambda p: _huge_png(p, 20000, 20000)]):
        folder = tmp_path / f"a{i}"
        folder.mkdir()
        write(folder / "drawing.png")
        p = _panel(qtbot, folder)  # starts
        assert p.canvas.is_blank()
        assert "set aside as drawing.png.unreadable-" in p.autosave_label.text()
        assert not (folder / "drawing.png").exists()
        kept = list(folder.glob("drawing.png.unreadable-*"))
        assert len(kept) == 1 and kept[0].stat().st_size > 0  # kept, not deleted
        p.shutdown()


def test_preset_keeps_the_users_drawing_in_history(qtbot, tmp_path):
    folder = tmp_path / "auto"
    ink = np.zeros((280, 280, 3), np.uint8)
    ink[100:120, 40:240] = 255  # the user's own drawing: a bar
    write_drawing(folder, ink, np.zeros((280, 280), np.uint8))
    mine = autosave_paths(folder)[0].read_bytes()
    p = _panel(qtbot, folder)
    assert np.array_equal(p.canvas.ink_array(), ink)  # restored at start
    p.restore_session({"drawing_file": "drawings/digit3_0.png"})  # what a preset (draw-a-digit) does
    assert not np.array_equal(p.canvas.ink_array(), ink)
    qtbot.waitUntil(lambda: autosave_paths(folder)[0].read_bytes() != mine, timeout=5000)  # autosave: the preset
    history = sorted((folder / "history").glob("drawing-*.png"))
    assert len(history) == 1 and history[0].read_bytes() == mine  # ... but the user's drawing is kept
    assert np.array_equal(np.asarray(Image.open(history[0]).convert("RGB")), ink)
    assert "kept in" in p.autosave_label.text()
    p.restore_session({"drawing_file": "drawings/digit3_0.png"})  # the same again: no duplicate of the preset
    p.shutdown()
    assert len(list((folder / "history").glob("drawing-*.png"))) == 2  # the first preset drawing, once


def test_a_drawing_autosaved_on_the_other_paper_is_restored_on_this_one(qtbot, tmp_path):
    """A white-paper (emoji model) autosave restored into the black-paper canvas is inverted, as switching models
    converts it: a black 3 on white must not reach an MNIST model as a white page with a dark digit."""
    a = np.full((280, 280, 3), 255, np.uint8)
    a[60:220, 120:160] = 0  # a black bar on white paper
    write_drawing(tmp_path, a, np.zeros((280, 280), np.uint8))
    p = _panel(qtbot, tmp_path)
    ink = p.canvas.ink_array()
    assert ink[0, 0].max() == 0 and ink[140, 140].min() > 200  # black paper, white stroke
    p.shutdown()
