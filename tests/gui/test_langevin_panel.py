"""The chain panel on an energy-based model: Langevin samplers, their per-step plots and the drift/noise view."""
import numpy as np
import pytest
import torch

from genviz.backend.samplers import get_sampler
from genviz.gui.main_window import MainWindow


@pytest.fixture
def ebm_window(qtbot, ckpt_dir, monkeypatch):
    """A shown MainWindow with a tiny random ConvEnergy (mnist data) loaded."""
    import genviz.backend.checkpoints as ck
    from genviz.backend import save_checkpoint
    from genviz.backend.nets.energy import ConvEnergy
    monkeypatch.setattr(ck, "CHECKPOINT_DIR", ckpt_dir)
    path = ckpt_dir / "tiny-ebm.safetensors"
    if not path.exists():
        torch.manual_seed(0)
        save_checkpoint(path, ConvEnergy(in_channels=1, width=4).state_dict(), {
            "name": "tiny-ebm", "family": "ebm", "network": {"class": "ConvEnergy", "config": {"in_channels": 1, "width": 4}},
            "data": {"shape": [1, 28, 28], "range": [-1.0, 1.0], "dataset": "mnist", "kind": "image"},
            "energy": {"sign": "energy"},
            "sampler": {"name": "ula", "steps": 10, "step_size": 0.5, "convention": "B", "noise_scale": 0.1},
            "training": {"recipe": "test (random weights)"}})
    w = MainWindow(device="cpu")
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.modelLoaded, timeout=30000):
        w.load(str(path))
    qtbot.waitUntil(lambda: len(w.chain_panel.state.history()) == 1, timeout=10000)
    yield w
    w.close()
    assert not w.engine.isRunning()


def test_plot_keys():
    # each sampler's plots come from its SamplerSpec; "energy" only for models with an energy
    assert get_sampler("ddim").plots(has_energy=False, has_classifier=True) == ("t", "x_norm", "eps_norm", "p_final")
    assert get_sampler("ula").plots(has_energy=True) == ("energy", "grad_norm", "x_norm")
    assert get_sampler("mala").plots(has_energy=True, has_classifier=True) == ("energy", "grad_norm", "accept", "p_final")
    assert get_sampler("annealed").plots(has_energy=False) == ("grad_norm", "sigma")


def test_ebm_chain_steps_with_drift_and_noise(ebm_window, qtbot):
    p, st = ebm_window.chain_panel, ebm_window.chain_panel.state
    assert p.supported() and p.stack.currentIndex() == 1
    assert p.sampler_combo.currentData() == "ula" and p.steps_spin.value() == 10
    names = [p.sampler_combo.itemData(i) for i in range(p.sampler_combo.count())]
    assert {"ula", "mala", "gradient-flow"} <= set(names)
    p.step()
    qtbot.waitUntil(lambda: len(st.history()) == 2, timeout=10000)
    p.select_sample(2)
    p.refresh()
    rec = st.shown_record()
    # the record splits the update into drift and noise: x_1 = clip(x_0 + drift + noise)
    assert rec.drift_u8.shape == rec.noise_u8.shape == (16, 1, 28, 28)
    assert rec.energy is not None and rec.grad_norm > 0 and rec.accept is None
    assert rec.drift_norms.shape == (16,) and np.all(rec.noise_norms > 0)
    # ULA noise (convention B, noise_scale s): sqrt(eta) * s * xi, so ||noise|| ~ sqrt(0.5) * 0.1 * sqrt(784)
    assert np.median(rec.noise_norms) == pytest.approx(np.sqrt(0.5) * 0.1 * 28, rel=0.15)
    # the view shows the selected sample's terms, in the slot of the x0_hat grid
    assert p.right_stack.currentWidget() is p.drift_view
    assert p.drift_view.norms == pytest.approx((rec.drift_norms[2], rec.noise_norms[2]))
    assert "drift" in p.drift_view.tiles[0].caption.text
    assert p.plots.keys == ("energy", "grad_norm", "x_norm", "p_final")
    # the classifier judges x itself (no x0_hat for Langevin)
    assert rec.probs.shape == (16, 10) and np.allclose(p.bars.probs, rec.probs[2])


def test_mala_shows_acceptance_and_branches(ebm_window, qtbot):
    p, st = ebm_window.chain_panel, ebm_window.chain_panel.state
    p.sampler_combo.setCurrentIndex(p.sampler_combo.findData("mala"))
    p.param_form.widgets["step_size"].setValue(0.01)
    p.batch_spin.setValue(4)
    p.reset()
    qtbot.waitUntil(lambda: st.branch is not None and st.branch.sampler == "mala", timeout=10000)
    p.run()
    qtbot.waitUntil(lambda: st.status == "done", timeout=20000)
    p.refresh()
    hist = st.history()
    assert len(hist) == 11 and all(0.0 <= r.accept <= 1.0 for r in hist[1:])
    assert p.plots.keys == ("energy", "grad_norm", "accept", "p_final")
    xs, ys = p.plots.curves["accept"].getData()
    assert len(xs) == 10 and np.allclose(ys, [r.accept for r in hist[1:]])
    # scrub back and branch with another sampler of the same (step) grid
    st.scrub(4)
    p.sampler_combo.setCurrentIndex(p.sampler_combo.findData("gradient-flow"))
    p.branch_here()
    qtbot.waitUntil(lambda: len(st.branches) == 2, timeout=10000)
    p.run()
    qtbot.waitUntil(lambda: st.status == "done", timeout=20000)
    b2 = st.branch
    assert b2.sampler == "gradient-flow" and b2.start == 4 and len(b2.history()) == 11
    assert torch.equal(b2.history()[4].x, st.branches[0].history()[4].x)
    # gradient flow adds no noise
    assert all(float(np.abs(r.noise_norms).max()) == 0.0 for r in b2.records[1:])


def test_small_float_parameters_survive_the_form(qtbot):
    """Annealed Langevin's ε = 2e-5 was shown as 0.000 by a 3-decimal spin box and refused as 0.0: every float
    field now holds any value of its range, shown and typed in %g notation, and steps ×/÷ 1.5 on a positive range."""
    from genviz.gui.widgets.param_form import ParamForm
    form = ParamForm()
    qtbot.addWidget(form)
    spec = get_sampler("annealed")
    form.set_params(spec.params)
    w = form.widgets["epsilon"]
    assert w.text() == "2e-05" and form.values()["epsilon"] == 2e-5
    spec.param("epsilon").validate(form.values()["epsilon"])  # accepted by the sampler
    w.lineEdit().selectAll()
    qtbot.keyClicks(w.lineEdit(), "3e-6")
    w.interpretText()
    assert form.values()["epsilon"] == 3e-6
    w.stepBy(1)
    assert abs(form.values()["epsilon"] - 4.5e-6) < 1e-12
