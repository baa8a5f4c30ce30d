"""The denoising diffusion GAN (Xiao et al. 2022): schedule, posterior, Algorithm 2 and the mnist-ddgan recipe."""
import math

import pytest
import torch
from torch import nn

from genviz.backend import chain, load_checkpoint, sample
from genviz.backend.checkpoints import read_metadata
from genviz.backend.ddgan import DDGANModel, DDGANSchedule, vp_betas
from genviz.backend.nets.ddgan import DDGANDiscriminator, DDGANGenerator
from genviz.backend.samplers import get_sampler, samplers_for
from genviz.backend.samplers.ddgan import resample_x0
from genviz.backend.training import mnist_ddgan


def meta(T=4, shape=(1, 28, 28), latent=8):
    return {"name": "t", "family": "ddgan", "data": {"shape": list(shape), "range": [-1.0, 1.0]},
            "schedule": {"num_timesteps": T}, "latent": {"shape": [latent]}}


def tiny_model(T=4, latent=8):
    torch.manual_seed(0)
    net = DDGANGenerator(latent_dim=latent, num_timesteps=T, channels=(8, 8, 8), cond_dim=16, map_layers=1)
    for name, p in net.named_parameters():  # the AdaGN modulations start at zero: give z and t an effect
        if ".mod" in name:
            nn.init.normal_(p, std=0.3)
    return DDGANModel(net, meta(T, latent=latent))


class Oracle(nn.Module):
    """G that ignores x_t and z and returns the true x₀ (broadcast), counting its calls."""

    def __init__(self, x0, T=4, latent=3):
        super().__init__()
        self.register_buffer("x0", x0)
        self.latent_dim, self.num_timesteps, self.calls = latent, T, 0

    def forward(self, x_t, z, i):
        self.calls += 1
        return self.x0.expand_as(x_t).clone()


# ---- schedule and posterior ---------------------------------------------------------------------------------------

def test_betas_printed_formula_T4():
    assert [round(float(b), 4) for b in vp_betas(4)] == [0.4763, 0.8490, 0.9565, 0.9875]


def test_betas_official_shift_T4():
    assert [round(float(b), 4) for b in vp_betas(4, shift=1e-3)] == [0.4783, 0.8492, 0.9564, 0.9874]


@pytest.mark.parametrize("T", [1, 2, 4, 8])
def test_betas_match_eq_6_15_by_hand(T):
    for t in range(1, T + 1):
        hand = 1 - math.exp(-0.1 / T - 0.5 * (20 - 0.1) * (2 * t - 1) / T ** 2)
        assert float(vp_betas(T)[t - 1]) == pytest.approx(hand, abs=1e-12)


@pytest.mark.parametrize("T", [1, 2, 4, 8])
def test_posterior_coefficients_by_hand(T):
    s = DDGANSchedule(T)
    for t in range(1, T + 1):
        # ᾱ_t in closed form: exp(−∫₀^{t/T} β(s) ds) = exp(−β_min t/T − ½ (β_max − β_min) t²/T²)
        abar = math.exp(-0.1 * t / T - 0.5 * 19.9 * t ** 2 / T ** 2)
        abar_prev = math.exp(-0.1 * (t - 1) / T - 0.5 * 19.9 * (t - 1) ** 2 / T ** 2)
        beta = 1 - abar / abar_prev
        i = t - 1
        assert float(s.alphas_cumprod[i]) == pytest.approx(abar, rel=1e-5)
        assert float(s.alphas_cumprod_prev[i]) == pytest.approx(abar_prev, rel=1e-5)
        assert float(s.posterior_mean_coef1[i]) == pytest.approx(math.sqrt(abar_prev) * beta / (1 - abar), rel=1e-5)
        assert float(s.posterior_mean_coef2[i]) == pytest.approx(math.sqrt(1 - beta) * (1 - abar_prev) / (1 - abar),
                                                                 rel=1e-5, abs=1e-7)
        assert float(s.posterior_variance[i]) == pytest.approx((1 - abar_prev) / (1 - abar) * beta, rel=1e-5, abs=1e-9)
    # t = 1: x_{0} = x̂₀ exactly (mean coefficient 1 on x₀, 0 on x_t, no variance)
    assert (float(s.posterior_mean_coef1[0]), float(s.posterior_mean_coef2[0]), float(s.posterior_variance[0])) == (1, 0, 0)


def test_schedule_rejects_bad_arguments():
    with pytest.raises(ValueError):
        vp_betas(0)
    with pytest.raises(ValueError):
        DDGANSchedule(4).q_sample(torch.zeros(1, 1), torch.tensor([4]), torch.zeros(1, 1))


# ---- Algorithm 2 ----------------------------------------------------------------------------------------------------

def test_oracle_chain_reproduces_forward_marginals():
    """With G = the true x₀ and x_T ~ q(x_T | x₀), every x_{t−1} of the chain is distributed as q(x_{t−1} | x₀)."""
    T, n = 4, 40000
    x0 = torch.linspace(-1, 1, 16).reshape(1, 1, 4, 4)
    m = DDGANModel(Oracle(x0, T), meta(T, shape=(1, 4, 4), latent=3))
    s = m.schedule
    g = torch.Generator().manual_seed(1)
    x_T = s.q_sample(x0.expand(n, -1, -1, -1), torch.full((n,), T - 1), torch.randn((n, 1, 4, 4), generator=g))
    for rec in chain(m, "ddgan", steps=T, x_init=x_T, seed=2):
        if rec.index == 0:
            continue
        i_prev = rec.t_next
        a = float(s.alphas_cumprod[i_prev]) if i_prev >= 0 else 1.0
        mean, var = rec.x.mean(0), rec.x.var(0)
        tol_mean = 5 * math.sqrt(max(1 - a, 1e-12) / n)
        assert torch.allclose(mean, math.sqrt(a) * x0[0], atol=max(tol_mean, 1e-6)), rec.index
        assert torch.allclose(var, torch.full_like(var, 1 - a), atol=5 * (1 - a) * math.sqrt(2 / n) + 1e-9), rec.index
        assert (rec.noise is None) == (i_prev < 0)
    assert torch.equal(rec.x, x0.expand(n, -1, -1, -1))  # the last step adds no noise: x₀ = x̂₀


def test_records_nfe_and_branch_contract():
    x0 = torch.zeros(1, 1, 28, 28)
    net = Oracle(x0, 4, latent=3)
    m = DDGANModel(net, meta(4, latent=3))
    recs = list(chain(m, "ddgan", steps=4, n=3, seed=0))
    assert net.calls == 4  # NFE = T
    assert [r.index for r in recs] == [0, 1, 2, 3, 4]
    assert [(r.t, r.t_next) for r in recs] == [(3, 3), (3, 2), (2, 1), (1, 0), (0, -1)]
    assert recs[-1].sigma == 0 and recs[0].sigma == pytest.approx(m.schedule.sigma(3))
    assert recs[0].x0_hat is None and all(r.x0_hat.shape == (3, 1, 28, 28) for r in recs[1:])
    assert set(recs[2].stats) == {"x_norm", "eps_norm"}
    # a branch from record 1 runs the remaining 3 steps from that exact state
    net.calls = 0
    branch = list(chain(m, "ddgan", steps=3, x_init=recs[1].x, seed=5))
    assert net.calls == 3 and [(r.t, r.t_next) for r in branch[1:]] == [(2, 1), (1, 0), (0, -1)]
    assert torch.equal(branch[0].x, recs[1].x)
    with pytest.raises(ValueError):
        list(chain(m, "ddgan", steps=5, n=1))


def test_seed_replay_bit_identical():
    m = tiny_model()
    a = list(chain(m, "ddgan", steps=4, n=2, seed=7))
    b = list(chain(m, "ddgan", steps=4, n=2, seed=7))
    c = list(chain(m, "ddgan", steps=4, n=2, seed=8))
    for ra, rb in zip(a, b):
        assert torch.equal(ra.x, rb.x)
        assert (ra.x0_hat is None and rb.x0_hat is None) or torch.equal(ra.x0_hat, rb.x0_hat)
    assert not torch.equal(a[-1].x, c[-1].x)
    assert a[-1].x.abs().max() <= 1  # x₀ = x̂₀ = tanh(...)


def test_registered_for_ddgan_models_only():
    m = tiny_model()
    spec = get_sampler("ddgan")
    assert spec.kind == "ddgan" and spec.grid == "steps" and spec.stochastic
    assert [s.name for s in samplers_for(m)] == ["ddgan"]
    assert m.default_sampler == {"name": "ddgan", "steps": 4} and m.family == "ddgan"
    assert sample(m, n=2, seed=0).shape == (2, 1, 28, 28)


def test_resample_x0_keeps_x_t_and_varies_with_z():
    m = tiny_model()
    x_t = torch.randn(2, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    out = resample_x0(m, x_t, 3, 5, torch.Generator().manual_seed(1))
    again = resample_x0(m, x_t, 3, 5, torch.Generator().manual_seed(1))
    assert out.shape == (2, 5, 1, 28, 28) and torch.equal(out, again)
    assert (out[:, 0] - out[:, 1]).abs().max() > 1e-3  # another z, another x̂₀
    with pytest.raises(ValueError):
        resample_x0(m, x_t, 4, 1, torch.Generator())


def test_networks_shapes():
    g = DDGANGenerator(latent_dim=8, num_timesteps=4, channels=(8, 8, 8), cond_dim=16, map_layers=1)
    d = DDGANDiscriminator(num_timesteps=4, width=8)
    x, i = torch.randn(3, 1, 28, 28), torch.tensor([0, 1, 3])
    y = g(x, torch.randn(3, 8), i)
    assert y.shape == x.shape and y.abs().max() <= 1
    assert d(y, x, i).shape == (3,)


def test_minibatch_stddev_sees_a_collapsed_batch():
    d = DDGANDiscriminator(num_timesteps=4, width=8, mbstd_group=4)
    x_t, i = torch.randn(8, 1, 28, 28), torch.zeros(8, dtype=torch.long)
    varied = d._mbstd(torch.randn(8, 32, 4, 4))
    same = d._mbstd(torch.randn(1, 32, 4, 4).expand(8, 32, 4, 4).contiguous())
    assert varied.shape == (8, 1, 4, 4) and float(varied.min()) > 0.5  # ≈ 1 for unit-variance features
    assert float(same.max()) < 1e-3  # identical samples: no spread
    assert not torch.equal(d(torch.randn(8, 1, 28, 28), x_t, i), d(torch.zeros(8, 1, 28, 28), x_t, i))
    with pytest.raises(ValueError, match="multiple"):
        d(torch.randn(6, 1, 28, 28), x_t[:6], i[:6])
    with pytest.raises(ValueError, match="multiple"):
        mnist_ddgan.train(iters=1, batch_size=6, d_mbstd=4)
    with pytest.raises(ValueError, match="at least 2"):
        DDGANDiscriminator(width=8, mbstd_group=1)


# ---- the recipe ------------------------------------------------------------------------------------------------------

@pytest.fixture
def keep_threads():
    n = torch.get_num_threads()  # the recipe's main() sets the thread count for the process
    yield
    torch.set_num_threads(n)


def test_recipe_trains_saves_and_resumes(tmp_path, keep_threads):
    out, state = tmp_path / "ddgan.safetensors", tmp_path / "state.pt"
    common = ["--out", str(out), "--state", str(state), "--batch-size", "4", "--threads", "1", "--log-every", "1",
              "--r1-every", "1", "--d-width", "8", "--d-mbstd", "4"]
    mnist_ddgan.main(common + ["--iters", "2"])
    tr = read_metadata(out)["training"]
    assert tr["recipe"] == "genviz train mnist-ddgan" and tr["iterations"] == 2 and "mnist10k" in tr["data_source"]
    assert tr["discriminator"]["config"]["mbstd_group"] == tr["d_mbstd"] == 4  # batch 4: one group, one t
    mnist_ddgan.main(common + ["--iters", "3", "--resume"])
    assert read_metadata(out)["training"]["iterations"] == 3
    import genviz.backend.ddgan  # noqa: F401  (registers the family until the loader lists it)
    m = load_checkpoint(str(out), device="cpu")
    assert isinstance(m, DDGANModel) and m.num_timesteps == 4 and m.latent_dim == 64
    assert sample(m, n=2, seed=0).shape == (2, 1, 28, 28)


def test_recipe_halves_both_learning_rates_after_lr_decay_at(tmp_path, keep_threads):
    """--lr-decay-at N: iterations 1..N at --lr-g/--lr-d, the rest at half; a resume past N applies the decay
    (the shipped run's last 800 of 7,300 iterations); the metadata records N."""
    assert mnist_ddgan.lr_at(4e-4, 6500, 6500) == 4e-4 and mnist_ddgan.lr_at(4e-4, 6501, 6500) == 2e-4
    assert mnist_ddgan.lr_at(4e-4, 10 ** 6, 0) == 4e-4  # 0: never
    out, state = tmp_path / "ddgan.safetensors", tmp_path / "state.pt"
    common = ["--out", str(out), "--state", str(state), "--batch-size", "4", "--threads", "1", "--d-width", "8",
              "--lr-g", "1e-4", "--lr-d", "3e-4", "--lr-decay-at", "2"]

    def lrs():
        st = torch.load(state, weights_only=True)
        return st["opt_g"]["param_groups"][0]["lr"], st["opt_d"]["param_groups"][0]["lr"]
    mnist_ddgan.main(common + ["--iters", "2"])
    assert lrs() == (1e-4, 3e-4)
    mnist_ddgan.main(common + ["--iters", "3", "--resume"])
    assert lrs() == (5e-5, 1.5e-4)
    assert read_metadata(out)["training"]["lr_decay_at"] == 2
    assert mnist_ddgan.DEFAULTS["lr_decay_at"] < mnist_ddgan.DEFAULTS["iters"]


def test_recipe_warm_start_freezes_g_during_the_d_warmup(tmp_path, keep_threads):
    """--init-g starts G and its EMA from a checkpoint; during --d-warmup only D moves (the saved EMA equals the
    initial weights bit for bit); the iteration count continues from the checkpoint's; a resume keeps the offset."""
    from safetensors.torch import load_file
    out0, out1, state = tmp_path / "a.safetensors", tmp_path / "b.safetensors", tmp_path / "s.pt"
    common = ["--state", str(state), "--batch-size", "4", "--threads", "1", "--log-every", "1", "--d-width", "8"]
    mnist_ddgan.main(common + ["--out", str(out0), "--iters", "2"])
    state.unlink()
    mnist_ddgan.main(common + ["--out", str(out1), "--iters", "2", "--init-g", str(out0), "--d-warmup", "2"])
    w0, w1 = load_file(out0), load_file(out1)
    assert all(torch.equal(w0[k], w1[k]) for k in w0)  # G frozen while D warms up
    tr = read_metadata(out1)["training"]
    assert tr["iterations"] == 4 and tr["init_iterations"] == 2 and tr["init_g"] == str(out0) and tr["d_warmup"] == 2
    mnist_ddgan.main(common + ["--out", str(out1), "--iters", "3", "--resume"])
    w2 = load_file(out1)
    assert any(not torch.equal(w0[k], w2[k]) for k in w0)  # joint updates after the warm-up
    assert read_metadata(out1)["training"]["iterations"] == 5
    with pytest.raises(ValueError, match="not a ddgan checkpoint"):
        mnist_ddgan.train(out=tmp_path / "c.safetensors", iters=1, state=tmp_path / "s2.pt", init_g="mnist-ddpm",
                          log=lambda s: None)
