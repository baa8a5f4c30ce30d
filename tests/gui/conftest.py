"""Fixtures for the GUI tests: offscreen Qt, a tiny diffusion checkpoint and a tiny digit classifier
in a temporary checkpoint folder, isolated QSettings, and a main window that is always closed."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402  (pytest-qt reads QT_QPA_PLATFORM when it loads)

TINY_META = {
    "name": "tiny", "family": "diffusion",
    "network": {"class": "UNet", "config": {"in_channels": 1, "base": 8, "mults": [1, 2], "blocks": 1,
                                            "attn_lowest": False, "dropout": 0.0}},
    "data": {"shape": [1, 28, 28], "range": [-1, 1], "dataset": "mnist", "kind": "image"},
    "schedule": {"beta_schedule": "squaredcos_cap_v2", "num_train_timesteps": 1000, "prediction_type": "epsilon"},
    "sampler": {"name": "ddim", "steps": 20, "eta": 0.0},
    "training": {"recipe": "test"},
}


@pytest.fixture(scope="session")
def ckpt_dir(tmp_path_factory):
    """A checkpoint folder with tiny.safetensors and a tiny (random) mnist-classifier."""
    import torch

    from genviz.backend import save_checkpoint
    from genviz.backend.nets.classifier import DigitCNN
    from genviz.backend.nets.unet import UNet
    d = tmp_path_factory.mktemp("checkpoints")
    torch.manual_seed(0)
    save_checkpoint(d / "tiny.safetensors",
                    UNet(base=8, mults=[1, 2], blocks=1, attn_lowest=False).state_dict(), TINY_META)
    cfg = dict(in_channels=1, num_classes=10, width=4, feat=8)
    save_checkpoint(d / "mnist-classifier.safetensors", DigitCNN(**cfg).state_dict(), {
        "name": "mnist-classifier", "family": "classifier", "network": {"class": "DigitCNN", "config": cfg},
        "data": {"shape": [1, 28, 28], "range": [-1.0, 1.0], "dataset": "mnist", "kind": "image"},
        "classes": [str(i) for i in range(10)], "training": {"recipe": "test"}})
    return d


@pytest.fixture
def tiny_ckpt(ckpt_dir, monkeypatch):
    """Path of the tiny diffusion checkpoint; the bundled-checkpoint folder points at ``ckpt_dir``."""
    import genviz.backend.checkpoints as ck
    monkeypatch.setattr(ck, "CHECKPOINT_DIR", ckpt_dir)
    return str(ckpt_dir / "tiny.safetensors")


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, qapp):
    """QSettings (recent files) go to a temporary folder, never the user's."""
    from PySide6.QtCore import QSettings
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    yield


@pytest.fixture
def window(qtbot, tiny_ckpt):
    """A shown MainWindow with the tiny model loaded (chain at record 0); closed after the test."""
    from genviz.gui.main_window import MainWindow
    w = MainWindow(device="cpu")
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.modelLoaded, timeout=30000):
        w.load(tiny_ckpt)
    qtbot.waitUntil(lambda: len(w.chain_panel.state.history()) == 1, timeout=10000)
    yield w
    w.close()
    assert not w.engine.isRunning()
