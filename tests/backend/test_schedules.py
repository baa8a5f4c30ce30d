"""Noise schedules: genviz's betas and ᾱ_t against diffusers and against known values."""
import math

import numpy as np
import pytest
import torch

from genviz.backend.schedules import SCHEDULES, alphas_cumprod_from_betas, make_betas, sigmas_from_alphas_cumprod

diffusers = pytest.importorskip("diffusers")


@pytest.mark.parametrize("schedule", ["linear", "scaled_linear", "squaredcos_cap_v2"])
@pytest.mark.parametrize("T", [1000, 50])
def test_betas_and_alphas_cumprod_equal_diffusers(schedule, T):
    ref = diffusers.DDPMScheduler(num_train_timesteps=T, beta_schedule=schedule, beta_start=1e-4, beta_end=0.02)
    betas = make_betas(schedule, T, 1e-4, 0.02)
    assert betas.dtype == torch.float32 and betas.shape == (T,)
    assert torch.allclose(betas, ref.betas, rtol=0, atol=1e-7)
    assert torch.allclose(alphas_cumprod_from_betas(betas), ref.alphas_cumprod, rtol=0, atol=1e-7)
    ddim = diffusers.DDIMScheduler(num_train_timesteps=T, beta_schedule=schedule, beta_start=1e-4, beta_end=0.02)
    assert torch.allclose(alphas_cumprod_from_betas(betas), ddim.alphas_cumprod, rtol=0, atol=1e-7)


def test_linear_known_values():
    b = make_betas("linear", 1000)
    assert b[0].item() == pytest.approx(1e-4, rel=1e-6)
    assert b[999].item() == pytest.approx(0.02, rel=1e-6)
    assert b[500].item() == pytest.approx(1e-4 + 500 * (0.02 - 1e-4) / 999, rel=1e-6)
    assert torch.all(b[1:] > b[:-1])
    acp = alphas_cumprod_from_betas(b)
    exact = np.cumprod(1 - np.linspace(1e-4, 0.02, 1000, dtype=np.float64))   # ᾱ_t = Π_{s<=t} (1 − β_s)
    assert acp[0].item() == pytest.approx(1 - 1e-4, abs=1e-7)
    assert acp[1].item() == pytest.approx((1 - 1e-4) * (1 - b[1].item()), abs=1e-7)
    np.testing.assert_allclose(acp.double().numpy(), exact, rtol=1e-4)
    assert acp[999].item() == pytest.approx(4.04e-5, rel=0.01)   # the well-known ᾱ_T of Ho et al.'s schedule
    assert torch.all(acp[1:] < acp[:-1])


def test_scaled_linear_known_values():
    b = make_betas("scaled_linear", 1000, 0.00085, 0.012)
    assert b[0].item() == pytest.approx(0.00085, rel=1e-5)
    assert b[-1].item() == pytest.approx(0.012, rel=1e-5)
    r = np.sqrt(b.double().numpy())
    np.testing.assert_allclose(np.diff(r), (math.sqrt(0.012) - math.sqrt(0.00085)) / 999, rtol=1e-3)


def test_cosine_follows_alpha_bar_and_cap():
    T = 1000
    b = make_betas("squaredcos_cap_v2", T)
    acp = alphas_cumprod_from_betas(b).double().numpy()

    def f(u):
        return math.cos((u + 0.008) / 1.008 * math.pi / 2) ** 2

    # ᾱ_t = f((t+1)/T) / f(0) (Nichol & Dhariwal Eq. 17, diffusers' index shift), until the 0.999 cap bites
    for t in (0, 10, 500, 900):
        assert acp[t] == pytest.approx(f((t + 1) / T) / f(0), rel=1e-4)
    assert b.max().item() == pytest.approx(0.999)
    assert b[-1].item() == pytest.approx(0.999)


def test_sigmas():
    acp = alphas_cumprod_from_betas(make_betas("linear", 1000))
    s = sigmas_from_alphas_cumprod(acp)
    assert torch.allclose(s ** 2, (1 - acp) / acp, rtol=1e-5)
    assert torch.all(s[1:] > s[:-1])


def test_schedule_errors():
    with pytest.raises(ValueError, match="unknown beta schedule 'cosine'"):
        make_betas("cosine")
    with pytest.raises(ValueError, match="num_train_timesteps"):
        make_betas("linear", 0)
    assert set(SCHEDULES) == {"linear", "scaled_linear", "squaredcos_cap_v2"}
