"""The autoregressive family: PixelCNN causality, exact NLL, the raster-order sampler, clamped completion, files."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from genviz.backend import chain, load_checkpoint, save_checkpoint
from genviz.backend.autoregressive import AutoregressiveModel, binarise
from genviz.backend.checkpoints import CheckpointError
from genviz.backend.completion import complete, nll_map, tail_mask, visibility
from genviz.backend.nets.pixelcnn import GatedPixelCNN
from genviz.panels import panels_for

CFG = dict(channels=6, layers=3, kernel=3, head=8)


def tiny(h=7, w=6, seed=0):
    torch.manual_seed(seed)
    net = GatedPixelCNN(**CFG)
    for p in net.parameters():  # large weights: every allowed dependency is visibly non-zero
        p.data.normal_(0, 0.5)
    meta = {"name": "tiny-ar", "family": "autoregressive", "network": {"class": "GatedPixelCNN", "config": CFG},
            "data": {"shape": [1, h, w], "range": [-1.0, 1.0], "dataset": "tiny"}}
    return AutoregressiveModel(net, meta)


def test_logits_depend_only_on_earlier_pixels():
    m = tiny()
    hw = 7 * 6
    v = (torch.rand(1, 1, 7, 6, generator=torch.Generator().manual_seed(1)) < 0.5).float()
    jac = torch.autograd.functional.jacobian(lambda z: m.net(z).flatten(), v).reshape(hw, hw)
    assert jac.triu().abs().max() == 0          # no logit sees its own pixel or a later one
    # the vertical stack removes the blind spot: the pixel right above, and the one up-right, are seen
    i = 3 * 6 + 2
    assert jac[i, i - 6] != 0 and jac[i, i - 6 + 1] != 0 and jac[i, i - 1] != 0
    # sampling's cropped pass (the rows a logit can see) gives every row's logits
    big = tiny(20, 5)
    vb = (torch.rand(2, 1, 20, 5, generator=torch.Generator().manual_seed(4)) < 0.5).float()
    full = big.logits_unit(vb)[:, 0]
    assert big.net.rows_above < 19
    for r in range(20):
        assert torch.allclose(big.logits_row(vb, r), full[:, r], atol=1e-5)


def test_log_prob_is_minus_the_sum_of_per_pixel_bces():
    m = tiny()
    v = (torch.rand(3, 1, 7, 6, generator=torch.Generator().manual_seed(2)) < 0.4).float()
    x = m.from_unit(v)
    ref = F.binary_cross_entropy(torch.sigmoid(m.net(v)), v, reduction="none").flatten(1).sum(1)
    assert torch.allclose(m.log_prob(x), -ref, atol=1e-4)
    assert torch.allclose(nll_map(m, x).flatten(1).sum(1), ref, atol=1e-4)
    # with a 2-pixel image the distribution is enumerable: the four probabilities sum to 1
    m2 = tiny(1, 2)
    allv = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]).view(4, 1, 1, 2)
    assert float(m2.log_prob(m2.from_unit(allv)).exp().sum()) == pytest.approx(1.0, abs=1e-5)


def test_sampler_replays_branches_and_draws_binary_pixels():
    m = tiny()
    a = list(chain(m, "pixelcnn", steps=42, n=2, seed=5))
    b = list(chain(m, "pixelcnn", steps=42, n=2, seed=5))
    assert len(a) == 43 and torch.equal(a[-1].x, b[-1].x)
    assert set(a[-1].x.unique().tolist()) <= {-1.0, 1.0}
    assert a[0].stats["p_next"].shape == (2,) and float(a[-1].stats["nll"][0]) > 0
    # the running −log p of the drawn pixels is the model's exact NLL of the final image (temperature 1)
    assert torch.allclose(a[-1].stats["nll"], -m.log_prob(a[-1].x), atol=1e-3)
    # branching from pixel 20 keeps pixels 0..19 and re-draws the rest
    br = list(chain(m, "pixelcnn", steps=22, seed=9, x_init=a[20].x))
    keep = a[20].x.flatten(1)[:, :20]
    assert torch.equal(br[-1].x.flatten(1)[:, :20], keep) and not torch.equal(br[-1].x, a[-1].x)
    rows = list(chain(m, "pixelcnn", steps=7, n=1, seed=5, unit="row"))
    assert len(rows) == 8 and rows[1].t_next == 6
    with pytest.raises(ValueError, match="steps must be in 1..7"):
        list(chain(m, "pixelcnn", steps=8, unit="row"))
    with pytest.raises(ValueError, match="temperature"):
        list(chain(m, "pixelcnn", steps=3, temperature=0))


def test_completion_keeps_known_pixels_bit_for_bit():
    m = tiny()
    y = torch.rand(1, 7, 6, generator=torch.Generator().manual_seed(3)) * 2 - 1  # grey levels too
    unknown = torch.zeros(7, 6, dtype=torch.bool)
    unknown[2:5, 1:4] = True
    out = complete(m, y, unknown, n=3, seed=1)
    assert out.shape == (3, 1, 7, 6)
    assert torch.equal(out[:, 0][:, ~unknown], y[0][~unknown].expand(3, -1))
    assert set(out[:, 0][:, unknown].unique().tolist()) <= {-1.0, 1.0}
    assert torch.equal(out, complete(m, y, unknown, n=3, seed=1))
    codes = visibility(unknown)
    assert codes[2, 0] == 0 and codes[2, 1] == 1 and codes[2, 4] == 2 and codes[6, 5] == 2
    assert tail_mask((1, 7, 6), 0.5).reshape(-1).tolist() == [False] * 21 + [True] * 21


def test_binarise_modes():
    u = torch.tensor([0.0, 0.49, 0.5, 1.0])
    assert binarise(u).tolist() == [0, 0, 1, 1]
    s = binarise(u.expand(4000, 4), "stochastic", torch.Generator().manual_seed(0)).mean(0)
    assert s[0] == 0 and s[3] == 1 and abs(float(s[1]) - 0.49) < 0.03
    with pytest.raises(ValueError):
        binarise(u, "stochastic")


def test_round_trip_broken_file_and_panels(tmp_path):
    m = tiny(28, 28)
    p = save_checkpoint(tmp_path / "ar.safetensors", m.net.state_dict(), m.metadata)
    back = load_checkpoint(p, device="cpu")
    assert type(back) is AutoregressiveModel and back.traits.density
    x = m.from_unit((torch.rand(2, 1, 28, 28) < 0.3).float())
    assert torch.equal(back.log_prob(x), m.log_prob(x))
    bad = dict(m.metadata, network={"class": "GatedPixelCNN", "config": dict(CFG, channels=5)})
    save_checkpoint(tmp_path / "bad.safetensors", m.net.state_dict(), bad)
    with pytest.raises(CheckpointError, match="weights do not match"):
        load_checkpoint(tmp_path / "bad.safetensors", device="cpu")
    keys = [s.key for s in panels_for(back)]
    assert "chain" in keys and "canvas" in keys and "interpolation" not in keys and "density" not in keys


def test_tiny_recipe_writes_a_loadable_checkpoint(tmp_path):
    from genviz.backend.training import mnist_pixelcnn
    out = mnist_pixelcnn.train(out=tmp_path / "pc.safetensors", iters=2, batch_size=4, resume_file=tmp_path / "r.pt",
                               net_config=dict(channels=4, layers=2, kernel=3, head=4), log=lambda *_: None)
    m = load_checkpoint(out, device="cpu")
    fig = m.metadata["training"]["figures"]
    assert fig["test_digits"] == 1000 and 0 < fig["test_nll_nats"] < 784 * np.log(2) * 2
    again = mnist_pixelcnn.train(out=tmp_path / "pc.safetensors", iters=3, batch_size=4, resume=True,
                                 resume_file=tmp_path / "r.pt", net_config=dict(channels=4, layers=2, kernel=3, head=4),
                                 log=lambda *_: None)
    assert load_checkpoint(again, device="cpu").metadata["training"]["iterations"] == 3
