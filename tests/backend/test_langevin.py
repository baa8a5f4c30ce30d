"""Langevin samplers: stationary laws, conventions, acceptance, annealing, divergence, PC on mnist-ddpm."""

import pytest
import torch

from genviz.backend import (
    ChainDiverged,
    EnergyModel,
    ReplayBuffer,
    ScoreModel,
    chain,
    get_sampler,
    list_checkpoints,
    load_checkpoint,
    sample,
)


@pytest.fixture(scope="module")
def gauss():
    """E(x) = ½‖x‖² in 2-D: the standard normal."""
    return EnergyModel.from_function(lambda x: 0.5 * (x ** 2).sum(1), (2,), name="gauss",
                                     sample_data=lambda n, g: torch.randn(n, 2, generator=g))


@pytest.mark.parametrize("alpha", [0.1, 0.5])
def test_ula_stationary_variance(gauss, alpha):
    """ULA on a standard normal: x' = (1−α)x + √(2α)ξ has stationary variance 1/(1 − α/2)."""
    x = sample(gauss, "ula", steps=200, n=4000, step_size=alpha, seed=1)
    expected = 1.0 / (1.0 - alpha / 2)
    assert abs(x.var(0).mean().item() / expected - 1) < 0.05


def test_ula_conventions_identical(gauss):
    a = sample(gauss, "ula", steps=50, n=64, step_size=0.2, convention="A", seed=3)
    b = sample(gauss, "ula", steps=50, n=64, step_size=0.4, convention="B", seed=3)
    assert torch.equal(a, b)


def test_ula_temperature_and_noise_scale(gauss):
    """Temperature T scales the stationary variance by T; noise_scale 0 leaves only the drift."""
    x = sample(gauss, "ula", steps=200, n=4000, step_size=0.05, temperature=2.0, seed=0)
    assert abs(x.var(0).mean().item() / (2.0 / (1 - 0.025)) - 1) < 0.05
    recs = list(chain(gauss, "ula", steps=3, n=8, step_size=0.1, noise_scale=0.0, seed=0))
    assert torch.allclose(recs[1].x, recs[0].x * 0.9)
    assert recs[1].noise.abs().max() == 0


def test_ula_records_drift_and_noise(gauss):
    recs = list(chain(gauss, "ula", steps=4, n=5, step_size=0.1, seed=0))
    assert len(recs) == 5 and recs[0].drift is None
    for prev, rec in zip(recs, recs[1:]):
        assert torch.allclose(rec.x, prev.x + rec.drift + rec.noise)
        assert torch.allclose(rec.drift, -0.1 * prev.x)  # α∇log p = −αx
        assert rec.stats["energy"].shape == (5,)


def test_mala_variance_and_acceptance(gauss):
    recs = list(chain(gauss, "mala", steps=200, n=4000, step_size=0.5, seed=0))
    assert abs(recs[-1].x.var(0).mean().item() - 1.0) < 0.05  # MALA is exact: variance 1
    big = torch.stack([r.stats["accept_rate"] for r in recs[1:]]).mean().item()
    recs_small = list(chain(gauss, "mala", steps=50, n=1000, step_size=0.01, seed=0))
    small = torch.stack([r.stats["accept_rate"] for r in recs_small[1:]]).mean().item()
    assert 0.5 < big < small <= 1.0
    assert small > 0.99  # acceptance tends to 1 as the step shrinks


def test_mala_needs_energy():
    m = ScoreModel.from_function(lambda x, s: -x, (2,))
    with pytest.raises(ValueError, match="does not apply"):
        list(chain(m, "mala", steps=2, n=2))


def test_gradient_flow_converges(gauss):
    x0 = torch.randn(16, 2, generator=torch.Generator().manual_seed(0)) * 3
    x = sample(gauss, "gradient-flow", steps=300, x_init=x0, step_size=0.1)
    assert x.abs().max().item() < 1e-5
    # energy decreases monotonically along the flow
    e = [r.stats["energy"].mean().item() for r in chain(gauss, "gradient-flow", steps=20, x_init=x0, step_size=0.1)]
    assert all(b < a for a, b in zip(e, e[1:]))


def _gmm_score(mu, w, s):
    def score(x, sigma):
        var = s ** 2 + sigma[:, None] ** 2
        d = mu[None] - x[:, None]
        r = torch.softmax(torch.log(w)[None] - (d ** 2).sum(-1) / (2 * var), 1)
        return (r[..., None] * d).sum(1) / var
    return score


def test_annealed_langevin_recovers_mixture_weights():
    """Song & Ermon 2019, Fig. 3: annealing recovers the weights of separated modes; plain ULA does not."""
    mu, w = torch.tensor([[-3.0, -3.0], [3.0, 3.0]]), torch.tensor([0.2, 0.8])
    m = ScoreModel.from_function(_gmm_score(mu, w, 0.5), (2,), sigma_max=10.0, sigma_min=0.1)
    x = sample(m, "annealed", steps=1000, n=4000, steps_per_level=50, epsilon=2e-3, init_std=10.0, seed=0)
    frac = (x.sum(1) > 0).float().mean().item()
    assert abs(frac - 0.8) < 0.05
    recs = list(chain(m, "annealed", steps=40, n=4, steps_per_level=10, epsilon=2e-3, seed=0))
    sig = [r.sigma for r in recs[1:]]
    assert [r.level for r in recs[1:]] == [i // 10 for i in range(40)]
    assert sig[0] == pytest.approx(10.0) and sig[-1] == pytest.approx(0.1)
    assert all(b <= a for a, b in zip(sig, sig[1:]))


def test_divergence_detected_and_history_kept(gauss):
    seen = []
    with pytest.raises(ChainDiverged) as err:
        for rec in chain(gauss, "ula", steps=100, n=10, step_size=5.0, seed=0):
            seen.append(rec)
    assert "diverged at step" in str(err.value)
    assert err.value.step == len(seen)  # every step before the divergent one was yielded
    assert all(torch.isfinite(r.x).all() for r in seen)
    nan_model = EnergyModel.from_function(lambda x: (x ** 2).sum(1) * float("nan"), (2,))
    with pytest.raises(ChainDiverged, match="non-finite"):
        list(chain(nan_model, "ula", steps=3, n=2))


def test_init_options_and_replay_buffer(gauss):
    lo, hi = gauss.data_range
    u = next(iter(chain(gauss, "ula", steps=1, n=500, init="uniform", seed=0))).x
    assert u.min() >= lo and u.max() <= hi and u.std() > 1.5
    d = next(iter(chain(gauss, "ula", steps=1, n=500, init="data", seed=0))).x
    assert abs(d.std().item() - 1) < 0.1
    buf = ReplayBuffer(capacity=100)
    with pytest.raises(ValueError, match="buffer"):
        chain(gauss, "ula", steps=1, n=4, init="buffer")
    list(chain(gauss, "ula", steps=5, n=8, init="buffer", buffer=buf, seed=0))
    assert len(buf) == 8
    last = buf.items.clone()
    x0 = next(iter(chain(gauss, "ula", steps=1, n=8, init="buffer", buffer=buf, reinit_prob=0.0, seed=1))).x
    # with reinit_prob 0 every start is a stored state
    assert all(any(torch.equal(row, s) for s in last) for row in x0)


def test_sampler_params_registered():
    assert get_sampler("ula").param("convention").choices == ("A", "B")
    assert get_sampler("pc").param("snr").default == 0.16
    with pytest.raises(ValueError):
        list(chain(EnergyModel.from_function(lambda x: x.sum(1), (2,)), "ula", steps=1, step_size=-1.0))


def test_diffusion_model_as_score(model):
    """s(x_t, t) = −ε̂(x_t, t)/√(1−ᾱ_t)."""
    m = model
    x = torch.randn(3, *m.data_shape, generator=torch.Generator().manual_seed(0))
    t = torch.tensor([10, 500, 900])
    a = m.alphas_cumprod[t].view(-1, 1, 1, 1)
    assert torch.allclose(m.score(x, t), -m.predict_eps(x, t) / (1 - a).sqrt())
    for name, kw in [("pc", {}), ("annealed", {"steps_per_level": 2})]:
        recs = list(chain(m, name, steps=6, n=2, seed=0, **kw))
        assert recs[-1].x.shape == (2, *m.data_shape) and torch.isfinite(recs[-1].x).all()


@pytest.mark.skipif(not any(i.name == "mnist-ddpm" for i in list_checkpoints()), reason="bundled mnist-ddpm missing")
def test_pc_on_mnist_ddpm_yields_digits():
    m = load_checkpoint("mnist-ddpm", device="cpu")
    clf = load_checkpoint("mnist-classifier", device="cpu")
    x = sample(m, "pc", steps=50, n=8, seed=0, snr=0.1)
    p = clf.probs(x)
    assert x.shape == (8, 1, 28, 28)
    assert (p.max(1).values > 0.9).float().mean() >= 0.6
