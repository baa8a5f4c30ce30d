"""Colour and size in the GUI: the colour canvas (palette, strokes -> the model's RGB tensor, fill, eyedropper,
undo/redo) and every panel with tiny 3x32x32 and 1x64x64 models (genviz checkpoints and diffusers folders)."""
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from colourtiny import diffusers_folder, emoji_judges, genviz_ddpm  # noqa: E402


@pytest.fixture
def colour_dir(tmp_path_factory, monkeypatch):
    import genviz.backend.checkpoints as ck
    d = tmp_path_factory.mktemp("colour")
    emoji_judges(d)
    genviz_ddpm(d / "tiny-colour.safetensors")
    monkeypatch.setattr(ck, "CHECKPOINT_DIR", d)
    monkeypatch.setenv("GENVIZ_AUTOSAVE_DIR", str(d / "autosave"))
    return d


def test_colour_canvas_palette_strokes_fill_eyedropper_undo(qtbot, colour_dir):
    import torch

    from genviz.backend.colour_drawings import PALETTE
    from genviz.backend.conditioning import image_to_model
    from genviz.gui.chain_runner import load_model
    from genviz.gui.engine import Engine
    from genviz.gui.panels.canvas import CanvasPanel, model_view
    eng = Engine()
    eng.start()
    try:
        p = CanvasPanel(eng)
        qtbot.addWidget(p)
        loaded = load_model(str(colour_dir / "tiny-colour.safetensors"), "cpu")
        p.set_model(loaded)
        c = p.canvas
        assert c.background == QColor(255, 255, 255) and p.digit_btn.text() == "Real emoji"
        assert [q.getRgb()[:3] for q in p.palette.colours()] == list(PALETTE) and p.palette.isVisibleTo(p)
        c.clear()
        red = PALETTE.index((213, 34, 47))
        p.palette.swatches[red].click()
        assert c.ink.getRgb()[:3] == (213, 34, 47)
        c.brush_size = 40
        c.draw_polyline([(-30, 140), (310, 140)])  # across the canvas: two paper regions
        view = model_view(c.ink_array(), (3, 32, 32))  # (C, H, W) in [0, 1], channel 0 red
        assert view.shape == (3, 32, 32) and view.min() >= 0 and view.max() <= 1
        assert np.allclose(view[:, 16, 16], np.array([213, 34, 47]) / 255, atol=0.02)
        assert np.allclose(view[:, 2, 2], 1.0)
        x = image_to_model(c.ink_array(), loaded.model, invert=False)
        assert x.shape == (3, 32, 32) and torch.allclose(x[:, 16, 16], torch.tensor([213, 34, 47]) / 127.5 - 1, atol=0.04)
        assert float(x[:, 2, 2].min()) == 1.0
        # fill the paper above the stroke with yellow, undo, redo
        before = c.ink_array()
        c.ink = QColor(247, 181, 34)
        n = c.fill(QPointF(140, 30))
        a = c.ink_array()
        assert n > 280 * 80 and tuple(a[30, 140]) == (247, 181, 34) and tuple(a[140, 140]) == (213, 34, 47)
        assert tuple(a[270, 140]) == (255, 255, 255)  # the stroke separates the two regions
        c.undo()
        assert np.array_equal(c.ink_array(), before)
        c.redo()
        assert np.array_equal(c.ink_array(), a)
        # the eyedropper takes the stroke's colour and gives the brush back
        p.set_tool("eyedropper")
        picked = c.pick_colour(QPointF(140, 140))
        assert picked.getRgb()[:3] == (213, 34, 47) and c.ink.getRgb()[:3] == (213, 34, 47) and c.tool == "brush"
        # eraser paints the paper colour
        c.draw_polyline([(40, 140), (60, 140)], tool="eraser")
        assert tuple(c.ink_array()[140, 50]) == (255, 255, 255)
        # a session keeps the colour drawing exactly
        import json
        q = CanvasPanel(eng)
        qtbot.addWidget(q)
        q.set_model(loaded)
        q.restore_session(json.loads(json.dumps(p.session_state())))
        assert np.array_equal(q.canvas.ink_array(), c.ink_array())
    finally:
        eng.shutdown()


CASES = [("genviz", (3, 32, 32)), ("diffusers", (1, 64, 64)), ("diffusers", (3, 32, 32)), ("genviz", (1, 64, 64))]


@pytest.mark.parametrize("kind,shape", CASES, ids=[f"{k}-{'x'.join(map(str, s))}" for k, s in CASES])
def test_every_panel_renders_colour_and_large_models(qtbot, colour_dir, kind, shape):
    from genviz.gui.main_window import MainWindow
    from genviz.panels import PANELS, get_panel
    name = f"{kind}-{'x'.join(map(str, shape))}"
    path = (genviz_ddpm(colour_dir / f"{name}.safetensors", shape, dataset="emoji" if shape[0] == 3 else "x")
            if kind == "genviz" else diffusers_folder(colour_dir / name, shape))
    w = MainWindow(device="cpu")
    qtbot.addWidget(w)
    w.show()
    try:
        with qtbot.waitSignal(w.modelLoaded, timeout=30000):
            w.load(str(path))
        model = w.chain_panel.model
        assert tuple(model.data_shape) == shape
        qtbot.waitUntil(lambda: len(w.chain_panel.state.history()) == 1, timeout=10000)
        w.chain_panel.state.request_step()
        qtbot.waitUntil(lambda: len(w.chain_panel.state.history()) == 2, timeout=20000)
        rec = w.chain_panel.state.history()[1]
        assert rec.x_u8.shape[1:] == shape and rec.x0_u8.shape[1:] == shape
        from PIL import Image

        from genviz.gui.export import save_chain_gif
        gif = save_chain_gif([r.x_u8 for r in w.chain_panel.state.history()], colour_dir / f"{name}.gif", scale=1)
        with Image.open(gif) as im:
            assert im.n_frames == 2 and im.convert("RGB").size[0] > 4 * shape[2]
            if shape[0] == 3:  # colour survives the GIF palette
                a = np.asarray(im.convert("RGB")).astype(int)
                assert np.abs(a[..., 0] - a[..., 1]).max() > 20
        for spec in PANELS:
            w.set_panel(spec.key)
            panel = w.panels()[spec.key]
            panel.refresh()
            img = w.grab().toImage()
            assert not img.isNull() and img.width() > 100
            why = get_panel(spec.key).why_not(model)
            assert (why is None) == panel.supported(), spec.key
            if why is not None:
                assert "\n" not in why and len(why) < 200
        if shape[0] == 3 and kind == "genviz":  # the category classifier replaces the digit bars
            assert w.chain_panel.loaded.classifier is not None
            assert w.chain_panel.bars.classes[0] == "Smileys & Emotion"
        cp = w.canvas_panel
        cp.steps_spin.setValue(2)
        cp.k_spin.setValue(2)
        with qtbot.waitSignal(cp.generated, timeout=30000):
            assert cp.generate()
        assert cp.staging.current.image.shape == shape
    finally:
        w.close()
