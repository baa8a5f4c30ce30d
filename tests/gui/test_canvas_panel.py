"""The canvas panel through its widgets: drawing, undo/redo, mask, autosave, generation on the engine,
staging accept/undo/discard, live mode, and the main window's canvas tab (tiny random models)."""
import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from genviz.gui.widgets.stroke_canvas import StrokeCanvas


@pytest.fixture
def autosave_dir(tmp_path, monkeypatch):
    d = tmp_path / "autosave"
    monkeypatch.setenv("GENVIZ_AUTOSAVE_DIR", str(d))
    return d


def test_stroke_canvas_draw_undo_redo_clear(qtbot):
    c = StrokeCanvas()
    qtbot.addWidget(c)
    assert c.is_blank() and not c.can_undo()
    c.draw_polyline([(40, 40), (140, 60), (240, 240)])
    a = c.ink_array()
    assert a.shape == (280, 280, 3)
    assert a[40, 40].max() == 255 and a[150, 20].max() == 0  # ink along the stroke, none far from it
    assert c.can_undo()
    c.undo()
    assert c.is_blank() and c.can_redo()
    c.redo()
    assert np.array_equal(c.ink_array(), a)
    c.brush_size = 10
    c.draw_polyline([(40, 40), (60, 40)], tool="eraser")
    assert c.ink_array()[40, 50].max() == 0
    c.draw_polyline([(100, 100), (200, 100)], tool="mask")
    assert c.has_mask() and c.mask_array()[100, 150] == 255 and c.mask_array()[10, 10] == 0
    c.clear()
    assert c.is_blank() and not c.has_mask()
    c.undo()
    assert c.has_mask()


def test_stroke_canvas_mouse_events(qtbot):
    c = StrokeCanvas()
    qtbot.addWidget(c)
    c.show()
    changed = []
    c.strokeFinished.connect(lambda: changed.append(c.revision))
    qtbot.mousePress(c, Qt.MouseButton.LeftButton, pos=QPoint(51, 51))
    from PySide6.QtCore import QEvent, QPointF
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication
    for x in range(51, 200, 10):
        ev = QMouseEvent(QEvent.Type.MouseMove, QPointF(x, 101), QPointF(x, 101), Qt.MouseButton.NoButton,
                         Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(c, ev)
    qtbot.mouseRelease(c, Qt.MouseButton.LeftButton, pos=QPoint(191, 101))
    assert changed and c.ink_array()[100, 150].max() == 255


def test_stroke_canvas_zoom_is_display_only(qtbot):
    """Presentation mode shows the canvas larger; the mouse maps back through the zoom, arrays stay 280 x 280."""
    c = StrokeCanvas()
    qtbot.addWidget(c)
    c.show()
    c.brush_size = 6
    c.set_zoom(1.5)
    assert c.width() == c.height() == 422  # 280 * 1.5 + the 1 px border
    qtbot.mousePress(c, Qt.MouseButton.LeftButton, pos=QPoint(1 + 150, 1 + 90))  # canvas pixel (100, 60)
    qtbot.mouseRelease(c, Qt.MouseButton.LeftButton, pos=QPoint(1 + 150, 1 + 90))
    a = c.ink_array()
    assert a.shape == (280, 280, 3) and a[60, 100].max() == 255
    assert a[90, 150].max() == 0  # not where the screen position would land unzoomed
    with pytest.raises(ValueError, match="zoom"):
        c.set_zoom(0)
    c.set_zoom(1)
    assert c.width() == 282


def _panel(qtbot, tiny_ckpt):
    from genviz.gui.chain_runner import load_model
    from genviz.gui.engine import Engine
    from genviz.gui.panels.canvas import CanvasPanel
    eng = Engine()
    eng.start()
    p = CanvasPanel(eng)
    qtbot.addWidget(p)
    p.set_model(load_model(tiny_ckpt, "cpu"))
    return p, eng


def test_panel_generate_stage_accept_undo_discard(qtbot, tiny_ckpt, autosave_dir, tmp_path):
    p, eng = _panel(qtbot, tiny_ckpt)
    try:
        assert p.supported() and p.k_spin.value() == 4
        p.canvas.draw_polyline([(140, 40), (140, 240)])
        drawing = p.canvas.ink_array()
        p.steps_spin.setValue(3)
        with qtbot.waitSignal(p.generated, timeout=30000):
            assert p.generate()
        assert len(p.staging) == 4 and p.staging.current.image.shape == (1, 28, 28)
        assert p.last_x_t0.shape == (4, 1, 28, 28)
        assert p.latency_label.text().startswith("latency:")
        # a second generation is appended: nothing overwritten
        p.seed_spin.setValue(1)
        with qtbot.waitSignal(p.generated, timeout=30000):
            p.generate()
        assert len(p.staging) == 8 and p.staging.index == 4
        p.next_btn.click()
        assert p.staging.index == 5
        p.prev_btn.click()
        p.prev_btn.click()
        assert p.staging.index == 3
        chosen = p.staging.current.image.copy()
        out = tmp_path / "cand.png"
        p.save_candidate(out)
        from PIL import Image
        saved = np.asarray(Image.open(out))
        assert saved.shape == (28, 28) and np.abs(saved / 255.0 - chosen[0]).max() < 0.01
        p.accept_btn.click()
        assert len(p.staging.history) == 1 and p.history_list.count() == 1
        assert len(p.staging) == 8 and p.staging.index == 3  # accepting keeps the candidates and the user's place
        from genviz.gui.panels.canvas import model_view
        assert np.abs(model_view(p.canvas.ink_array(), (1, 28, 28)) - chosen).max() < 0.003  # exact round trip (uint8)
        p.undo_btn.click()  # undo brings the drawing back
        assert np.array_equal(p.canvas.ink_array(), drawing)
        p.discard_btn.click()  # the shown candidate's batch (the first) goes
        assert len(p.staging) == 4 and all(c.batch == 2 for c in p.staging.candidates)
        p.discard_btn.click()
        assert len(p.staging) == 0 and not p.accept_btn.isEnabled()
    finally:
        p.shutdown()
        eng.shutdown()


def test_panel_masked_generation_keeps_unmasked_pixels(qtbot, tiny_ckpt, autosave_dir):
    p, eng = _panel(qtbot, tiny_ckpt)
    try:
        p.canvas.draw_polyline([(140, 40), (140, 240)])
        p.canvas.draw_polyline([(0, 0), (279, 0)], tool="mask")  # not on the model pixels below row 3
        p.canvas.brush_size = 60
        p.canvas.draw_polyline([(200, 200), (260, 260)], tool="mask")
        p.steps_spin.setValue(3)
        p.t0_slider.setValue(90)
        with qtbot.waitSignal(p.generated, timeout=30000):
            p.generate()
        from genviz.gui.panels.canvas import model_view
        y = model_view(p.canvas.ink_array(), (1, 28, 28))
        m = model_view(np.repeat(p.canvas.mask_array()[..., None], 3, 2), (1, 28, 28))
        for c in p.staging.candidates:
            keep = m == 0
            assert np.abs(c.image[keep] - y[keep]).max() < 1e-5
            assert np.abs(c.image[~keep] - y[~keep]).max() > 1e-2
    finally:
        p.shutdown()
        eng.shutdown()


def test_autosave_and_restore(qtbot, tiny_ckpt, autosave_dir):
    p, eng = _panel(qtbot, tiny_ckpt)
    try:
        p.canvas.draw_polyline([(60, 60), (220, 220)])
        p.canvas.draw_polyline([(60, 220), (100, 220)], tool="mask")
        qtbot.waitUntil(lambda: (autosave_dir / "drawing.png").is_file(), timeout=5000)
        qtbot.waitUntil(lambda: not p._dirty, timeout=5000)
        drawing, mask = p.canvas.ink_array(), p.canvas.mask_array()
    finally:
        p.shutdown()
        eng.shutdown()
    from genviz.gui.engine import Engine
    from genviz.gui.panels.canvas import CanvasPanel
    p2 = CanvasPanel(Engine())  # a new session (after a crash): the drawing is back
    qtbot.addWidget(p2)
    assert np.array_equal(p2.canvas.ink_array(), drawing)
    assert np.array_equal(p2.canvas.mask_array(), mask)
    assert not p2.canvas.can_undo()


def test_load_real_digit_and_image(qtbot, tiny_ckpt, autosave_dir, tmp_path):
    p, eng = _panel(qtbot, tiny_ckpt)
    try:
        assert p.load_real_digit(7)
        from genviz.gui.panels.canvas import RESOURCES, model_view
        with np.load(RESOURCES / "mnist10k.npz") as f:
            real = f["images"][7] / 255.0
        assert np.abs(model_view(p.canvas.ink_array(), (1, 28, 28))[0] - real).max() < 0.003
        from PIL import Image
        img = np.full((50, 70), 255, np.uint8)  # black ink on white: inverted onto the black canvas
        img[10:40, 30:40] = 0
        Image.fromarray(img).save(tmp_path / "ink.png")
        assert p.load_image(tmp_path / "ink.png")
        a = p.canvas.ink_array()
        assert a[5, 5].max() < 30 and a[140, 140].min() > 200
        (tmp_path / "bad.png").write_text("not an image")
        msgs = []
        p.message.connect(lambda t, e: msgs.append((t, e)))
        assert not p.load_image(tmp_path / "bad.png")
        assert msgs and msgs[-1][1] is True
        p.canvas.undo()
        assert np.abs(model_view(p.canvas.ink_array(), (1, 28, 28))[0] - real).max() < 0.003
    finally:
        p.shutdown()
        eng.shutdown()


def test_live_mode_generates_after_a_stroke(qtbot, tiny_ckpt, autosave_dir):
    p, eng = _panel(qtbot, tiny_ckpt)
    try:
        p.steps_spin.setValue(2)
        p.k_spin.setValue(2)
        p.live_cb.setChecked(True)
        assert p.live_timer.isActive()
        p.canvas.draw_polyline([(140, 40), (140, 240)])
        qtbot.waitUntil(lambda: len(p.staging) == 2, timeout=30000)
        p.canvas.draw_polyline([(60, 140), (220, 140)])
        qtbot.waitUntil(lambda: len(p.staging) == 4, timeout=30000)
        assert p.last_latency is not None and p.last_latency >= 0
        p.live_cb.setChecked(False)
        assert not p.live_timer.isActive()
    finally:
        p.shutdown()
        eng.shutdown()


def test_window_canvas_tab(window, qtbot, autosave_dir):
    p = window.canvas_panel
    assert window.panels()["canvas"] is p
    window.set_panel("canvas")
    assert window.tabs.currentWidget().widget() is p and window.current_panel() == "canvas"
    assert p.supported()
    p.steps_spin.setValue(2)
    assert window.run_default_action()
    qtbot.waitUntil(window.default_action_done, timeout=30000)
    assert len(p.staging) == 4
    assert not p.canvas.is_blank()


def test_recommended_settings_follow_the_guide_classifier(qtbot, tiny_ckpt, autosave_dir):
    p, eng = _panel(qtbot, tiny_ckpt)
    try:
        # the test checkpoint folder has no mnist-guide: plain SDEdit at the measured t0
        assert not p.guide_cb.isChecked() and not p.guide_cb.isEnabled() and not p.ilvr_cb.isChecked()
        assert p.t0_slider.value() == 60
        p.apply_recommended(True)
        assert p.guide_cb.isChecked() and p.ilvr_cb.isChecked() and p.t0_slider.value() == 90
        s = p.settings()
        assert s["guidance"] == 2.0 and s["ilvr"] == 4 and s["guide_class"] is None
        p.guide_combo.setCurrentIndex(4)
        assert p.settings()["guide_class"] == 3
        msgs = []
        p.message.connect(lambda t, e: msgs.append((t, e)))
        p.canvas.draw_polyline([(140, 40), (140, 240)])
        p.steps_spin.setValue(2)
        p.generate()  # no guide checkpoint: the error comes back as a message, the panel stays usable
        qtbot.waitUntil(lambda: not p.busy, timeout=30000)
        assert msgs and msgs[-1][1] is True and "mnist-guide" in msgs[-1][0]
        assert p.generate_btn.isEnabled() and len(p.staging) == 0
    finally:
        p.shutdown()
        eng.shutdown()


def test_session_state_round_trip(qtbot, tiny_ckpt, autosave_dir):
    p, eng = _panel(qtbot, tiny_ckpt)
    try:
        p.canvas.draw_polyline([(60, 60), (220, 200)])
        p.canvas.draw_polyline([(60, 220), (120, 220)], tool="mask")
        p.t0_slider.setValue(73)
        p.seed_spin.setValue(9)
        p.sampler_combo.setCurrentText("ddpm")
        state = p.session_state()
        import json
        state = json.loads(json.dumps(state))  # a session file is JSON
        drawing, mask = p.canvas.ink_array(), p.canvas.mask_array()
        p.canvas.clear()
        p.t0_slider.setValue(10)
        p.seed_spin.setValue(0)
        img = np.zeros((1, 28, 28), np.float32)
        p.staging.add_batch([img, img], model="another")  # made from the old drawing
        p.staging.add_batch([img], model="another")
        p.staging.accept()
        p._update_staging()
        done = []
        p.restore_session(state, lambda: done.append(1))
        assert done == [1]
        assert len(p.staging) == 0 and len(p.staging.history) == 1  # a clean stage; the accepted one is kept
        assert p.stage.stage_list.count() == 0
        assert np.array_equal(p.canvas.ink_array(), drawing) and np.array_equal(p.canvas.mask_array(), mask)
        assert p.settings()["t0"] == 0.73 and p.settings()["seed"] == 9 and p.settings()["sampler"] == "ddpm"
        with pytest.raises(ValueError, match="unreadable"):
            p.restore_session({"drawing": "bm90IGEgcG5n"})
    finally:
        p.shutdown()
        eng.shutdown()


def test_colour_brush_only_for_colour_models(qtbot, tiny_ckpt, autosave_dir):
    from PySide6.QtGui import QColor
    p, eng = _panel(qtbot, tiny_ckpt)
    try:
        assert not p.colour_btn.isEnabled()
        p.set_colour(QColor(255, 0, 0))
        assert p.canvas.ink == QColor(255, 255, 255)  # a grey model paints grey ink
        p.model_shape = (3, 28, 28)
        p.ink_slider.setValue(50)
        p.set_colour(QColor(255, 0, 0))
        assert p.canvas.ink == QColor(127, 0, 0)
    finally:
        p.shutdown()
        eng.shutdown()


def test_accept_keeps_the_shown_candidate_and_the_users_place(qtbot, tiny_ckpt, autosave_dir):
    p, eng = _panel(qtbot, tiny_ckpt)
    try:
        p.canvas.draw_polyline([(140, 40), (140, 240)])
        p.steps_spin.setValue(2)
        p.k_spin.setValue(3)
        for seed in (0, 1):
            p.seed_spin.setValue(seed)
            with qtbot.waitSignal(p.generated, timeout=30000):
                p.generate()
        p.stage_list.setCurrentRow(4)  # the newest batch's second candidate
        shown = p.staging.current
        p.accept_btn.click()
        assert p.staging.current is shown and p.staging.index == 4 and len(p.staging) == 6
        assert shown.accepted and p.staging.history == [shown]
        assert "accepted" in p.stage_label.text() and p.stage_list.currentRow() == 4
        p.accept_btn.click()  # again: the history does not repeat it
        assert p.history_list.count() == 1
    finally:
        p.shutdown()
        eng.shutdown()


def test_live_on_clears_an_old_latency_readout(qtbot, tiny_ckpt, autosave_dir):
    import time
    p, eng = _panel(qtbot, tiny_ckpt)
    try:
        p.steps_spin.setValue(2)
        p.k_spin.setValue(2)
        p.canvas.draw_polyline([(140, 40), (140, 240)])
        with qtbot.waitSignal(p.generated, timeout=30000):
            p.generate()
        assert p.last_latency is not None and p.latency_label.text() != "latency: —"
        qtbot.wait(1000)  # the stroke is old now
        t_on = time.perf_counter()
        with qtbot.waitSignal(p.generated, timeout=30000):
            p.live_cb.setChecked(True)
            assert p.last_latency is None and p.latency_label.text() == "latency: —"
        # measured from this generation, not from the stroke a second ago
        assert p.last_latency is not None and p.last_latency <= time.perf_counter() - t_on
        assert p.latency_label.text().startswith("latency: ") and p.latency_label.text() != "latency: —"
    finally:
        p.shutdown()
        eng.shutdown()


def test_batches_are_labelled_with_their_model(qtbot, tiny_ckpt, autosave_dir):
    from genviz.gui.chain_runner import load_model
    p, eng = _panel(qtbot, tiny_ckpt)
    try:
        msgs = []
        p.message.connect(lambda t, e: msgs.append((t, e)))
        p.canvas.draw_polyline([(140, 40), (140, 240)])
        p.steps_spin.setValue(2)
        p.k_spin.setValue(2)
        with qtbot.waitSignal(p.generated, timeout=30000):
            p.generate()
        other = load_model(tiny_ckpt, "cpu")
        other.model.name = "tiny-copy"
        p.set_model(other)
        with qtbot.waitSignal(p.generated, timeout=30000):
            p.generate()
        assert [c.model for c in p.staging.candidates] == ["tiny", "tiny", "tiny-copy", "tiny-copy"]
        assert "model: tiny-copy" in p.stage_label.text() and "tiny-copy" in msgs[-1][0]
        p.stage_list.setCurrentRow(0)
        assert "model: tiny" in p.stage_label.text() and "tiny-copy" not in p.stage_label.text()
        assert "by tiny:" in p.stage_list.item(0).toolTip() and "by tiny-copy:" in p.stage_list.item(3).toolTip()
    finally:
        p.shutdown()
        eng.shutdown()


def test_cancel_stops_the_job_and_stages_nothing(qtbot, tiny_ckpt, autosave_dir):
    p, eng = _panel(qtbot, tiny_ckpt)
    try:
        msgs = []
        p.message.connect(lambda t, e: msgs.append((t, e)))
        p.canvas.draw_polyline([(140, 40), (140, 240)])
        p.t0_slider.setValue(100)
        p.steps_spin.setValue(1000)
        assert p.generate() and p.busy and p.cancel_btn.isEnabled() and not p.generate_btn.isEnabled()
        qtbot.waitUntil(lambda: p.progress.maximum() == 0, timeout=30000)  # the job says the sampler runs
        assert p.progress.format().startswith("sampling")
        p.cancel_btn.click()
        assert not p.busy and p.generate_btn.isEnabled() and not p.cancel_btn.isEnabled()
        assert msgs[-1] == ("generation cancelled", False)
        qtbot.waitUntil(lambda: eng.pending() == 0, timeout=30000)  # the sampler stopped at its next step
        qtbot.wait(50)
        assert len(p.staging) == 0 and msgs[-1] == ("generation cancelled", False)
    finally:
        p.shutdown()
        eng.shutdown()


def test_default_t0_follows_the_models_schedule(qtbot, tiny_ckpt, autosave_dir, tmp_path):
    """A linear-schedule model gets the t0 that keeps the same ᾱ as 0.6 on the cosine schedule (0.32, not 0.6,
    where the linear schedule keeps ᾱ ≈ 0.026); a checkpoint's own measured canvas.t0 wins; the tooltip says why."""
    import copy

    import torch

    from genviz.backend import save_checkpoint
    from genviz.backend.checkpoints import read_metadata
    from genviz.backend.nets.unet import UNet
    from genviz.gui.chain_runner import load_model
    p, eng = _panel(qtbot, tiny_ckpt)
    try:
        assert p.t0_slider.value() == 60  # the tiny model is on the cosine schedule
        meta = copy.deepcopy(read_metadata(tiny_ckpt))
        meta["schedule"] = dict(meta["schedule"], beta_schedule="linear", beta_start=1e-4, beta_end=0.02)
        torch.manual_seed(0)
        sd = UNet(base=8, mults=[1, 2], blocks=1, attn_lowest=False).state_dict()
        save_checkpoint(tmp_path / "lin.safetensors", sd, meta)
        p.set_model(load_model(str(tmp_path / "lin.safetensors"), "cpu"))
        assert p.t0_slider.value() == 32 and "ᾱ" in p.t0_slider.toolTip()
        meta["canvas"] = {"t0": 0.45, "source": "measured for lin"}
        save_checkpoint(tmp_path / "lin2.safetensors", sd, meta)
        p.set_model(load_model(str(tmp_path / "lin2.safetensors"), "cpu"))
        assert p.t0_slider.value() == 45 and "measured for lin" in p.t0_slider.toolTip()
    finally:
        p.shutdown()
        eng.shutdown()


def test_narrow_page_puts_the_candidates_beside_the_drawing(window, qtbot, autosave_dir):
    """A page too narrow for three columns (a laptop with the dock, a projector in presentation mode) stacks the
    settings under the drawing and the staging area, instead of hiding the candidates off to the right; a wide
    one puts them back; the page then needs no horizontal scroll."""
    p = window.canvas_panel
    window.set_panel("canvas")
    page = window.tabs.currentWidget()
    pos = lambda w: p._root.getItemPosition(p._root.indexOf(w))[:2]  # noqa: E731  (row, column)
    window.dock.hide()
    window.resize(p.wide_width() + 200, 700)
    qtbot.waitUntil(lambda: not p.stacked, timeout=5000)
    assert pos(p.stage) == (0, 2) and pos(p.settings_column) == (0, 1)
    window.resize(p.wide_width() - 120, 700)
    qtbot.waitUntil(lambda: p.stacked, timeout=5000)
    assert pos(p.stage) == (0, 1) and pos(p.settings_column) == (1, 0)
    qtbot.waitUntil(lambda: p.width() <= page.viewport().width(), timeout=5000)
    assert not page.horizontalScrollBar().isVisible() or page.horizontalScrollBar().maximum() == 0
    window.resize(p.wide_width() + 200, 700)
    qtbot.waitUntil(lambda: not p.stacked, timeout=5000)
    assert pos(p.stage) == (0, 2)


def test_a_1280_laptop_with_the_dock_open_keeps_three_columns(window, qtbot, autosave_dir):
    """The common small laptop (1280 x 800) with the checkpoint dock open: drawing, settings (with Generate) and
    candidates side by side, not the settings a scroll down (the wide layout needed 957 px; the page has ~920)."""
    p = window.canvas_panel
    window.set_panel("canvas")
    window.dock.show()
    window.resize(1280, 800)
    page = window.tabs.currentWidget()
    qtbot.waitUntil(lambda: page.viewport().width() < 1000, timeout=5000)
    assert p.wide_width() <= page.viewport().width()
    qtbot.waitUntil(lambda: not p.stacked, timeout=5000)


def test_ctrl_return_generates(qtbot, tiny_ckpt, autosave_dir):
    p, eng = _panel(qtbot, tiny_ckpt)
    try:
        p.show()
        p.activateWindow()
        qtbot.waitUntil(p.isActiveWindow, timeout=5000)  # shortcuts reach only the active window
        p.steps_spin.setValue(2)
        p.canvas.draw_polyline([(140, 40), (140, 240)])
        p.canvas.setFocus()
        with qtbot.waitSignal(p.generated, timeout=30000):
            qtbot.keyClick(p.canvas, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        assert len(p.staging) == 4
    finally:
        p.shutdown()
        eng.shutdown()


def test_presentation_mode_shows_the_drawing_and_candidate_larger(qtbot, tiny_ckpt, autosave_dir):
    p, eng = _panel(qtbot, tiny_ckpt)
    try:
        p.canvas.draw_polyline([(140, 40), (140, 240)])
        before = p.canvas.ink_array()
        p.set_presenting(True, 2.0)
        assert p.canvas.zoom == 1.6 and p.canvas.width() == 450 and p.stage_view.width() > 232
        assert np.array_equal(p.canvas.ink_array(), before)  # display only
        p.set_presenting(False)
        assert p.canvas.zoom == 1.0 and p.canvas.width() == 282 and p.stage_view.width() == 232
    finally:
        p.shutdown()
        eng.shutdown()
