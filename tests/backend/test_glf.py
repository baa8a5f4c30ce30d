"""The generative latent flow family (genviz.backend.glf): flow algebra, the stop-gradient, seeds, the recipe,
checkpoints and panels, on tiny networks."""
import json

import pytest
import torch

from genviz.backend import CheckpointError, load_checkpoint, sample, save_checkpoint
from genviz.backend.glf import GLFModel
from genviz.backend.nets.glf import GLFNet
from genviz.backend.training import mnist_glf

TINY = dict(in_channels=1, latent_dim=3, width=4, transforms=2, hidden=16, bins=4)


def _meta(cfg=TINY):
    return {"name": "tiny-glf", "family": "glf", "network": {"class": "GLFNet", "config": cfg},
            "data": {"shape": [1, 28, 28], "range": [-1.0, 1.0], "dataset": "mnist", "kind": "image"},
            "latent": {"shape": [cfg["latent_dim"]]}, "sampler": {"name": "decode", "steps": 1}}


@pytest.fixture
def glf():
    torch.manual_seed(0)
    net = GLFNet(**TINY)
    with torch.no_grad():  # a non-trivial standardisation and spline parameters
        net.z_mean.copy_(torch.tensor([0.5, -1.0, 2.0]))
        net.z_std.copy_(torch.tensor([2.0, 0.5, 1.5]))
        for p in net.flow.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return GLFModel(net, _meta(), "cpu")


def test_flow_round_trip_and_encode_decode(glf):
    z = torch.randn(6, 3) * 2
    assert torch.allclose(glf.to_z(glf.to_eps(z)), z, atol=1e-4)
    x = sample(glf, n=4, seed=3)
    eps = glf.encode(x)
    assert eps.shape == (4, 3)
    # encode is E then f; decode is f⁻¹ then G: decode(encode(x)) equals the auto-encoder's reconstruction
    assert torch.allclose(glf.decode(eps), glf.decode_z(glf.encode_z(x)), atol=1e-4)


def test_flow_log_det_matches_autograd(glf):
    z = torch.randn(4, 3)
    _, ladj = glf.net.flow_forward(z)
    for i in range(4):
        jac = torch.autograd.functional.jacobian(lambda v: glf.net.flow_forward(v[None])[0][0], z[i])
        assert float(ladj[i]) == pytest.approx(float(torch.linalg.slogdet(jac)[1]), abs=1e-4)
    # and log p(z) is the change of variables
    eps, ladj = glf.net.flow_forward(z)
    ref = torch.distributions.Normal(0, 1).log_prob(eps).sum(1) + ladj
    assert torch.allclose(glf.net.flow_log_prob(z), ref, atol=1e-5)


def test_stop_gradient_keeps_flow_loss_off_the_encoder():
    torch.manual_seed(1)
    net = GLFNet(**TINY)
    x = torch.rand(5, 1, 28, 28) * 2 - 1
    for sg, touched in ((True, False), (False, True)):
        net.zero_grad(set_to_none=True)
        _, _, nll = mnist_glf.glf_loss(net, x, stop_gradient=sg)
        nll.backward()
        enc = [p.grad for p in net.enc.parameters()]
        assert any(g is not None and float(g.abs().sum()) > 0 for g in enc) == touched
        assert all(p.grad is not None for p in net.flow.parameters())   # the flow always learns


def test_seed_replay_and_prior(glf):
    a, b = sample(glf, n=3, seed=7), sample(glf, n=3, seed=7)
    assert torch.equal(a, b) and not torch.equal(a, sample(glf, n=3, seed=8))
    # seed s decodes ε_s = randn(latent, seed s), as every latent model
    eps = torch.randn(3, generator=torch.Generator().manual_seed(11))
    assert torch.allclose(sample(glf, n=1, seed=11), glf.decode(eps[None]))
    assert a.min() >= -1 and a.max() <= 1


def test_latent_spaces_share_endpoints(glf):
    e, z = glf.latent_space("eps"), glf.latent_space("z")
    for s in (1, 2):
        assert torch.allclose(e.decode(e.seed_latent(s)[None]), z.decode(z.seed_latent(s)[None]), atol=1e-4)
    x = sample(glf, n=2, seed=0)
    assert torch.allclose(z.encode(x), glf.encode_z(x))
    with pytest.raises(ValueError, match="space must be"):
        glf.latent_space("w")


def test_tiny_recipe_resumes_and_loads(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist_glf, "NET_CONFIG", dict(TINY))
    out, state = tmp_path / "g.safetensors", tmp_path / "g.pt"
    mnist_glf.train(out=out, iters=2, batch_size=4, state=state, latent_dim=3, log=lambda s: None)
    mnist_glf.train(out=out, iters=3, batch_size=4, state=state, latent_dim=3, resume=True, log=lambda s: None)
    m = load_checkpoint(out, device="cpu")
    assert isinstance(m, GLFModel) and m.metadata["training"]["iterations"] == 3
    assert m.metadata["training"]["stop_gradient"] is True
    assert sample(m, n=2, seed=0).shape == (2, 1, 28, 28)


def test_save_load_round_trip_and_refusals(glf, tmp_path):
    p = save_checkpoint(tmp_path / "g.safetensors", glf.net.state_dict(), _meta())
    m = load_checkpoint(p, device="cpu")
    assert torch.equal(sample(m, n=2, seed=1), sample(glf, n=2, seed=1))
    bad = save_checkpoint(tmp_path / "bad.safetensors", glf.net.state_dict(), _meta({**TINY, "latent_dim": 5}))
    with pytest.raises(CheckpointError, match="weights do not match"):
        load_checkpoint(bad, device="cpu")
    meta = json.loads(json.dumps(_meta()))
    meta["network"]["class"] = "ConvVAE"
    other = save_checkpoint(tmp_path / "other.safetensors", glf.net.state_dict(), meta)
    with pytest.raises(CheckpointError, match="unknown network class"):
        load_checkpoint(other, device="cpu")


def test_panels(glf):
    from genviz.panels import panels_for
    keys = [p.key for p in panels_for(glf)]
    assert "interpolation" in keys and "chain" not in keys and "density" not in keys
