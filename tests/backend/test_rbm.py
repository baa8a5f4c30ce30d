"""The RBM family: free energy against brute force, block Gibbs against the exact distribution, clamping, files."""
import pytest
import torch

from genviz.backend import chain, load_checkpoint, save_checkpoint
from genviz.backend.checkpoints import CheckpointError
from genviz.backend.completion import complete, visibility
from genviz.backend.nets.rbm import BernoulliRBM
from genviz.backend.rbm import RBMModel, ais_log_z, all_binary, class_switches, exact_distribution
from genviz.panels import panels_for


def tiny(visible_shape=(1, 2, 3), hidden=4, seed=0, scale=1.0):
    torch.manual_seed(seed)
    v = 1
    for s in visible_shape:
        v *= s
    net = BernoulliRBM(v, hidden)
    with torch.no_grad():
        net.W.normal_(0, scale)
        net.b.normal_(0, scale)
        net.c.normal_(0, scale)
    meta = {"name": "tiny-rbm", "family": "rbm", "network": {"class": "BernoulliRBM", "config": net.config},
            "data": {"shape": list(visible_shape), "range": [-1.0, 1.0], "dataset": "tiny"}}
    return RBMModel(net, meta)


def test_free_energy_is_the_brute_force_marginal_over_h():
    m = tiny((1, 3, 3), hidden=12, seed=1)
    net = m.net
    v = (torch.rand(5, 9, generator=torch.Generator().manual_seed(0)) < 0.5).float()
    hs = all_binary(12)                                                  # all 4,096 hidden states
    with torch.no_grad():
        e = -(v @ net.b)[:, None] - (hs @ net.c)[None] - torch.einsum("nv,vh,kh->nk", v, net.W, hs)
    ref = -torch.logsumexp(-e.double(), dim=1)
    assert torch.allclose(m.energy(m.from_unit(v.view(5, 1, 3, 3))).double(), ref, atol=1e-4)


def test_ais_estimates_the_exact_partition_function():
    m = tiny((1, 3, 4), hidden=5, seed=0)
    exact = float(torch.logsumexp(-m.rbm(all_binary(12)).double(), 0))
    est = ais_log_z(m, torch.full((12,), 0.5), steps=300, runs=64, seed=1)
    assert abs(est["log_z"] - exact) < 0.1


def test_long_gibbs_run_matches_the_exact_distribution():
    m = tiny((1, 2, 3), hidden=4, seed=2, scale=0.8)
    states, p = exact_distribution(m)
    recs = chain(m, "gibbs", steps=1500, n=200, seed=3, init="uniform")
    counts = torch.zeros(64, dtype=torch.float64)
    weights = 2 ** torch.arange(5, -1, -1)
    for k, rec in enumerate(recs):
        if k >= 100:  # burn-in
            idx = (m.to_unit(rec.x).reshape(200, 6).long() * weights).sum(1)
            counts += torch.bincount(idx, minlength=64).double()
    order = (states.long() * weights).sum(1)
    tv = 0.5 * (counts[order] / counts.sum() - p).abs().sum()
    assert tv < 0.02, tv


def test_gibbs_records_and_replay():
    m = tiny((1, 2, 3), hidden=4)
    a = list(chain(m, "gibbs", steps=5, n=3, seed=1, init="uniform"))
    b = list(chain(m, "gibbs", steps=5, n=3, seed=1, init="uniform"))
    assert len(a) == 6 and torch.equal(a[-1].x, b[-1].x) and a[0].x0_hat is None
    assert set(a[-1].x.unique().tolist()) <= {-1.0, 1.0}
    pv = m.to_unit(a[-1].x0_hat)
    assert float(pv.min()) > 0 and float(pv.max()) < 1                       # the mean-field p(v | h)
    assert torch.allclose(a[-1].stats["energy"], m.energy(a[-1].x))
    with pytest.raises(ValueError, match="steps must be >= 1"):
        list(chain(m, "gibbs", steps=0))


def test_clamped_gibbs_keeps_known_pixels_and_matches_the_conditional():
    m = tiny((1, 2, 3), hidden=4, seed=4, scale=0.8)
    y = torch.tensor([1.0, -1.0, 0.3, 0, 0, 0]).view(1, 2, 3)   # pixel 2 is grey: known, binarised to on
    unknown = torch.tensor([[False, False, False], [True, True, True]])
    out = complete(m, y, unknown, n=2000, seed=0, steps=60)
    assert torch.equal(out[:, 0, 0], y[0, 0].expand(2000, 3))                 # known row exactly as given
    states, p = exact_distribution(m)
    cond = (states[:, :3] == torch.tensor([1.0, 0.0, 1.0])).all(1)
    p_on = (p[cond, None] * states[cond, 3:]).sum(0) / p[cond].sum()          # p(v_unknown = 1 | v_known)
    assert torch.allclose(m.to_unit(out[:, 0, 1]).mean(0).double(), p_on, atol=0.04)
    assert not visibility(unknown, causal=False).max() > 1                     # an RBM sees every known pixel


def test_round_trip_broken_file_filters_and_panels(tmp_path):
    m = tiny((1, 28, 28), hidden=9)
    p = save_checkpoint(tmp_path / "rbm.safetensors", m.net.state_dict(), m.metadata)
    back = load_checkpoint(p, device="cpu")
    x = m.from_unit((torch.rand(2, 1, 28, 28) < 0.5).float())
    assert type(back) is RBMModel and torch.equal(back.energy(x), m.energy(x))
    f = back.filters()
    assert f.shape == (9, 1, 28, 28) and float(f.min()) >= 0 and float(f.max()) <= 1
    bad = dict(m.metadata, data={"shape": [1, 27, 28], "range": [-1, 1]})
    save_checkpoint(tmp_path / "bad.safetensors", m.net.state_dict(), bad)
    with pytest.raises(CheckpointError, match="visible units"):
        load_checkpoint(tmp_path / "bad.safetensors", device="cpu")
    keys = [s.key for s in panels_for(back)]
    assert "chain" in keys and "canvas" in keys and "interpolation" not in keys


def test_class_switches_counts_changes_of_the_classifier_verdict():
    m = tiny((1, 2, 3), hidden=4)

    class Alternating:  # a "classifier" whose verdict flips every call
        device = "cpu"
        calls = 0

        def from_unit(self, u):
            return u

        def probs(self, x):
            self.calls += 1
            out = torch.zeros(len(x), 2)
            out[:, self.calls % 2] = 1
            return out

    r = class_switches(m, Alternating(), chains=3, sweeps=101, init="uniform")
    assert r["switches_per_1000"] == pytest.approx(1000 * 100 / 101) and r["classes_visited"] == 2


def test_tiny_cd_and_pcd_recipes(tmp_path):
    from genviz.backend.training import mnist_rbm
    data = torch.rand(64, 6)
    for method in ("cd", "pcd"):
        out = mnist_rbm.train(out=tmp_path / f"{method}.safetensors", hidden=3, method=method, k=2, epochs=2,
                              batch_size=16, chains=8, data=data, resume_file=tmp_path / f"{method}.pt",
                              log=lambda *_: None)
        meta = load_checkpoint(out, device="cpu").metadata
        assert meta["training"]["algorithm"].startswith("persistent" if method == "pcd" else "contrastive")
        assert meta["training"]["epochs"] == 2
    with pytest.raises(ValueError, match="method"):
        mnist_rbm.train(out=tmp_path / "x.safetensors", method="cd-9", data=data)
