"""The density panel, offscreen: every view for every family, particles (dots and density image),
figure export, train-live with progress and cancel, and its place in the main window."""
import numpy as np
import pytest
from PIL import Image

from genviz.backend.training.toy import train
from genviz.gui.engine import Engine
from genviz.gui.panels.density import MAX_DOTS, DensityPanel

TINY = {"ebm": dict(hidden=16, K=5), "diffusion": dict(hidden=16, T=100), "flow": dict(hidden=16, transforms=2, bins=4),
        "vae": dict(hidden=16), "gan": dict(hidden=16)}


@pytest.fixture(scope="module")
def tiny_models():
    return {f: train("8gaussians", f, 15, None, log=None, **kw) for f, kw in TINY.items()}


@pytest.fixture
def panel(qtbot):
    eng = Engine()
    eng.start()
    p = DensityPanel(eng)
    qtbot.addWidget(p)
    p.resize(1200, 800)
    p.show()
    qtbot.waitUntil(lambda: p.result is not None, timeout=30000)
    yield p
    p.shutdown()
    eng.shutdown()
    assert not eng.isRunning()


def _set(p, qtbot, model):
    with qtbot.waitSignal(p.computed, timeout=120000):
        p.set_model(model)
    assert p.result["model"] is model


def test_data_only_on_start(panel):
    r = panel.result
    assert panel.dataset.name == "25gaussians" and r["data"].shape == (2500, 2) and r["samples"] is None
    assert "data only" in panel.readout.text()
    panel.image_combo.setCurrentIndex(list(panel.image_combo.itemData(i) for i in range(4)).index("data"))
    assert panel.image.isVisible() and panel.image.image.shape == (150, 150)


@pytest.mark.parametrize("family", ["ebm", "diffusion", "flow", "vae", "gan"])
def test_every_view_renders_for_each_family(panel, qtbot, tiny_models, family, tmp_path):
    m = tiny_models[family]
    _set(panel, qtbot, m)
    r = panel.result
    assert panel.dataset.name == "8gaussians" and r["samples"].shape == (2500, 2)
    lo, hi, res = r["grid"]
    assert res == (56 if family == "diffusion" else 150)
    if family != "gan":
        assert abs(r["density"].sum() * ((hi - lo) / res) ** 2 - 1) < 1e-3      # normalised on the grid
        assert np.isfinite(r["readouts"]["log_likelihood"])
    else:
        assert r["density"] is None and r["readouts"]["log_likelihood"] is None and r["score"] is None
    assert r["kind"] == {"ebm": "neg_energy", "diffusion": "ode", "flow": "flow", "vae": "elbo", "gan": "discriminator"}[family]
    text = panel.readout.text()
    assert "test log-likelihood" in text and "modes covered" in text and "MMD" in text
    views = [panel.image_combo.itemData(i) for i in range(panel.image_combo.count())]
    for v in views:
        panel.image_combo.setCurrentIndex(views.index(v))
        if v == "logp" or (v == "density" and family != "gan"):
            assert panel.image.isVisible() and panel.image.image.shape == (res, res)
        elif v == "density":
            assert not panel.image.isVisible()
        elif v == "none":
            assert not panel.image.isVisible()
    for key, cb in panel.checks.items():
        cb.setChecked(True)
    assert len(panel.data_dots.data) == 2500 and len(panel.sample_dots.data) == 2500
    xs, _ = panel.score_curve.getData()
    if family != "gan":
        assert len(xs) == 2 * 21 * 21 and np.isfinite(xs).all()
    panel.checks["score"].setChecked(False)
    assert panel.score_curve.getData()[0] is None or len(panel.score_curve.getData()[0]) == 0
    img = panel.grab().toImage()
    assert img.width() >= 1000 and img.height() >= 700
    out = tmp_path / "fig.png"
    panel.export_figure(out)
    with Image.open(out) as im:
        assert im.size[0] >= 1200 and np.asarray(im.convert("L")).std() > 5   # not blank
    panel.layout_combo.setCurrentIndex(1)
    assert panel.stack.currentIndex() == 1 and panel.fig_logp.image.shape == (res, res)
    if family != "gan":
        assert "sums to 1.000" in panel.fig_caption.text


def test_diffusion_score_at_chosen_t(panel, qtbot, tiny_models):
    _set(panel, qtbot, tiny_models["diffusion"])
    panel.checks["score"].setChecked(True)
    before = panel.result["score"][1].copy()
    panel.t_spin.setValue(80)
    qtbot.waitUntil(lambda: not np.allclose(panel.result["score"][1], before), timeout=20000)
    import torch
    pts, vec = panel.result["score"]
    ref = tiny_models["diffusion"].score(torch.as_tensor(pts), 80).numpy()
    assert np.allclose(vec, ref, atol=1e-5)


def test_particles_dots_trails_and_density_image(panel, qtbot, tiny_models):
    _set(panel, qtbot, tiny_models["flow"])
    panel.slow_check.setChecked(False)
    panel.n_spin.setValue(300)
    panel.run_chain()
    assert not panel.run_btn.isEnabled() and panel.cancel_btn.isEnabled()
    qtbot.waitUntil(lambda: not panel.chain_running, timeout=30000)
    assert panel.run_btn.isEnabled() and panel.frames_drawn >= 1
    assert len(panel.particle_dots.data) == 300 and not panel.particle_image.isVisible()
    assert "step 2 / 2" in panel.chain_label.text()
    panel.n_spin.setValue(MAX_DOTS + 1000)
    panel.run_chain()
    qtbot.waitUntil(lambda: not panel.chain_running, timeout=30000)
    panel._draw_particles(force=True)
    assert panel.particle_image.isVisible() and len(panel.particle_dots.data) == 0
    assert "density image" in panel.chain_label.text()
    panel.checks["particles"].setChecked(False)
    assert not panel.particle_image.isVisible()


def test_train_live_cancel_then_complete(panel, qtbot):
    panel.set_dataset("8gaussians")
    qtbot.waitUntil(lambda: panel.result is not None and not panel.busy, timeout=20000)
    panel.family_combo.setCurrentText("flow")
    panel.train_steps.setValue(100000)
    panel.train_live()
    assert panel.training and panel.cancel_btn.isEnabled() and not panel.train_btn.isEnabled()
    qtbot.waitUntil(lambda: panel.state.train_progress[0] >= 10, timeout=30000)
    panel.refresh()
    assert "training: step" in panel.progress.format()
    panel.cancel()
    qtbot.waitUntil(lambda: not panel.training, timeout=30000)
    assert panel.progress.format() == "cancelled" and panel.model is None and panel.train_btn.isEnabled()
    panel.train_steps.setValue(30)
    with qtbot.waitSignal(panel.computed, timeout=120000):
        panel.train_live()
    assert panel.model is not None and panel.model.family == "flow" and panel.model.name == "live-8gaussians-flow"
    assert panel.progress.value() == 100 and "modes covered" in panel.readout.text()


def test_main_window_density_tab(qtbot, tiny_ckpt, tmp_path):
    import torch

    from genviz.backend import save_checkpoint
    from genviz.gui.main_window import MainWindow
    m = train("8gaussians", "flow", 5, tmp_path / "toy-8-flow.safetensors", log=None, **TINY["flow"])
    w = MainWindow(device="cpu")
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.modelLoaded, timeout=30000):
        w.load(tiny_ckpt)
    pages = [w.tabs.widget(i) for i in range(w.tabs.count())]        # (each tab is a scroll area round its panel)
    assert any(getattr(p, "widget", lambda: p)() is w.density_panel for p in pages)
    assert "not a 2-D toy model" in w.density_panel.model_label.text()
    with qtbot.waitSignal(w.modelLoaded, timeout=30000):
        w.load(str(tmp_path / "toy-8-flow.safetensors"))
    w.set_panel("density")
    assert w.current_panel() == "density" and w.tabs.currentWidget().widget() is w.density_panel
    assert w.run_default_action()
    qtbot.waitUntil(w.default_action_done, timeout=120000)
    assert w.density_panel.model.family == "flow" and w.density_panel.result["samples"].shape == (2500, 2)
    w.close()
    assert not w.engine.isRunning()
    del m, torch, save_checkpoint


def test_user_drawn_dataset_paint_and_train(panel, qtbot):
    from PySide6.QtCore import QPoint, Qt
    panel.paint_check.setChecked(True)
    assert panel.dataset_combo.currentText() == "user" and panel.dataset is None
    assert not panel.plot.getViewBox().state["mouseEnabled"][0]
    panel.train_live()
    assert "paint some data first" in panel.status.text() and not panel.training
    # drag on the plot: points appear where the mouse went
    vp = panel.plot.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=QPoint(vp.width() // 2, vp.height() // 2))
    with qtbot.waitSignal(panel.computed, timeout=60000):   # release: the dataset is rebuilt
        qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=QPoint(vp.width() // 2, vp.height() // 2))
    c = panel.plot.getViewBox().mapSceneToView(panel.plot.mapToScene(QPoint(vp.width() // 2, vp.height() // 2)))
    assert len(panel.user_points) == 3 and np.abs(np.asarray(panel.user_points) - [c.x(), c.y()]).max() < 0.5
    ring = np.stack([2 * np.cos(np.linspace(0, 6.28, 60)), 2 * np.sin(np.linspace(0, 6.28, 60))], 1)
    panel.add_user_points(ring)
    with qtbot.waitSignal(panel.computed, timeout=60000):
        panel.finish_painting()
    ds = panel.dataset
    assert ds.name == "user" and len(ds.centres) == 63 and ds.std == 0.1 and ds.has_density
    assert panel.result["data"].shape == (2500, 2) and panel.result["data_density"] is not None
    panel.family_combo.setCurrentText("flow")
    panel.train_steps.setValue(20)
    with qtbot.waitSignal(panel.computed, timeout=120000):
        panel.train_live()
    assert panel.model is not None, (panel.status.text(), panel.progress.format())
    assert panel.model.dataset == "user" and panel.result["samples"].shape == (2500, 2)
    panel.clear_user_points()
    assert panel.dataset is None and panel.model is None and panel.user_points == []


@pytest.mark.parametrize("family", ["flow", "vae"])
def test_latent_path_in_latent_and_data_space(panel, qtbot, tiny_models, family):
    """A flow's base noise (or a toy VAE's code) walked from z_A to z_B: the small plot shows z, the big one
    x = decode(z); endpoints are the seed latents and decode to the same points as the API."""
    import torch

    from genviz.backend.interpolation import latent_space, slerp
    model = tiny_models[family]
    _set(panel, qtbot, model)
    assert panel.path_box.isEnabled()
    panel.path_seed_a.setValue(3)
    panel.path_seed_b.setValue(8)
    panel.path_frames.setValue(9)
    panel.draw_latent_path()
    qtbot.waitUntil(lambda: panel.latent_path is not None, timeout=20000)
    z, x = panel.latent_path["z"], panel.latent_path["x"]
    space = latent_space(model)
    za, zb = space.seed_latent(3), space.seed_latent(8)
    assert z.shape == (9, 2) and x.shape == (9, 2)
    np.testing.assert_allclose(z[0], za.numpy(), atol=1e-6)
    np.testing.assert_allclose(z[-1], zb.numpy(), atol=1e-6)
    np.testing.assert_allclose(z[4], slerp(za, zb, 0.5).numpy(), atol=1e-5)
    np.testing.assert_allclose(x, model.decode(torch.from_numpy(z)).numpy(), atol=1e-4)
    xs, ys = panel.path_curve.getData()
    np.testing.assert_allclose(np.stack([xs, ys], 1), x, atol=1e-6)
    # a model without a latent disables the walk
    _set(panel, qtbot, tiny_models["ebm"])
    assert not panel.path_box.isEnabled() and panel.latent_path is None


def test_flow_encode_inverts_decode(tiny_models):
    import torch
    flow = tiny_models["flow"]
    x = torch.tensor([[1.5, -0.5], [-2.0, 2.0], [0.1, 0.2]])
    np.testing.assert_allclose(flow.decode(flow.encode(x)).numpy(), x.numpy(), atol=1e-4)


def test_langevin_particles_show_drift_and_noise(panel, qtbot, tiny_models):
    """An EBM's particle chain (ULA): the first particles' last move is drawn as drift then noise segments,
    which add up to the move: x_new = x + drift + noise (before any clipping)."""
    from genviz.gui.panels.density import ARROWS
    _set(panel, qtbot, tiny_models["ebm"])
    panel.slow_check.setChecked(False)
    panel.n_spin.setValue(200)
    panel.run_chain()
    qtbot.waitUntil(lambda: not panel.chain_running, timeout=30000)
    panel._draw_particles(force=True)
    step, x0, d, n = panel._moves
    assert x0.shape == d.shape == n.shape == (ARROWS, 2) and step == panel._live[0]
    np.testing.assert_allclose(x0 + d + n, panel._live[2][:ARROWS], atol=1e-4)
    xs, ys = panel.drift_curve.getData()
    assert len(xs) == 2 * ARROWS and np.all(np.linalg.norm(n, axis=1) > 0)
    assert "drift (orange)" in panel.chain_label.text()
    panel.checks["moves"].setChecked(False)
    panel._draw_particles(force=True)
    xs, _ = panel.drift_curve.getData()
    assert xs is None or len(xs) == 0


def test_train_live_draws_loss_curve_and_previews_then_cancel(panel, qtbot):
    """Live training is an engine job: the loss curve grows, the model being trained is redrawn about every
    second (the readouts stay those of the shown model), and cancel stops it at once."""
    panel.set_dataset("8gaussians")
    qtbot.waitUntil(lambda: panel.result is not None and not panel.busy, timeout=20000)
    before = panel.result
    panel.family_combo.setCurrentText("vae")
    panel.train_steps.setValue(100000)
    panel.train_live()
    assert panel.loss_curve.isVisible() and len(panel.loss_curve.points()) == 0
    qtbot.waitUntil(lambda: panel.state.preview is not None, timeout=60000)
    pts = panel.loss_curve.points()
    assert len(pts) >= 2 and np.isfinite(pts).all() and np.all(np.diff(pts[:, 0]) > 0)
    pv = panel.state.preview
    assert pv["kind"] == "elbo" and pv["model"].family == "vae" and pv["readouts"] is None
    assert panel.result is before and panel.image.isVisible() and panel.image.image.shape == (150, 150)
    assert panel.fig_caption.text.startswith("training vae (step ")
    panel.cancel()
    assert not panel.training and panel.progress.format() == "cancelled" and panel.state.preview is None
    assert panel.train_btn.isEnabled() and not panel.cancel_btn.isEnabled() and panel.model is None
    qtbot.waitUntil(lambda: panel.engine.pending() == 0, timeout=30000)   # the job is closed on the engine


def test_cancel_a_particle_chain(panel, qtbot, tiny_models):
    _set(panel, qtbot, tiny_models["ebm"])
    panel.slow_check.setChecked(True)
    panel.run_chain()
    qtbot.waitUntil(lambda: panel._live is not None, timeout=20000)
    panel.cancel()
    assert not panel.chain_running and panel.run_btn.isEnabled() and "(cancelled)" in panel.chain_label.text()
    assert panel.chain_seed == 1     # the next chain takes the next seed
    qtbot.waitUntil(lambda: panel.engine.pending() == 0, timeout=30000)
    assert panel.default_done()
