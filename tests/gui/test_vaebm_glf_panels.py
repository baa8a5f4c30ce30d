"""The VAEBM before/after panel (model without Qt, then the real widgets in the main window) and the GLF's walk
space in the interpolation panel, on tiny random networks."""
import pytest

from genviz.gui.panels.vaebm.model import BeforeAfterState, Frame, Settings


def test_before_after_state_without_qt():
    import numpy as np
    st = BeforeAfterState()
    assert "Press Run" in st.caption() and st.after() is None
    img = np.zeros((2, 1, 28, 28), np.uint8)
    frames = [Frame(img, 1.0 - 0.1 * k, 2.0, 0.5, np.array([1, 2])) for k in range(3)]
    st.status = "running"
    st.set_frames(frames[:1])
    st.set_frames(frames)
    assert st.k == 2                                  # follows the newest frame while running
    frames[2].digits = np.array([1, 7])
    assert "1 changed digit" in st.bottom_title() and "K = 2" in st.bottom_title()
    st.set_k(99)
    assert st.k == 2
    st.restore({"seed": 5, "n": 999, "steps": 0, "k": 1, "junk": 1})
    assert (st.settings.seed, st.settings.n, st.settings.steps) == (5, 64, 1)
    with pytest.raises(ValueError, match="step size"):
        Settings(step_size=0).validated()


@pytest.fixture
def vaebm_window(qtbot, ckpt_dir, monkeypatch):
    import torch

    import genviz.backend.checkpoints as ck
    from genviz.backend import save_checkpoint
    from genviz.backend.nets.vaebm import VAEBMNet
    from genviz.gui.main_window import MainWindow
    monkeypatch.setattr(ck, "CHECKPOINT_DIR", ckpt_dir)
    torch.manual_seed(0)
    net = VAEBMNet("ConvVAE", dict(latent_dim=4, width=4), "ConvEnergy", dict(width=4))
    meta = {"name": "tiny-vaebm", "family": "vaebm", "network": {"class": "VAEBMNet", "config": net.config},
            "data": {"shape": [1, 28, 28], "range": [-1.0, 1.0], "dataset": "mnist", "kind": "image"},
            "latent": {"shape": [4]}, "sampler": {"name": "vaebm-langevin", "steps": 6, "step_size": 0.05},
            "training": {"recipe": "test"}}
    path = ckpt_dir / "tiny-vaebm.safetensors"
    save_checkpoint(path, net.state_dict(), meta)
    w = MainWindow(device="cpu")
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.modelLoaded, timeout=30000):
        w.load(str(path))
    yield w
    w.close()


def test_before_after_panel_runs_and_scrubs(vaebm_window, qtbot):
    from PySide6.QtCore import Qt
    p = vaebm_window._panels["vaebm"]
    assert p.supported() and p.steps_spin.value() == 6 and p.step_spin.value() == pytest.approx(0.05)
    p.n_spin.setValue(4)
    qtbot.mouseClick(p.run_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: p.state.status == "done", timeout=20000)
    assert len(p.state.frames) == 7 and p.slider.maximum() == 6 and p.state.k == 6
    assert p.state.frames[0].images.shape == (4, 1, 28, 28)
    assert p.state.frames[0].confident is not None     # the (tiny) digit classifier judged them
    p.slider.setValue(2)
    assert p.state.k == 2 and "K = 2" in p.k_label.text() and "K = 2" in p.bottom.label.text
    assert p.session_state()["k"] == 2
    p.set_presenting(True, 1.5)
    assert p.controls.width() > 230
    p.set_presenting(False)
    assert p.controls.width() == 230


def test_glf_walk_space_choice(qtbot, ckpt_dir, monkeypatch):
    import torch

    import genviz.backend.checkpoints as ck
    from genviz.backend import save_checkpoint
    from genviz.backend.nets.glf import GLFNet
    from genviz.gui.main_window import MainWindow
    monkeypatch.setattr(ck, "CHECKPOINT_DIR", ckpt_dir)
    torch.manual_seed(0)
    cfg = dict(latent_dim=3, width=4, transforms=1, hidden=8, bins=4)
    path = ckpt_dir / "tiny-glf.safetensors"
    save_checkpoint(path, GLFNet(**cfg).state_dict(), {
        "name": "tiny-glf", "family": "glf", "network": {"class": "GLFNet", "config": cfg},
        "data": {"shape": [1, 28, 28], "range": [-1.0, 1.0], "dataset": "mnist", "kind": "image"},
        "latent": {"shape": [3]}, "sampler": {"name": "decode", "steps": 1}, "training": {"recipe": "test"}})
    w = MainWindow(device="cpu")
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.modelLoaded, timeout=30000):
        w.load(str(path))
    p = w._panels["interpolation"]
    assert p.supported() and p.walk_space_combo.isVisibleTo(p) and "noise space" in p.space_label.text()
    p.walk_space_combo.setCurrentIndex(p.walk_space_combo.findData("z"))
    assert p.model.walk_space == "z" and "latent space" in p.space_label.text()
    data = p.session_state()  # the walk space is part of a session, and comes back from one
    assert data["walk_space"] == "z"
    p.walk_space_combo.setCurrentIndex(p.walk_space_combo.findData("eps"))
    assert p.model.walk_space == "eps"
    p.restore_session(data)
    assert p.model.walk_space == "z" and p.walk_space_combo.currentData() == "z"
    with pytest.raises(ValueError, match="walk_space"):
        p.restore_session({**data, "walk_space": "x"})
    assert p.model.walk_space == "z"  # a refused session changes nothing
    w.close()
