"""The interpolation panel in the main window (offscreen): runs, picker clicks, drops, scrubbing, exports, errors."""
import time

import numpy as np
import pytest
import torch
from latenttiny import save_latent_ckpts
from PIL import Image

from genviz.backend import load_checkpoint, sample
from genviz.backend.interpolation import load_image, slerp
from genviz.gui.main_window import MainWindow


@pytest.fixture(scope="module")
def latent_ckpts(tmp_path_factory):
    return save_latent_ckpts(tmp_path_factory.mktemp("latent-gui"))


@pytest.fixture
def win(qtbot, tiny_ckpt):
    w = MainWindow(device="cpu")
    qtbot.addWidget(w)
    w.show()
    yield w
    w.close()
    assert not w.engine.isRunning()


def _load(qtbot, w, path):
    with qtbot.waitSignal(w.modelLoaded, timeout=30000):
        w.load(path)
    w.set_panel("interpolation")
    return w.interpolation_panel


def _run(qtbot, p, status="done"):
    assert p.run()
    qtbot.waitUntil(lambda: p.status in ("done", "error"), timeout=60000)
    assert p.status == status, p.error
    p.refresh()


def _unit(model, x):
    return model.to_unit(x).numpy()


def test_vae_strip_grid_and_norms(qtbot, win, latent_ckpts):
    p = _load(qtbot, win, latent_ckpts["tiny-vae"])
    assert p.supported() and p.stack.currentIndex() == 1 and p.run_btn.isEnabled()
    assert not p.steps_spin.isVisibleTo(p)  # DDIM steps only for diffusion models
    p.frames_spin.setValue(6)
    p.grid_spin.setValue(3)
    _run(qtbot, p)
    m = load_checkpoint(latent_ckpts["tiny-vae"])
    assert p.frames_unit.shape == (6, 1, 28, 28) and p.grid_unit.shape == (9, 1, 28, 28)
    # endpoints A = seed 0, B = seed 1: the strip's ends are the seeds' samples (to 8-bit precision on screen)
    assert np.abs(p.frames_unit[0] - _unit(m, sample(m, n=1, seed=0))[0]).max() <= 1 / 255 + 1e-6
    assert np.abs(p.frames_unit[-1] - _unit(m, sample(m, n=1, seed=1))[0]).max() <= 1 / 255 + 1e-6
    assert p.norms.shape == (6,)
    assert set(p.profiles) == {"lerp", "slerp", "rho", "t"}
    sl, lo, hi = p.profiles["slerp"], min(p.norms[0], p.norms[-1]), max(p.norms[0], p.norms[-1])
    assert sl.min() >= lo - 1e-6 and sl.max() <= hi + 1e-6
    assert p.profiles["lerp"][32] < sl[32]  # lerp's chord cuts inside the sphere
    assert p.norm_plot.curves["slerp"].getData()[1].shape == (65,)
    assert "strip A → B: slerp" in p.strip.label.text and "‖z‖" in p.info.text()


def test_picker_clicks_set_endpoints(qtbot, win, latent_ckpts, tmp_path):
    p = _load(qtbot, win, latent_ckpts["tiny-vae"])
    p.refresh_picker()
    qtbot.waitUntil(lambda: p.samples_grid._shape is not None, timeout=20000)
    p.set_active_corner(0)
    p.samples_grid.tileClicked.emit(3)
    assert p.endpoints[0] == {"kind": "seed", "seed": p.picker_seed.value() + 3}
    assert p.rows[0].seed.value() == p.picker_seed.value() + 3
    assert p.active_corner() == 1  # advances to B
    p.digit_page.setValue(3)
    p.digits_grid.tileClicked.emit(5)  # page 3 shows held-out digits 3, 103, ..., 903: one per class
    assert p.endpoints[1]["kind"] == "image" and p.endpoints[1]["spec"] == "mnist:503"
    assert "digit #503" in p.rows[1].desc.text()
    p.frames_spin.setValue(3)
    p.grid_check.setChecked(False)
    _run(qtbot, p)
    assert p.grid_unit is None
    m = load_checkpoint(latent_ckpts["tiny-vae"])
    mu, _ = m.encode(load_image("mnist:503", m.data_shape))
    assert np.abs(p.frames_unit[-1] - _unit(m, m.decode(mu))[0]).max() <= 1 / 255 + 1e-6
    # a dropped image file becomes the active endpoint
    img = tmp_path / "drop.png"
    Image.fromarray(np.full((28, 28), 255, np.uint8)).save(img)
    p.set_active_corner(0)
    p.drop_images([str(img)])
    assert p.endpoints[0] == {"kind": "image", "spec": str(img), "label": "drop.png"}
    _run(qtbot, p)


def test_slider_decodes_live_and_exports(qtbot, win, latent_ckpts, tmp_path):
    p = _load(qtbot, win, latent_ckpts["tiny-gan"])
    p.frames_spin.setValue(5)
    p.grid_check.setChecked(False)
    _run(qtbot, p)
    p.set_t(0.5)
    qtbot.waitUntil(lambda: p.live_unit is not None and abs(p.live_t - 0.5) < 1e-9 and not p.jobs.live_busy,
                    timeout=20000)
    m = load_checkpoint(latent_ckpts["tiny-gan"])
    z = slerp(torch.randn(m.latent_shape, generator=torch.Generator().manual_seed(0)),
              torch.randn(m.latent_shape, generator=torch.Generator().manual_seed(1)), 0.5)
    assert np.abs(p.live_unit[0] - _unit(m, m.decode(z[None]))[0]).max() <= 1 / 255 + 1e-6
    assert np.allclose(p.live_unit[0], p.frames_unit[2], atol=1 / 255 + 1e-6)  # t = 0.5 is frame 2 of 5
    assert p.strip.selected == 2 and p.norm_plot.cursor.value() == 0.5
    # clicking a strip frame moves the slider there
    p.strip.tileClicked.emit(4)
    assert p.slider.value() == p.slider.maximum()
    png, gif = tmp_path / "strip.png", tmp_path / "walk.gif"
    p.export_png(png)
    assert np.asarray(Image.open(png)).shape == (3 * 30 + 2 * 3, 3 * (5 * 30 + 2))
    assert p.export_gif(gif) == 8  # A → B → back, without repeating the ends
    with Image.open(gif) as im:
        assert im.n_frames == 8 and im.size == (112, 112)


def test_gan_real_image_error_keeps_app_up(qtbot, win, latent_ckpts):
    p = _load(qtbot, win, latent_ckpts["tiny-gan"])
    p.set_endpoint(0, image="mnist:1")
    p.grid_check.setChecked(False)
    _run(qtbot, p, status="error")
    assert "no encoder" in p.error and "no encoder" in win.last_message[0] and win.last_message[1]
    p.set_endpoint(0, seed=4)
    _run(qtbot, p)


def test_diffusion_model_ddim_latent_and_unsupported(qtbot, win, tiny_ckpt, latent_ckpts):
    p = _load(qtbot, win, tiny_ckpt)
    assert p.supported() and p.steps_spin.isVisibleTo(p) and p.steps_spin.value() == 20
    p.steps_spin.setValue(2)
    p.frames_spin.setValue(3)
    p.grid_check.setChecked(False)
    _run(qtbot, p)
    m = load_checkpoint(tiny_ckpt)
    ref = _unit(m, sample(m, "ddim", steps=2, n=1, seed=1, eta=0.0, clip_sample=False))[0]
    assert np.abs(p.frames_unit[-1] - ref).max() <= 1 / 255 + 1e-6
    # a classifier has no latent: the panel says so and disables its controls
    clf = str(tiny_ckpt).replace("tiny.safetensors", "mnist-classifier.safetensors")
    p = _load(qtbot, win, clf)
    assert not p.supported() and p.stack.currentIndex() == 0 and "no latent" in p.notice.text()
    assert not p.run() and not p.run_btn.isEnabled()


def test_default_action_for_screenshot(qtbot, win, latent_ckpts):
    p = _load(qtbot, win, latent_ckpts["tiny-vae"])
    assert win.run_default_action()
    qtbot.waitUntil(win.default_action_done, timeout=60000)
    assert p.status == "done" and p.frames_unit.shape == (10, 1, 28, 28) and p.grid_unit.shape == (25, 1, 28, 28)


def test_rerun_supersedes_a_running_walk(qtbot, win, latent_ckpts):
    p = _load(qtbot, win, latent_ckpts["tiny-vae"])
    p.frames_spin.setValue(12)
    assert p.run()
    p.set_endpoint(1, seed=42)
    p.frames_spin.setValue(4)
    p.grid_check.setChecked(False)
    _run(qtbot, p)
    qtbot.waitUntil(lambda: win.engine.pending() == 0, timeout=30000)
    qtbot.wait(100)
    assert p.status == "done" and p.frames_unit.shape == (4, 1, 28, 28) and p.grid_unit is None
    m = load_checkpoint(latent_ckpts["tiny-vae"])
    assert np.abs(p.frames_unit[-1] - _unit(m, sample(m, n=1, seed=42))[0]).max() <= 1 / 255 + 1e-6


def test_chain_sample_becomes_endpoint(qtbot, win, tiny_ckpt):
    """A sample picked in the chain panel enters the interpolation as an endpoint (DDIM inversion)."""
    with qtbot.waitSignal(win.modelLoaded, timeout=30000):
        win.load(tiny_ckpt)
    qtbot.waitUntil(lambda: len(win.chain_panel.state.history()) == 1, timeout=10000)
    win.chain_panel.state.selected = 2
    p = win.interpolation_panel
    p.set_active_corner(1)
    win.chain_sample_to_endpoint()
    qtbot.waitUntil(lambda: p.endpoints[1]["kind"] == "tensor", timeout=10000)
    assert win.current_panel() == "interpolation" and p.active_corner() == 2  # grid on: B -> C
    assert "chain sample #2" in p.rows[1].desc.text()
    x = p.endpoints[1]["x"]
    assert tuple(x.shape) == (1, 1, 28, 28)
    assert torch.equal(x[0], win.chain_panel.state.history()[0].x[2])
    p.steps_spin.setValue(2)
    p.frames_spin.setValue(3)
    p.grid_check.setChecked(False)
    _run(qtbot, p)
    assert p.frames_unit.shape == (3, 1, 28, 28)


def test_session_round_trip_and_preset(qtbot, win, latent_ckpts):
    p = _load(qtbot, win, latent_ckpts["tiny-vae"])
    p.set_endpoint(0, image="mnist:3", label="digit #3")
    p.set_endpoint(1, seed=9)
    p.method_combo.setCurrentIndex(2)
    p.frames_spin.setValue(4)
    p.grid_check.setChecked(False)
    _run(qtbot, p)
    p.set_t(0.25)
    state = p.session_state()
    assert state["endpoints"][:2] == [{"image": "mnist:3", "label": "digit #3"}, {"seed": 9}]
    assert state["method"] == "rho" and state["frames"] == 4 and state["decoded"] and state["t"] == 0.25
    before = p.frames_unit.copy()
    # scramble, then restore: the same walk decodes to the same pixels
    p.set_endpoint(0, seed=1)
    p.method_combo.setCurrentIndex(0)
    p.frames_spin.setValue(7)
    done = []
    p.restore_session(state, lambda: done.append(True))
    qtbot.waitUntil(lambda: bool(done), timeout=30000)
    assert p.status == "done" and np.array_equal(p.frames_unit, before) and p.slider.value() == 50
    with pytest.raises(ValueError, match="method"):
        p.restore_session({"method": "cubic"})


def _apply_latent_walk(qtbot, tmp_path, monkeypatch):
    """A main window with the ``latent-walk`` preset applied (mnist-vae: a tiny stand-in here)."""
    from latenttiny import tiny_vae_net, vae_meta

    import genviz.backend.checkpoints as ck
    from genviz.backend import save_checkpoint
    from genviz.presets import get_preset
    save_checkpoint(tmp_path / "mnist-vae.safetensors", tiny_vae_net().state_dict(), {**vae_meta(), "name": "mnist-vae"})
    monkeypatch.setattr(ck, "CHECKPOINT_DIR", tmp_path)
    w = MainWindow(device="cpu")
    qtbot.addWidget(w)
    w.show()
    done = []
    w.demo.apply_preset(get_preset("latent-walk"), on_done=lambda: done.append(True))
    qtbot.waitUntil(lambda: bool(done), timeout=60000)
    return w


def test_latent_walk_preset_runs(qtbot, tmp_path, monkeypatch):
    """The ``latent-walk`` demo preset loads mnist-vae (a tiny stand-in here) and decodes its walk."""
    w = _apply_latent_walk(qtbot, tmp_path, monkeypatch)
    try:
        p = w.interpolation_panel
        assert w.current_panel() == "interpolation" and w.loaded.model.name == "mnist-vae"
        assert p.status == "done" and p.frames_unit.shape == (10, 1, 28, 28) and p.grid_unit.shape == (36, 1, 28, 28)
        assert p.endpoints[0]["spec"] == "mnist:3" and p.slider.value() == p.slider.maximum() // 2
    finally:
        w.close()


def test_preset_fills_the_samples_picker(qtbot, tmp_path, monkeypatch):
    """User report: after the slerp preset the Samples picker stayed empty until a seed box was nudged."""
    w = _apply_latent_walk(qtbot, tmp_path, monkeypatch)
    try:
        p = w.interpolation_panel
        qtbot.waitUntil(lambda: p.samples_grid._shape is not None and p.samples_grid._shape[0] == 12, timeout=20000)
        assert p.samples_grid.label.text == "seeds 100–111"
        p.samples_grid.tileClicked.emit(2)  # and it works: the active endpoint becomes that seed
        assert p.endpoints[0] == {"kind": "seed", "seed": 102}
    finally:
        w.close()


def test_model_switch_refreshes_the_big_frame(qtbot, win, latent_ckpts):
    """User report: after switching model the big scrub view stayed blank with the old ‖z‖ until the slider
    moved. It is cleared at once (no stale frame, no stale norm) and shows the new walk's frame when decoded."""
    p = _load(qtbot, win, latent_ckpts["tiny-vae"])
    p.frames_spin.setValue(3)
    p.grid_check.setChecked(False)
    _run(qtbot, p)
    p.set_t(0.5)
    qtbot.waitUntil(lambda: p.live_unit is not None and p.done(), timeout=20000)
    assert "‖z‖" in p.live.label.text
    p = _load(qtbot, win, latent_ckpts["tiny-gan"])
    assert p.live_unit is None and p.live._shape is None
    assert p.live.label.text == "t = 0.50" and "‖z‖" not in p.live.label.text
    assert p.info.text() == "" and p.strip.label.text == "strip A → B"
    _run(qtbot, p)
    qtbot.waitUntil(lambda: p.live_unit is not None and p.done(), timeout=20000)
    assert p.live.label.text == f"t = 0.50, ‖z‖ = {p.norms[1]:.2f}" and p.live._shape is not None


def test_stop_keeps_the_frames_decoded_so_far(qtbot, win, latent_ckpts):
    """Stop cancels the walk's engine job between two frames; the frames decoded so far stay shown."""
    p = _load(qtbot, win, latent_ckpts["tiny-vae"])
    decode = p.model.decode
    p.model.decode = lambda z: (time.sleep(0.01), decode(z))[1]  # 176 frames take 2 s or more
    p.frames_spin.setValue(32)
    p.grid_spin.setValue(12)
    assert p.run()
    qtbot.waitUntil(lambda: p.state.partial is not None, timeout=20000)
    p.stop_btn.click()
    assert p.status == "idle" and "stopped at" in p.strip.label.text
    qtbot.waitUntil(lambda: win.engine.pending() == 0, timeout=30000)
    qtbot.wait(100)
    assert p.status == "idle" and p.frames_unit is None and p.done()
    assert 0 < p.progress.value() < p.progress.maximum() == 32 + 144
