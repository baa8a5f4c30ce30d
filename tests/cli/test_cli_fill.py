"""`genviz sample` on the autoregressive and RBM families, `genviz complete` and `genviz filters`."""
import numpy as np
import pytest
import torch
from PIL import Image

from genviz.backend import save_checkpoint
from genviz.backend.nets.pixelcnn import GatedPixelCNN
from genviz.backend.nets.rbm import BernoulliRBM
from genviz.cli import main

DATA = {"shape": [1, 28, 28], "range": [-1.0, 1.0], "dataset": "mnist", "kind": "image"}


@pytest.fixture
def models(tmp_path):
    torch.manual_seed(0)
    cfg = dict(channels=4, layers=2, kernel=3, head=4)
    ar = save_checkpoint(tmp_path / "ar.safetensors", GatedPixelCNN(**cfg).state_dict(),
                         {"name": "ar", "family": "autoregressive", "network": {"class": "GatedPixelCNN", "config": cfg},
                          "data": DATA, "sampler": {"name": "pixelcnn", "steps": 784}})
    rbm = BernoulliRBM(784, 8)
    rbm = save_checkpoint(tmp_path / "rbm.safetensors", rbm.state_dict(),
                          {"name": "rbm", "family": "rbm", "network": {"class": "BernoulliRBM", "config": rbm.config},
                           "data": DATA, "sampler": {"name": "gibbs", "steps": 5, "init": "uniform"}})
    img = np.zeros((28, 28), np.uint8)
    img[4:24, 12:16] = 255
    img[10, 10] = 200  # a grey known pixel: kept as it is
    Image.fromarray(img).save(tmp_path / "digit.png")
    mask = np.zeros((28, 28), np.uint8)
    mask[14:, :] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    return tmp_path, ar, rbm


def test_sample_both_families_writes_binary_float32(models):
    d, ar, rbm = models
    for ckpt, steps in ((ar, "784"), (rbm, "5")):
        out = d / f"{ckpt.stem}.npz"
        assert main(["sample", str(ckpt), "--n", "2", "--seed", "1", "--steps", steps, "--out", str(out)]) == 0
        s = np.load(out)["samples"]
        assert s.shape == (2, 1, 28, 28) and s.dtype == np.float32 and set(np.unique(s)) <= {0.0, 1.0}


def test_complete_keeps_known_pixels_and_refuses_other_models(models, capsys):
    d, ar, rbm = models
    img = np.asarray(Image.open(d / "digit.png"), np.float32) / 255
    for ckpt in (ar, rbm):
        out = d / f"c-{ckpt.stem}.npz"
        assert main(["complete", str(ckpt), "--image", str(d / "digit.png"), "--mask", str(d / "mask.png"),
                     "--n", "2", "--seed", "3", "--steps", "3", "--out", str(out)]) == 0
        f = np.load(out)
        s, unknown = f["samples"], f["unknown"]
        assert s.shape == (2, 1, 28, 28) and s.dtype == np.float32 and unknown[14:].all() and not unknown[:14].any()
        assert np.array_equal(s[:, 0, :14], np.broadcast_to(img[:14], (2, 14, 28)))   # bit for bit, grey included
        assert set(np.unique(s[:, 0, 14:])) <= {0.0, 1.0}
    assert "could not see them" not in capsys.readouterr().out  # a bottom-half mask hides nothing
    empty = np.zeros((28, 28), np.uint8)
    Image.fromarray(empty).save(d / "none.png")
    assert main(["complete", str(ar), "--image", str(d / "digit.png"), "--mask", str(d / "none.png"),
                 "--out", str(d / "x.npz")]) == 1
    assert "nothing to fill" in capsys.readouterr().err


def test_mixing_report(models, capsys, tmp_path, monkeypatch):
    from genviz.backend import checkpoints
    from genviz.backend.nets.classifier import DigitCNN
    cfg = dict(in_channels=1, num_classes=10, width=4, feat=8)
    save_checkpoint(tmp_path / "mnist-classifier.safetensors", DigitCNN(**cfg).state_dict(), {
        "name": "mnist-classifier", "family": "classifier", "network": {"class": "DigitCNN", "config": cfg},
        "data": DATA, "classes": [str(i) for i in range(10)]})
    monkeypatch.setattr(checkpoints, "CHECKPOINT_DIR", tmp_path)
    d, ar, rbm = models
    assert main(["mixing", str(rbm), "--chains", "2", "--sweeps", "20", "--init", "uniform", "--device", "cpu"]) == 0
    import json
    rep = json.loads(capsys.readouterr().out)
    assert rep["sweeps"] == 20 and len(rep["per_chain"]) == 2 and 0 <= rep["switches_per_1000"] <= 1000 * 19 / 20
    assert main(["mixing", str(ar), "--device", "cpu"]) == 1


def test_filters_png(models, capsys):
    d, ar, rbm = models
    assert main(["filters", str(rbm), "--out", str(d / "f.png")]) == 0
    assert Image.open(d / "f.png").size == ((3 * 30 + 2) * 2, (3 * 30 + 2) * 2)  # 8 filters: a 3x3 grid
    assert main(["filters", str(ar), "--out", str(d / "g.png")]) == 1
    assert "filters are shown for RBMs" in capsys.readouterr().err
