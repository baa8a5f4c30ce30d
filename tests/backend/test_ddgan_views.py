"""The true denoising density of a 1-D mixture vs the DDPM Gaussian (thesis Fig. 6.3), and DDGAN editing."""
import numpy as np
import pytest
import torch

import genviz.backend.ddgan  # noqa: F401  (registers the family)
import genviz.backend.samplers.ddgan  # noqa: F401
from genviz.backend.ddgan_views import DEFAULT_MIXTURE, MIXTURES, Mixture1D, alpha_bar, count_modes, denoising_step, denoising_steps


def test_density_integrates_to_one_and_matches_bayes_normaliser():
    for s in denoising_steps(0.5):
        assert np.trapezoid(s.true, s.grid) == pytest.approx(1.0, abs=1e-9)
        assert s.integral == pytest.approx(s.evidence, rel=1e-6)  # ∫ q(x_t|x) q(x) dx = q(x_t), analytic
        assert np.trapezoid(s.gauss, s.grid) == pytest.approx(1.0, abs=1e-6)
        # the DDPM Gaussian's mean (posterior mean of E[x0|x_t]) is the true density's mean
        assert np.trapezoid(s.grid * s.true, s.grid) == pytest.approx(s.mean, abs=1e-6)


def test_small_steps_gaussian_big_steps_multimodal():
    small, _, _, big = denoising_steps(0.5)
    assert small.T == 1000 and small.kl < 1e-3 and small.max_abs_diff < 0.05 * small.true.max() and small.modes == 1
    assert big.T == 4 and big.modes == 3 and big.kl > 1.0
    assert all(s.modes >= 2 for s in (denoising_step(x, 4, 0.25, m) for m in MIXTURES.values() for x in (0.0, 0.5)))


def test_schedule_matches_the_ddgan_module():
    from genviz.backend.ddgan import vp_betas
    s = denoising_step(0.0, 4, 0.25)
    assert s.beta == pytest.approx(float(vp_betas(4)[1]), abs=1e-9)  # the paper's step t = 2 of T = 4
    assert alpha_bar(0.0) == 1.0


def test_count_modes_and_refusals():
    x = np.linspace(-3, 3, 601)
    assert count_modes(np.exp(-x ** 2)) == 1 and count_modes(np.exp(-(x - 1) ** 2 * 8) + np.exp(-(x + 1) ** 2 * 8)) == 2
    for bad in (dict(T=0), dict(s_end=0.0), dict(s_end=0.9), dict(n=10)):
        with pytest.raises(ValueError):
            denoising_step(0.0, **{"T": 4, **bad})
    with pytest.raises(ValueError):
        Mixture1D((0.5, 0.6), (0.0, 1.0), (1.0, 1.0))
    assert DEFAULT_MIXTURE.posterior_mean_x0(0.0, 1.0) == pytest.approx(0.0)


def _tiny_ddgan():
    from genviz.backend.ddgan import DDGANModel
    from genviz.backend.nets.ddgan import DDGANGenerator
    torch.manual_seed(0)
    net = DDGANGenerator(latent_dim=8, channels=(8, 8, 8), cond_dim=16, map_layers=1)
    return DDGANModel(net, {"name": "tiny", "family": "ddgan", "data": {"shape": [1, 28, 28], "range": [-1, 1]},
                            "schedule": {"num_timesteps": 4}, "latent": {"shape": [8]}})


def test_ddgan_sdedit_equals_the_sampler_and_keeps_the_mask():
    from genviz.backend.conditioning import edit_samplers, sdedit
    from genviz.backend.samplers.ddgan import ddgan
    m = _tiny_ddgan()
    assert edit_samplers(m) == ("ddgan",)
    y = torch.rand(1, 28, 28) * 2 - 1
    res = sdedit(m, y, t0=0.5, n=3, seed=5, sampler="ddgan")
    assert res.t_start == 1 and res.timesteps == [1, 0] and res.samples.shape == (3, 1, 28, 28)
    g = torch.Generator().manual_seed(5)  # the same draws in the same order: ε, then the sampler's
    eps = torch.randn((3, 1, 28, 28), generator=g)
    a = float(m.schedule.alphas_cumprod[1])
    x = a ** 0.5 * y + (1 - a) ** 0.5 * eps
    assert torch.equal(res.x_t0, x)
    *_, last = ddgan(m, x, steps=2, generator=g)
    assert torch.equal(res.samples, last.x)
    mask = torch.zeros(1, 28, 28)
    mask[:, :, 14:] = 1
    masked = sdedit(m, y, t0=1.0, n=2, seed=1, sampler="ddgan", mask=mask, ilvr=4)
    assert masked.t_start == 4 and torch.equal(masked.samples[:, :, :, :14], y[None, :, :, :14].expand(2, 1, 28, 14))
    assert torch.equal(sdedit(m, y, t0=0.0, n=2, sampler="ddgan").samples[0], y)
    for bad in (dict(sampler="ddim"), dict(sampler="ddgan", guidance=1.0, guide_classifier=object())):
        with pytest.raises(ValueError):
            sdedit(m, y, **bad)


def test_perturb_real_shapes_and_conditioning():
    from genviz.backend.ddgan_edit import perturb_heldout, perturb_real
    m = _tiny_ddgan()
    p = perturb_real(m, torch.zeros(2, 1, 28, 28), k=3, generator=torch.Generator().manual_seed(0))
    assert p.x_t.shape == (4, 2, 1, 28, 28) and p.x0_hat.shape == (4, 2, 3, 1, 28, 28)
    q, label = perturb_heldout(m, 7, k=2, seed=1)
    assert q.x0.shape == (1, 1, 28, 28) and 0 <= label <= 9
    with pytest.raises(ValueError):
        perturb_real(m, torch.zeros(1, 1, 28, 28), k=0)
    with pytest.raises(IndexError):
        perturb_heldout(m, 1000)


def test_the_view_uses_the_ddgan_schedule_constants():
    from genviz.backend import ddgan, ddgan_views
    assert (ddgan_views.BETA_MIN, ddgan_views.BETA_MAX) == (ddgan.BETA_MIN, ddgan.BETA_MAX)
