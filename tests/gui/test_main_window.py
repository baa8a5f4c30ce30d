"""The main window with the tiny model: loading, stepping, branching, closing, errors, screenshot."""
import threading
import time

import numpy as np
import pytest
import torch
from PySide6.QtWidgets import QApplication

from genviz.gui.chain_runner import ChainRunner
from genviz.gui.main_window import MainWindow


def _wait_status(qtbot, st, *statuses, timeout=20000):
    qtbot.waitUntil(lambda: st.status in statuses, timeout=timeout)


def test_window_opens_with_model(window):
    p = window.chain_panel
    assert window.loaded.model.name == "tiny"
    assert "tiny" in window.ckpt_label.text() and "cpu" in window.device_label.text()
    assert p.stack.currentIndex() == 1 and p.step_btn.isEnabled()
    assert p.sampler_combo.currentData() == "ddim" and p.steps_spin.value() == 20
    assert p.steps_spin.maximum() == 1000 and p.batch_spin.value() == 16
    assert set(p.param_form.widgets) == {"eta", "clip_sample", "timestep_spacing"}
    assert p.param_form.widgets["eta"].toolTip()
    # browser lists the bundled folder and describes the model
    names = {i.name for i in window.browser.infos}
    assert {"tiny", "mnist-classifier"} <= names
    assert '"name": "tiny"' in window.browser.meta_view.toPlainText()
    assert window.loaded.classifier is not None and not p.bars.isHidden()
    # every registered panel is a tab; the dock's "Can do" is the panels' own decision
    from genviz.panels import panel_keys
    assert list(window.panels()) == list(panel_keys()) == ["chain", "interpolation", "density", "canvas", "vaebm",
                                                            "compare", "fewsteps", "dynamics"]
    assert window.interpolation_panel.supported() and window.canvas_panel.supported()
    assert "not a 2-D toy model" in window.density_panel.model_label.text()
    assert "Chain, Interpolation, Canvas" in window.browser.caps_label.text()
    rec = p.state.shown_record()
    assert rec.index == 0 and rec.x.shape == (16, 1, 28, 28) and rec.x.dtype == torch.float32


def test_step_advances_exactly_one(window, qtbot):
    p, st = window.chain_panel, window.chain_panel.state
    for k in (1, 2):
        qtbot.mouseClick(p.step_btn, qtbot_button())
        qtbot.waitUntil(lambda: len(st.history()) == k + 1, timeout=10000)
        qtbot.wait(150)  # would a second step sneak in?
        assert len(st.history()) == k + 1 and st.status == "paused"
        p.refresh()
        assert st.position == k and p.slider.value() == k and p.slider.maximum() == k
        assert p.pos_label.text() == f"step {k} / 20"
    rec = st.shown_record()
    assert rec.x0_u8.shape == (16, 1, 28, 28) and rec.x0_u8.dtype == np.uint8
    assert rec.probs.shape == (16, 10) and np.allclose(rec.probs.sum(1), 1, atol=1e-4)
    assert np.isfinite(rec.eps_norm) and rec.t == 900 and rec.t_next == 850
    # the bars show the selected sample's probabilities of the shown step
    p.select_sample(3)
    p.refresh()
    assert np.allclose(p.bars.probs, rec.probs[3]) and p.x_grid.selected == 3


def qtbot_button():
    from PySide6.QtCore import Qt
    return Qt.MouseButton.LeftButton


def test_run_pause_scrub_branch(window, qtbot):
    p, st = window.chain_panel, window.chain_panel.state
    p.steps_spin.setValue(200)
    p.batch_spin.setValue(4)
    p.reset()
    qtbot.waitUntil(lambda: st.branch is not None and st.branch.total_steps == 200 and len(st.history()) == 1,
                    timeout=10000)
    p.run()
    qtbot.waitUntil(lambda: len(st.history()) >= 8, timeout=20000)
    p.pause()
    assert st.status == "paused"
    qtbot.wait(100)
    n = len(st.history())
    qtbot.wait(200)
    assert len(st.history()) == n, "pause must stop within one step"
    assert n < 201
    old = st.branch
    old_records = list(old.records)
    old_x = [r.x.clone() for r in old_records]
    # scrub back with the slider, change the sampler, branch
    p.refresh()
    p.slider.setValue(3)
    assert st.position == 3 and not st.follow
    p.sampler_combo.setCurrentIndex(p.sampler_combo.findData("ddpm"))
    p.seed_spin.setValue(7)
    p.branch_btn.click()
    qtbot.waitUntil(lambda: len(st.branches) == 2, timeout=10000)
    new = st.branch
    assert st.active == 1 and new.start == 3 and new.parent == 1 and new.sampler == "ddpm" and new.seed == 7
    assert torch.equal(new.records[0].x, old.history()[3].x)
    assert new.records[0].index == 3 and len(new) == 4
    assert new.timesteps == old.timesteps and new.total_steps == 200
    # step the branch; the old branch is unchanged
    p.step()
    qtbot.waitUntil(lambda: len(new.records) == 2, timeout=10000)
    assert new.records[1].index == 4 and new.records[1].t == old.timesteps[3]
    assert len(old.records) == len(old_records)
    assert all(torch.equal(a.x, b) for a, b in zip(old.records, old_x))
    p.refresh()
    assert p.branch_combo.count() == 2 and p.branch_combo.currentIndex() == 1
    # switch back to branch 1 to compare
    p._branch_chosen(0)
    p.refresh()
    assert st.branch is old and p.branch_combo.currentIndex() == 0


def test_close_mid_run_stops_worker(qtbot, tiny_ckpt, monkeypatch):
    # The tiny model runs 1,000 steps in well under a second; on a loaded CI machine the chain could end
    # before close() ran (a flaky 'done'). Each step here takes at least 5 ms, so the run lasts >= 5 s.
    real_step = ChainRunner.step

    def slow_step(self):
        time.sleep(0.005)
        real_step(self)
    monkeypatch.setattr(ChainRunner, "step", slow_step)
    before = threading.active_count()
    w = MainWindow(device="cpu")
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.modelLoaded, timeout=30000):
        w.load(tiny_ckpt)
    st = w.chain_panel.state
    w.chain_panel.steps_spin.setValue(1000)
    w.chain_panel.batch_spin.setValue(2)
    w.chain_panel.run()
    qtbot.waitUntil(lambda: st.status == "running" and len(st.history()) > 2, timeout=20000)
    w.close()
    assert not w.engine.isRunning() and w.engine.isFinished()
    assert st.status == "stopped"
    assert threading.active_count() <= before


def test_create_close_cycles(qtbot):
    for _ in range(20):
        w = MainWindow(device="cpu")
        w.show()
        QApplication.processEvents()
        w.close()
        assert not w.engine.isRunning()
        w.deleteLater()
    QApplication.processEvents()


def test_bad_checkpoint_keeps_app_and_model(window, qtbot, tmp_path):
    bad = tmp_path / "broken.safetensors"
    bad.write_bytes(b"not a safetensors file at all")
    with qtbot.waitSignal(window.loadFailed, timeout=10000) as sig:
        window.load(str(bad))
    assert "broken.safetensors" in sig.args[0]
    text, is_error = window.last_message
    assert is_error and "broken.safetensors" in text and "ff6b6b" in window.msg_label.styleSheet()
    assert window.loaded.model.name == "tiny"
    # the chain still works
    st = window.chain_panel.state
    n = len(st.history())
    window.chain_panel.step()
    qtbot.waitUntil(lambda: len(st.history()) == n + 1, timeout=10000)


def test_worker_error_comes_back_as_data(window, qtbot):
    p = window.chain_panel
    p.param_form.widgets["eta"].setValue(0.5)
    p.steps_spin.setValue(5)
    # an unknown parameter makes the backend raise: the error shows, the app stays up
    p.param_form.values = lambda: {"nonsense": 1}
    p.reset()
    qtbot.waitUntil(lambda: window.last_message[1], timeout=10000)
    assert "nonsense" in window.last_message[0]


def test_device_switch_continues_chain(window, qtbot):
    p, st = window.chain_panel, window.chain_panel.state
    p.steps_spin.setValue(300)
    p.batch_spin.setValue(2)
    p.reset()
    qtbot.waitUntil(lambda: st.branch is not None and st.branch.total_steps == 300, timeout=10000)
    p.run()
    qtbot.waitUntil(lambda: len(st.history()) > 3, timeout=10000)
    window.set_device("cpu")
    qtbot.waitUntil(lambda: "model on cpu" in window.last_message[0], timeout=10000)
    n = len(st.history())
    qtbot.waitUntil(lambda: len(st.history()) > n + 2, timeout=10000)
    assert st.status == "running"
    p.stop()


def test_exports(window, qtbot, tmp_path):
    from PIL import Image
    p, st = window.chain_panel, window.chain_panel.state
    p.step()
    qtbot.waitUntil(lambda: len(st.history()) == 2, timeout=10000)
    p.export_grid(tmp_path / "x.png", "x")
    p.export_grid(tmp_path / "x0.png", "x0")
    im = Image.open(tmp_path / "x.png")
    assert im.size == ((4 * 30 + 2) * 4, (4 * 30 + 2) * 4)
    n = p.export_gif(tmp_path / "c.gif")
    gif = Image.open(tmp_path / "c.gif")
    assert n == 2 and gif.n_frames == 2
    st.scrub(0)
    with pytest.raises(ValueError):
        p.export_grid(tmp_path / "none.png", "x0")


def test_screenshot_mode(tiny_ckpt, tmp_path, qapp):
    from PIL import Image

    from genviz.gui.app import run_gui
    out = tmp_path / "shot.png"
    assert run_gui(tiny_ckpt, screenshot=str(out)) == 0
    im = Image.open(out)
    assert im.size[0] >= 1000 and im.size[1] >= 700


def test_screenshot_mode_load_error(tmp_path, qapp, capsys):
    from genviz.gui.app import run_gui
    rc = run_gui(str(tmp_path / "missing.safetensors"), screenshot=str(tmp_path / "s.png"))
    assert rc == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err and err[-1].startswith("genviz: error: ") and "missing.safetensors" in err[-1]
    assert not (tmp_path / "s.png").exists()


def test_step_grid_sampler_and_grid_mismatch(window, qtbot):
    """A Langevin-type sampler (step grid) runs; branching it into a denoising sampler is refused."""
    p, st = window.chain_panel, window.chain_panel.state
    i = p.sampler_combo.findData("ula")
    if i < 0:
        pytest.skip("backend has no ula sampler")
    p.sampler_combo.setCurrentIndex(i)
    assert "step_size" in p.param_form.widgets and p.steps_spin.maximum() > 1000
    p.steps_spin.setValue(5)
    p.batch_spin.setValue(2)
    p.reset()
    qtbot.waitUntil(lambda: st.branch is not None and st.branch.sampler == "ula", timeout=10000)
    p.step()
    qtbot.waitUntil(lambda: len(st.history()) == 2, timeout=10000)
    assert st.branch.grid == "steps" and st.branch.total_steps == 5
    p.sampler_combo.setCurrentIndex(p.sampler_combo.findData("ddim"))
    p.branch_here()
    qtbot.waitUntil(lambda: window.last_message[1], timeout=10000)
    assert "cannot branch" in window.last_message[0] and len(st.branches) == 1


def test_recent_files_and_drop(window, qtbot, tiny_ckpt):
    from pathlib import Path

    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent
    assert window.recent_files()[0] == str(Path(tiny_ckpt).resolve())
    assert window.recent_menu.actions()[0].text() == str(Path(tiny_ckpt).resolve())
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(tiny_ckpt)])
    ev = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                    Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.modelLoaded, timeout=10000):
        window.dropEvent(ev)
    assert window.loaded.model.name == "tiny"


def test_click_tile_selects_sample(window, qtbot):
    from PySide6.QtCore import QPointF, Qt
    p = window.chain_panel
    p.refresh()
    g = p.x_grid
    rect = g.tile_rect(5)
    assert rect is not None
    scene_pt = g.view.mapViewToScene(QPointF(rect.center()))
    widget_pt = g.mapFromScene(scene_pt)
    qtbot.mouseClick(g.viewport(), Qt.MouseButton.LeftButton, pos=widget_pt)
    qtbot.waitUntil(lambda: p.state.selected == 5, timeout=3000)
    p.refresh()
    assert p.x_grid.selected == 5 and p.x0_grid.selected == 5 and g.highlight.isVisible()


def test_classifier_skipped_while_running_is_filled_in_afterwards(window, qtbot, monkeypatch):
    """With no classifier budget, a running chain judges only its first and last records; once it stops, the
    engine classifies the skipped ones while idle (from their 8-bit x̂₀ previews), and the p(final digit)
    curve is redrawn with every step."""
    from genviz.backend import chain
    from genviz.gui.chain_runner import ChainRunner
    monkeypatch.setattr(ChainRunner, "CLASSIFIER_BUDGET", 0.0)
    p, st = window.chain_panel, window.chain_panel.state
    p.steps_spin.setValue(12)
    p.batch_spin.setValue(4)
    p.reset()
    qtbot.waitUntil(lambda: st.branch is not None and st.branch.total_steps == 12, timeout=10000)
    p.run()
    _wait_status(qtbot, st, "done")
    hist = st.history()
    assert hist[-1].probs is not None
    qtbot.waitUntil(lambda: all(r.probs is not None for r in st.history()[1:]), timeout=10000)
    assert st.branch.revision >= 8  # most of the 12 were skipped while running, then filled in
    # the filled-in beliefs match the classifier on the exact x̂₀ of the same chain (same seed)
    clf = window.loaded.classifier
    exact = [rec.x0_hat for rec in chain(window.loaded.model, "ddim", steps=12, n=4, seed=st.branch.seed,
                                         **st.branch.params)][1:]
    for r, x0 in zip(st.history()[1:], exact):
        assert np.allclose(r.probs, clf.probs(x0).numpy(), atol=0.02)
    p.refresh()
    qtbot.waitUntil(lambda: p._plotted is not None and p._plotted[-1] == st.branch.revision, timeout=5000)


def test_reset_is_undoable_and_changed_settings_say_how_they_apply(window, qtbot):
    """Reset used to delete every branch without asking, settings changed mid-chain silently waited for Reset or
    Branch, and rebuilding the parameter form (another sampler) moved the run buttons under the mouse."""
    p, st = window.chain_panel, window.chain_panel.state
    qtbot.mouseClick(p.step_btn, qtbot_button())
    qtbot.waitUntil(lambda: len(st.history()) == 2, timeout=10000)
    p.refresh()
    assert not p.pending_label.isVisible() and p.pending_settings() == ""
    p.seed_spin.setValue(p.seed_spin.value() + 1)
    assert "seed" in p.pending_label.text() and "Reset" in p.pending_label.text()
    assert not p.pending_label.isHidden()
    # the run buttons stay where they are when the form is rebuilt for another sampler
    y = p.reset_btn.mapTo(p, p.reset_btn.rect().topLeft()).y()
    p.sampler_combo.setCurrentIndex(p.sampler_combo.findData("ddpm"))
    qtbot.wait(50)
    assert p.reset_btn.mapTo(p, p.reset_btn.rect().topLeft()).y() == y
    assert "sampler" in p.pending_settings()
    old = st.branch
    qtbot.mouseClick(p.reset_btn, qtbot_button())
    qtbot.waitUntil(lambda: st.branch is not old and st.branch is not None, timeout=10000)
    p.refresh()
    assert st.can_undo and not p.undo_btn.isHidden() and st.branch.sampler == "ddpm"
    assert p.pending_settings() == ""
    qtbot.mouseClick(p.undo_btn, qtbot_button())
    assert st.branch is old and len(st.history()) == 2 and not st.can_undo and st.status == "paused"
    p.refresh()
    assert p.undo_btn.isHidden()
    qtbot.mouseClick(p.step_btn, qtbot_button())  # the restored branch goes on
    qtbot.waitUntil(lambda: len(st.history()) == 3, timeout=10000)


def test_dock_load_without_selection_opens_a_file_and_highlights_the_loaded_row(window, qtbot, monkeypatch):
    """The dock's Load did nothing unless a row was selected, and its highlight fell out of sync with the model."""
    from PySide6.QtWidgets import QFileDialog
    asked = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (asked.append(a) or "", ""))
    b = window.browser
    qtbot.waitUntil(lambda: len(b.tree.selectedItems()) == 1, timeout=10000)
    assert b.tree.selectedItems()[0].text(0) == window.loaded.model.name  # the loaded model's row is highlighted
    b.tree.clearSelection()
    qtbot.mouseClick(b.load_btn, qtbot_button())
    assert len(asked) == 1  # a file dialog, not silence
    window.refresh_checkpoints()  # the re-read list highlights the loaded model again
    qtbot.waitUntil(lambda: len(b.tree.selectedItems()) == 1 and b.tree.selectedItems()[0].text(0) == "tiny",
                    timeout=10000)


def test_untrusted_description_is_plain_text(window):
    class M:
        name, family, dataset, data_shape, device = "<b>x</b>", "diffusion", "d", (1, 4, 4), "cpu"
        metadata = {"description": "<img src=x width=3000>" * 3}
        traits = window.loaded.model.traits
        is_image = True
        path = None

    class L:
        model, samplers, classifier = M(), [], None
    window.browser.set_model(L())
    text = window.browser.model_label.text()
    assert "<img" not in text and "&lt;img" in text and "&lt;b&gt;x" in text


def test_plain_genviz_opens_on_the_start_page_with_nothing_running():
    from genviz.gui.app import initial_view
    assert initial_view(None, None) == ("start", False)
    assert initial_view("mnist-ddpm", None) == ("chain", True)
    assert initial_view(None, "canvas") == ("canvas", True)
    assert initial_view(None, None, screenshot="x.png") == ("chain", True)


def test_switching_tabs_never_widens_the_window(window, qtbot):
    """The window grew to the widest panel's minimum (1,463 px with the canvas) whatever its size: each tab now
    scrolls instead."""
    window.resize(1100, 760)
    window.show()
    qtbot.waitExposed(window)
    assert window.width() == 1100
    for key in ("chain", "interpolation", "density", "canvas", "chain"):
        window.set_panel(key)
        qtbot.wait(20)
        assert window.width() == 1100 and window.current_panel() == key
    assert window.minimumSizeHint().width() < 800


def test_offscreen_size_hint_message_is_silenced(capsys):
    from genviz.gui.app import _qt_message
    _qt_message(None, None, "This plugin does not support propagateSizeHints()")
    _qt_message(None, None, "QPainter::begin: something real")
    err = capsys.readouterr().err
    assert "propagateSizeHints" not in err and "something real" in err


def test_ddpm_branch_from_the_start_equals_a_fresh_ddpm_chain(window, qtbot):
    """Issue 13: branching DDPM from step 0 of a DDIM chain with the same seed re-drew x_T as step-1 noise (the demo's
    ‖x_t‖ jumped from 28 to 38). Through the real buttons, the branch now equals a fresh DDPM chain of that seed."""
    p, st = window.chain_panel, window.chain_panel.state
    p.seed_spin.setValue(7)
    p.batch_spin.setValue(4)
    qtbot.mouseClick(p.reset_btn, qtbot_button())
    qtbot.waitUntil(lambda: st.branch is not None and st.branch.seed == 7 and len(st.history()) == 1, timeout=10000)
    p.sampler_combo.setCurrentIndex(p.sampler_combo.findData("ddpm"))
    qtbot.mouseClick(p.branch_btn, qtbot_button())
    qtbot.waitUntil(lambda: len(st.branches) == 2, timeout=10000)
    qtbot.mouseClick(p.step_btn, qtbot_button())
    qtbot.waitUntil(lambda: len(st.history()) == 2, timeout=10000)
    branched = st.history()[1].x.clone()
    qtbot.mouseClick(p.reset_btn, qtbot_button())  # a fresh DDPM chain, seed 7
    qtbot.waitUntil(lambda: len(st.branches) == 1 and st.branch.sampler == "ddpm", timeout=10000)
    qtbot.mouseClick(p.step_btn, qtbot_button())
    qtbot.waitUntil(lambda: len(st.history()) == 2, timeout=10000)
    assert torch.equal(st.history()[1].x, branched)


def test_annealed_langevin_runs_from_the_panel(window, qtbot):
    """Issue 13: its default ε = 2e-5 showed as 0.000 and was refused when the chain started."""
    p, st = window.chain_panel, window.chain_panel.state
    p.sampler_combo.setCurrentIndex(p.sampler_combo.findData("annealed"))
    assert p.param_form.widgets["epsilon"].text() == "2e-05"
    p.steps_spin.setValue(20)
    qtbot.mouseClick(p.reset_btn, qtbot_button())
    qtbot.waitUntil(lambda: st.branch is not None and st.branch.sampler == "annealed", timeout=10000)
    qtbot.mouseClick(p.step_btn, qtbot_button())
    qtbot.waitUntil(lambda: len(st.history()) == 2, timeout=10000)
    assert st.error is None and st.branch.params["epsilon"] == 2e-5


def test_a_live_trained_model_reaches_the_dock_and_status_bar(window):
    """Issue 13: the dock and the status bar never showed a model trained live in the density lab."""
    from pathlib import Path

    from genviz.backend import load_checkpoint
    m = load_checkpoint(Path(__file__).parents[2] / "checkpoints" / "toy-8gaussians-ebm.safetensors", device="cpu")
    m.name = "live-8gaussians-ebm"
    window.density_panel.modelTrained.emit(m)
    assert "live-8gaussians-ebm" in window.browser.model_label.text()
    assert "trained live" in window.ckpt_label.text() and "Density" in window.browser.caps_label.text()


def test_building_the_window_imports_no_torch():
    """The window is shown before torch loads (window_shown_s): no panel may import the backend's torch modules at
    module level (a sampler import in the chain drawing, a schedule constant in the Few steps view did)."""
    import subprocess
    import sys
    code = ("import os, sys; os.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
            "from PySide6.QtWidgets import QApplication; app = QApplication([])\n"
            "from genviz.gui.main_window import MainWindow; w = MainWindow()\n"
            "print('torch' in sys.modules); w.close()")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "False", out.stderr[-500:]
