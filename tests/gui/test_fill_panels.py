"""The chain panel and the canvas on the autoregressive and RBM families (tiny random networks)."""
import numpy as np
import pytest
import torch

from genviz.gui.main_window import MainWindow


def _save(ckpt_dir, kind, shape=(1, 28, 28)):
    from genviz.backend import save_checkpoint
    from genviz.backend.nets.pixelcnn import GatedPixelCNN
    from genviz.backend.nets.rbm import BernoulliRBM
    torch.manual_seed(0)
    data = {"shape": list(shape), "range": [-1.0, 1.0], "dataset": "mnist", "kind": "image"}
    path = ckpt_dir / f"tiny-{kind}-{shape[1]}.safetensors"
    if kind == "ar":
        cfg = dict(channels=4, layers=2, kernel=3, head=4)
        save_checkpoint(path, GatedPixelCNN(**cfg).state_dict(), {
            "name": "tiny-ar", "family": "autoregressive", "network": {"class": "GatedPixelCNN", "config": cfg},
            "data": data, "sampler": {"name": "pixelcnn", "steps": shape[1] * shape[2]}})
    else:
        net = BernoulliRBM(shape[1] * shape[2], 8)
        save_checkpoint(path, net.state_dict(), {
            "name": "tiny-rbm", "family": "rbm", "network": {"class": "BernoulliRBM", "config": net.config},
            "data": data, "sampler": {"name": "gibbs", "steps": 6, "init": "uniform"}})
    return path


@pytest.fixture
def open_window(qtbot, ckpt_dir, monkeypatch):
    import genviz.backend.checkpoints as ck
    monkeypatch.setattr(ck, "CHECKPOINT_DIR", ckpt_dir)
    windows = []

    def make(path):
        w = MainWindow(device="cpu")
        qtbot.addWidget(w)
        w.show()
        with qtbot.waitSignal(w.modelLoaded, timeout=30000):
            w.load(str(path))
        qtbot.waitUntil(lambda: len(w.chain_panel.state.history()) == 1, timeout=10000)
        windows.append(w)
        return w
    yield make
    for w in windows:
        w.close()


def test_pixel_chain_plots_the_next_pixels_probability_and_branches(open_window, ckpt_dir, qtbot):
    w = open_window(_save(ckpt_dir, "ar", (1, 8, 8)))
    p, st = w.chain_panel, w.chain_panel.state
    assert p.sampler_combo.currentData() == "pixelcnn" and p.steps_spin.value() == 64
    p.batch_spin.setValue(3)
    p.reset()
    qtbot.waitUntil(lambda: st.branch is not None and st.branch.n == 3, timeout=10000)
    p.run()
    qtbot.waitUntil(lambda: st.status == "done", timeout=30000)
    p.select_sample(1)
    p.refresh()
    hist = st.history()
    assert len(hist) == 65 and p.plots.keys == ("p_next", "nll")
    xs, ys = p.plots.curves["p_next"].getData()
    assert np.allclose(ys, [r.extra["p_next"][1] for r in hist[:-1]])      # the selected sample's curve
    assert "next pixel is white" in p.caption.text() or "Finished" in p.caption.text()
    assert "pixels drawn" in p.x_grid.label.text
    st.scrub(20)
    p.branch_here()
    qtbot.waitUntil(lambda: len(st.branches) == 2, timeout=10000)
    p.run()
    qtbot.waitUntil(lambda: st.status == "done", timeout=30000)
    first, second = st.branches[0].history()[-1].x, st.branch.history()[-1].x
    assert torch.equal(first.flatten(1)[:, :20], second.flatten(1)[:, :20])


def test_gibbs_chain_shows_the_mean_field_image_and_free_energy(open_window, ckpt_dir, qtbot):
    w = open_window(_save(ckpt_dir, "rbm"))
    p, st = w.chain_panel, w.chain_panel.state
    assert p.sampler_combo.currentData() == "gibbs"
    p.run()
    qtbot.waitUntil(lambda: st.status == "done", timeout=30000)
    p.refresh()
    rec = st.history()[-1]
    assert p.plots.keys == ("energy", "p_final") and rec.energy is not None
    assert rec.x0_u8 is not None and "mean-field" in p.x0_grid.label.text
    assert "Gibbs" in p.caption.text() or "sweep" in p.caption.text().lower()


def test_canvas_fills_masked_pixels_and_keeps_the_rest(open_window, ckpt_dir, qtbot):
    w = open_window(_save(ckpt_dir, "ar"))
    c = w.canvas_panel
    assert c.supported() and c.state.fill == "causal" and c.sampler_combo.currentText() == "pixelcnn"
    c.canvas.draw_polyline([(140, 40), (140, 240)])
    c.canvas.brush_size = 40
    c.canvas.draw_polyline([(100, 120), (180, 120)], tool="mask")
    c.k_spin.setValue(2)
    with qtbot.waitSignal(c.generated, timeout=60000):
        c.generate()
    from genviz.gui.panels.canvas import model_view
    y = model_view(c.canvas.ink_array(), (1, 28, 28))
    m = model_view(np.repeat(c.canvas.mask_array()[..., None], 3, 2), (1, 28, 28))
    for cand in c.staging.candidates:
        keep = m < 0.5
        assert np.array_equal(cand.image[keep], y[keep])                        # bit for bit
        assert set(np.unique(cand.image[~keep])) <= {0.0, 1.0}
    assert "orange" in c.caption.text() and "NLL" in c.views.xt0_box.title()
