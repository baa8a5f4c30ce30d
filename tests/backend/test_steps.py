"""Single sampler steps against the equations, computed by hand in float64.

The ε-network is fixed, ε̂(x, t) = 0.1 x, and ᾱ is computed here independently of genviz
(linear β from 1e-4 to 0.02 over T = 1000, ᾱ_t = Π_{s<=t} (1 − β_s), Ho et al. 2020 Eq. 4).
"""
import math

import numpy as np
import pytest
import torch
from tinymodels import fn_model, tiny_model

from genviz.backend import chain

ACP = np.cumprod(1 - np.linspace(1e-4, 0.02, 1000, dtype=np.float64))
X = torch.tensor([[-2.0, -0.3, 0.05, 1.5], [0.7, -1.1, 2.5, 0.0]])
SEED = 11


def eps_net(x, t):
    return 0.1 * x


def acp(t):
    return 1.0 if t < 0 else float(ACP[t])


def z_draws(k, shape=X.shape, seed=SEED):
    """The chain's first k noise draws: x_init is given, so the draw a fresh chain spends on it is skipped."""
    g = torch.Generator().manual_seed(seed)
    torch.randn(shape, generator=g)
    return [torch.randn(shape, generator=g).double() for _ in range(k)]


def one_step(sampler, ts, **params):
    recs = list(chain(fn_model(eps_net), sampler, steps=len(ts), timesteps=ts, x_init=X, seed=SEED, **params))
    assert len(recs) == len(ts) + 1
    return recs


def close(a, b, tol=1e-5):
    a = a.double() if torch.is_tensor(a) else torch.as_tensor(a, dtype=torch.float64)
    assert torch.allclose(a, b.double(), rtol=tol, atol=tol), (a - b).abs().max().item()


@pytest.mark.parametrize("clip", [False, True])
@pytest.mark.parametrize("variance_type", ["fixed_small", "fixed_large"])
def test_ddpm_step(variance_type, clip):
    t, tp = 500, 480
    recs = one_step("ddpm", [t, tp], variance_type=variance_type, clip_sample=clip)
    x = X.double()
    a, ap = acp(t), acp(tp)
    alpha = a / ap                                   # α_t of the jump t -> t'
    beta = 1 - alpha
    eps = 0.1 * x
    x0 = (x - math.sqrt(1 - a) * eps) / math.sqrt(a)   # x̂_0 (Ho et al. Eq. 15)
    if clip:
        x0 = x0.clamp(-1, 1)
    mean = math.sqrt(ap) * beta / (1 - a) * x0 + math.sqrt(alpha) * (1 - ap) / (1 - a) * x   # posterior mean, Eq. 7
    var = (1 - ap) / (1 - a) * beta if variance_type == "fixed_small" else beta              # β̃_t or β_t
    (z,) = z_draws(1)
    r = recs[1]
    close(r.eps_hat, eps)
    close(r.x0_hat, x0)
    close(r.noise, math.sqrt(var) * z)
    close(r.x, mean + math.sqrt(var) * z)
    assert (r.t, r.t_next) == (t, tp)
    assert r.sigma == pytest.approx(math.sqrt((1 - ap) / ap), rel=1e-5)
    # the clip must have bitten for the clipped case to test anything: x̂_0 of x = -2 is about -6.8
    assert ((x - math.sqrt(1 - a) * eps) / math.sqrt(a)).abs().max() > 1


def test_ddpm_last_step_is_x0_without_noise():
    t = 0
    recs = one_step("ddpm", [5, t], clip_sample=False)
    r = recs[2]
    assert r.noise is None and r.t_next == -1 and r.sigma == 0.0
    close(r.x, r.x0_hat, 1e-6)   # ᾱ_{-1} = 1: mean coefficient on x̂_0 is 1, on x_t is 0
    x1 = recs[1].x.double()
    a = acp(0)
    close(r.x, (x1 - math.sqrt(1 - a) * 0.1 * x1) / math.sqrt(a))


@pytest.mark.parametrize("clip", [False, True])
def test_ddim_step_eta0(clip):
    t, tp = 600, 400
    recs = one_step("ddim", [t, tp], eta=0.0, clip_sample=clip)
    x = X.double()
    a, ap = acp(t), acp(tp)
    eps = 0.1 * x
    x0 = (x - math.sqrt(1 - a) * eps) / math.sqrt(a)
    if clip:
        x0 = x0.clamp(-1, 1)
    close(recs[1].x, math.sqrt(ap) * x0 + math.sqrt(1 - ap) * eps)   # Song et al. Eq. 12, σ = 0
    assert recs[1].noise is None


@pytest.mark.parametrize("eta", [0.5, 1.0])
def test_ddim_step_eta(eta):
    t, tp = 600, 400
    recs = one_step("ddim", [t, tp], eta=eta, clip_sample=False)
    x = X.double()
    a, ap = acp(t), acp(tp)
    eps = 0.1 * x
    x0 = (x - math.sqrt(1 - a) * eps) / math.sqrt(a)
    sigma = eta * math.sqrt((1 - ap) / (1 - a)) * math.sqrt(1 - a / ap)   # Eq. 16
    (z,) = z_draws(1)
    close(recs[1].noise, sigma * z)
    close(recs[1].x, math.sqrt(ap) * x0 + math.sqrt(1 - ap - sigma ** 2) * eps + sigma * z)


def test_ddim_eta1_has_ddpm_variance():
    """η = 1 gives the DDPM posterior variance β̃_t (Song et al. Sec. 4.1)."""
    t, tp = 600, 400
    a, ap = acp(t), acp(tp)
    beta_tilde = (1 - ap) / (1 - a) * (1 - a / ap)
    recs = one_step("ddim", [t, tp], eta=1.0)
    (z,) = z_draws(1)
    close(recs[1].noise, math.sqrt(beta_tilde) * z)
    recs2 = one_step("ddpm", [t, tp])
    close(recs2[1].noise, recs[1].noise)


def test_ode_euler_step():
    t, tp = 700, 300
    recs = one_step("ode-euler", [t, tp])
    x = X.double()
    a, ap = acp(t), acp(tp)
    s, sp = math.sqrt((1 - a) / a), math.sqrt((1 - ap) / ap)
    # VE coordinates x̃ = x/√ᾱ: dx̃/dσ = ε̂ (Karras et al. Eq. 3); one Euler step, back to x = √ᾱ' x̃'
    expected = math.sqrt(ap) * (x / math.sqrt(a) + (sp - s) * 0.1 * x)
    close(recs[1].x, expected)
    assert recs[1].sigma == pytest.approx(sp, rel=1e-5)
    assert recs[1].noise is None


def test_ode_euler_clip_recomputes_eps():
    t, tp = 700, 300
    recs = one_step("ode-euler", [t, tp], clip_sample=True)
    x = X.double()
    a, ap = acp(t), acp(tp)
    s, sp = math.sqrt((1 - a) / a), math.sqrt((1 - ap) / ap)
    x0 = ((x - math.sqrt(1 - a) * 0.1 * x) / math.sqrt(a)).clamp(-1, 1)
    eps = (x - math.sqrt(a) * x0) / math.sqrt(1 - a)
    close(recs[1].x, math.sqrt(ap) * (x / math.sqrt(a) + (sp - s) * eps))


def test_ode_heun_step():
    """Heun with a t-dependent ε̂(x, t) = 0.1 (1 + t/1000) x, so the corrector's timestep matters."""
    t, tp = 700, 300

    def eps_t(x, tt):
        return 0.1 * (1 + tt.view(-1, *([1] * (x.dim() - 1))).to(x.dtype) / 1000) * x

    def k(tt):
        return 0.1 * (1 + tt / 1000)

    m = fn_model(eps_t)
    recs = list(chain(m, "ode-heun", steps=2, timesteps=[t, tp], x_init=X))
    x = X.double()
    a, ap = acp(t), acp(tp)
    s, sp = math.sqrt((1 - a) / a), math.sqrt((1 - ap) / ap)
    xt = x / math.sqrt(a)
    e1 = k(t) * x
    x_euler = math.sqrt(ap) * (xt + (sp - s) * e1)          # predictor, in model space at t'
    e2 = k(tp) * x_euler                                   # corrector: ε̂ at (x_euler, t')
    expected = math.sqrt(ap) * (xt + (sp - s) * 0.5 * (e1 + e2))   # Karras et al. Alg. 1, trapezoid
    close(recs[1].x, expected)
    euler = list(chain(m, "ode-euler", steps=2, timesteps=[t, tp], x_init=X))
    assert not torch.allclose(recs[1].x, euler[1].x, atol=1e-3)   # Heun is not Euler
    # the last step (t' = -1, σ' = 0) is a plain Euler step: x' = x/√ᾱ − σ ε̂ = x̂_0
    x1 = recs[1].x.double()
    close(recs[2].x, x1 / math.sqrt(ap) - sp * k(tp) * x1)
    assert recs[2].sigma == 0.0 and recs[2].t_next == -1


@pytest.mark.parametrize("schedule", ["linear", "squaredcos_cap_v2"])
@pytest.mark.parametrize("steps", [1, 10, 25])
def test_euler_equals_ddim_eta0(schedule, steps):
    """x' = √ᾱ'(x/√ᾱ + (σ'−σ) ε̂) = √ᾱ' x̂_0 + √(1−ᾱ') ε̂: Euler on the PF-ODE is DDIM with η = 0."""
    m = tiny_model(schedule)
    kw = dict(steps=steps, n=2, seed=3)
    eu = list(chain(m, "ode-euler", clip_sample=False, **kw))
    dd = list(chain(m, "ddim", eta=0.0, clip_sample=False, **kw))
    assert len(eu) == len(dd) == steps + 1
    for a, b in zip(eu, dd):
        assert (a.t, a.t_next) == (b.t, b.t_next)
        assert torch.allclose(a.x, b.x, atol=1e-4, rtol=1e-4), (a.index, (a.x - b.x).abs().max().item())
    assert eu[-1].x.abs().max() > 0.1          # a non-trivial chain


def test_prediction_types_convert_to_eps():
    """ε̂ from an x̂_0 network: (x − √ᾱ x̂_0)/√(1−ᾱ); from a v network: √ᾱ v + √(1−ᾱ) x (Salimans & Ho)."""
    t = 300
    a = acp(t)
    out = lambda x, t: 0.5 * x + 0.2        # noqa: E731
    x = X.double()
    o = 0.5 * x + 0.2
    m = fn_model(out, prediction_type="sample")
    close(m.predict_eps(X, t), (x - math.sqrt(a) * o) / math.sqrt(1 - a))
    m = fn_model(out, prediction_type="v_prediction")
    close(m.predict_eps(X, torch.full((2,), t)), math.sqrt(a) * o + math.sqrt(1 - a) * x)
    m = fn_model(out, prediction_type="epsilon")
    close(m.predict_eps(X, t), o)
    # the score: −ε̂/√(1−ᾱ)
    close(m.score(X, t), -o / math.sqrt(1 - a))


@pytest.mark.parametrize("prediction_type", ["epsilon", "v_prediction", "sample"])
def test_shared_timestep_equals_per_sample_timesteps(prediction_type):
    """The samplers pass one int t for the whole batch (the network embeds it once and broadcasts);
    that must give the same ε̂ and score as the (N,) LongTensor of diffusers' convention."""
    from genviz.backend.families import DiffusionModel
    from genviz.backend.nets.toy import ToyEpsMLP
    unet_model = tiny_model(prediction_type=prediction_type)
    torch.manual_seed(0)
    toy_model = DiffusionModel(ToyEpsMLP(hidden=32, depth=3, temb=16).eval(),
                               {**unet_model.metadata, "data": {"shape": [2], "range": [-4.0, 4.0]}}, "cpu")
    for model in (unet_model, toy_model):
        x = torch.randn((5, *model.data_shape), generator=torch.Generator().manual_seed(1))
        for t in (0, 437, 999):
            tv = torch.full((5,), t, dtype=torch.long)
            with torch.no_grad():
                shared, per = model.predict_eps(x, t), model.predict_eps(x, tv)
                assert shared.shape == per.shape == x.shape
                scale = max(1.0, float(per.abs().max()))  # x0-prediction at t = 0 divides by √(1−ᾱ_0) ≈ 0.01
                assert torch.allclose(shared, per, rtol=0, atol=1e-5 * scale), (type(model.net).__name__, t)
                s_shared, s_per = model.score(x, t), model.score(x, tv)
                assert torch.allclose(s_shared, s_per, rtol=0, atol=1e-5 * max(1.0, float(s_per.abs().max())))


def test_traced_unet_equals_eager():
    """Sampling on the CPU runs genviz's U-Net as a TorchScript trace: bit-identical to the eager network for
    any batch size and for shared or per-sample timesteps; a device move drops the trace."""
    model = tiny_model()
    with torch.inference_mode():
        for n in (1, 3, 8):
            x = torch.randn((n, *model.data_shape), generator=torch.Generator().manual_seed(n))
            for t in (0, 500, torch.full((n,), 999, dtype=torch.long)):
                tt = t if torch.is_tensor(t) else torch.tensor(t)
                assert torch.equal(model.predict_eps(x, t), model.net(x, tt))
    assert model._traced is not None  # the trace was made and used
    model.to("cpu")
    assert model._traced is None  # a device move drops the trace; the next sampling call makes a new one
