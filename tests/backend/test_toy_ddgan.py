"""The 2-D toy DDGAN: network registration, a short resumable training run, the figures and the sampler."""
import torch

import genviz.backend.samplers.ddgan  # noqa: F401
import genviz.backend.toy_ddgan  # noqa: F401  (registers ToyDDGANGenerator with the ddgan family)
from genviz.backend.checkpoints import load_checkpoint, read_metadata
from genviz.backend.registry import get_family
from genviz.backend.training import toy_ddgan as recipe


def test_registered_next_to_the_mnist_network():
    fam = get_family("ddgan")
    assert {"DDGANGenerator", "ToyDDGANGenerator"} <= set(fam.networks)


def test_short_run_saves_resumes_and_samples(tmp_path):
    out, state = tmp_path / "toy.safetensors", tmp_path / "toy.pt"
    recipe.train(out, iters=20, batch_size=32, state=state, save_every=10, log=None)
    meta = read_metadata(out)
    assert meta["training"]["iterations"] == 20 and meta["training"]["module"] == "genviz.backend.training.toy_ddgan"
    assert "25gaussians" in meta["training"]["data_source"]
    m = recipe.train(out, iters=30, batch_size=32, state=state, resume=True, save_every=10, log=None)
    assert read_metadata(out)["training"]["iterations"] == 30
    loaded = load_checkpoint(out, device="cpu")
    assert loaded.family == "ddgan" and loaded.data_shape == (2,) and loaded.num_timesteps == 4
    for k, v in m.net.state_dict().items():
        assert torch.equal(v, loaded.net.state_dict()[k])
    figs = recipe.evaluate(loaded, n=200)
    assert figs["modes"] == 25 and 0 <= figs["high_quality"] <= 1 and figs["mmd2"] >= -0.01
