"""The chain panel's GAN-step tools, the canvas's DDGAN editing and the Few steps panel, through real widgets."""
import pytest

import genviz.backend.ddgan  # noqa: F401  (registers the ddgan family until the registry lists it)
import genviz.backend.samplers.ddgan  # noqa: F401

NET = dict(in_channels=1, latent_dim=8, num_timesteps=4, channels=[8, 8, 8], cond_dim=16, map_layers=1)
META = {"name": "tiny-ddgan", "family": "ddgan", "network": {"class": "DDGANGenerator", "config": NET},
        "data": {"shape": [1, 28, 28], "range": [-1.0, 1.0], "dataset": "mnist", "kind": "image",
                 "convention": "white ink on black"},
        "schedule": {"kind": "vp-sde-discrete", "num_timesteps": 4}, "latent": {"shape": [8]},
        "sampler": {"name": "ddgan", "steps": 4}, "training": {"recipe": "test"}}


@pytest.fixture
def ddgan_window(qtbot, ckpt_dir, monkeypatch):
    """A shown MainWindow with a tiny random DDGAN loaded."""
    import torch

    import genviz.backend.checkpoints as ck
    from genviz.backend import save_checkpoint
    from genviz.backend.nets.ddgan import DDGANGenerator
    from genviz.gui.main_window import MainWindow
    monkeypatch.setattr(ck, "CHECKPOINT_DIR", ckpt_dir)
    torch.manual_seed(0)
    path = ckpt_dir / "tiny-ddgan.safetensors"
    save_checkpoint(path, DDGANGenerator(**NET).state_dict(), META)
    w = MainWindow(device="cpu")
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.modelLoaded, timeout=30000):
        w.load(str(path))
    qtbot.waitUntil(lambda: len(w.chain_panel.state.history()) == 1, timeout=10000)
    yield w
    w.close()


def test_ddgan_chain_resample_z_and_perturb(ddgan_window, qtbot):
    from PySide6.QtCore import Qt
    p = ddgan_window.chain_panel
    st = p.state
    assert p.supported() and p.sampler_combo.currentData() == "ddgan"
    qtbot.mouseClick(p.run_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: st.status == "done", timeout=20000)
    hist = st.history()
    assert len(hist) == 5 and all(r.x0_u8 is not None for r in hist[1:])
    assert [r.t for r in hist[1:]] == [3, 2, 1, 0]
    p.refresh()
    assert p.gan_box.isVisible() and not p.resample_btn.isEnabled()  # the clean end: nothing to resample
    p.slider.setValue(1)
    p.refresh()
    assert p.resample_btn.isEnabled()
    p.k_spin.setValue(6)
    qtbot.mouseClick(p.resample_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: p.right_stack.currentWidget() is p.resample_grid, timeout=30000)
    assert p.resample_grid._shape[0] == 6
    p.grab().save(str(ddgan_window.property("shot") or "/tmp/genviz-ddgan-chain.png"))
    qtbot.mouseClick(p.perturb_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: p.perturb_dialog is not None and p.perturb_dialog.isVisible(), timeout=20000)
    assert p.perturb_dialog.layout().count() >= 2 + 2 * 4 + 1  # header, a row per t, the caption
    p.perturb_dialog.close()


def test_canvas_offers_ddgan_editing_with_rate(ddgan_window, qtbot):
    from PySide6.QtCore import Qt
    c = ddgan_window._panels["canvas"]
    assert c.supported()
    names = [c.controls.sampler_combo.itemText(i) for i in range(c.controls.sampler_combo.count())]
    assert names == ["ddgan"] and not c.controls.steps_spin.isEnabled()
    assert not c.controls.guide_cb.isEnabled()
    c.controls.t0_slider.setValue(50)
    c.controls.k_spin.setValue(3)
    qtbot.mouseClick(c.generate_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not c.busy and c.state.last_seconds is not None, timeout=20000)
    assert len(c.staging.batches[-1]) == 3
    assert "images/s" in c.latency_label.text()


def test_few_steps_panel(qtbot):
    from genviz.gui.panels.fewsteps import FewStepsPanel
    from genviz.panels import get_panel
    p = FewStepsPanel(None)
    qtbot.addWidget(p)
    p.show()
    assert p.run_default(4) and p.default_done()
    titles = [pl.getPlotItem().titleLabel.text for pl in p.step_plots]
    assert titles[0].startswith("1000 steps") and "1 peak" in titles[0] and "3 peaks" in titles[-1]
    # room above the tallest curve for the top-right legend (it used to sit on the 1000-step peak)
    for pl, r in zip(p.step_plots, p.state.results):
        top = pl.getPlotItem().viewRange()[1][1]
        assert top >= 1.5 * max(r.true.max(), r.gauss.max())
    p.level_combo.setCurrentIndex(1)  # the step ends at s = 0.5: one peak everywhere
    assert all("1 peak" in pl.getPlotItem().titleLabel.text for pl in p.step_plots)
    p.x_slider.setValue(0)
    assert p.session_state() == {"data": "three bumps", "x_t": -4.0, "s_end": 0.5}
    done = []
    p.restore_session({"data": "two bumps", "x_t": 0.5, "s_end": 0.25}, lambda: done.append(1))
    assert done and p.data_combo.currentText() == "two bumps" and p.x_label.text() == "x_t = 0.50"
    p.set_presenting(True, 2.0)
    assert p.caption.scale == 2.0
    p.set_presenting(False)
    assert p.caption.scale == 1.0 and p.controls.width() == 236
    assert get_panel("fewsteps").why_not(object()) is None
