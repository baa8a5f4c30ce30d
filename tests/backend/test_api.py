"""chain() / sample(): records, defaults, seed replay and the errors they raise."""
import math

import pytest
import torch
from tinymodels import SHAPE, fn_model, tiny_model

from genviz.backend import SAMPLERS, ChainStep, chain, get_sampler, initial_noise, sample, samplers_for

SAMPLER_NAMES = ["ddpm", "ddim", "ode-euler", "ode-heun"]


def test_registry(model):
    assert set(SAMPLER_NAMES) <= set(SAMPLERS)
    assert {s.name for s in samplers_for(model)} >= set(SAMPLER_NAMES)
    assert get_sampler("ddim").defaults() == {"eta": 0.0, "clip_sample": True, "timestep_spacing": "leading"}
    assert get_sampler("ddpm").stochastic and not get_sampler("ode-euler").stochastic


# ---- records ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("sampler", SAMPLER_NAMES)
def test_records(model, sampler):
    recs = list(chain(model, sampler, steps=4, n=3, seed=0))
    assert len(recs) == 5
    assert all(isinstance(r, ChainStep) for r in recs)
    assert [r.index for r in recs] == [0, 1, 2, 3, 4]
    assert all(r.steps == 4 for r in recs)
    r0 = recs[0]
    assert torch.equal(r0.x, initial_noise(model, 3, seed=0))   # record 0 is x_init
    assert r0.x0_hat is None and r0.eps_hat is None and r0.noise is None
    assert r0.t == r0.t_next == 750
    assert [r.t for r in recs[1:]] == [750, 500, 250, 0]
    assert [r.t_next for r in recs[1:]] == [500, 250, 0, -1]
    for r in recs[1:]:
        assert r.x.shape == r.x0_hat.shape == r.eps_hat.shape == (3, *SHAPE)
        assert r.x.dtype == torch.float32 and r.x.device.type == "cpu"
        assert r.stats["x_norm"].shape == (3,) and r.stats["eps_norm"].shape == (3,)
        assert torch.allclose(r.stats["x_norm"], r.x.flatten(1).norm(dim=1))
    acp = model.alphas_cumprod
    assert r0.sigma == pytest.approx(math.sqrt((1 - acp[750].item()) / acp[750].item()), rel=1e-5)
    assert recs[-1].sigma == 0.0
    sig = [r.sigma for r in recs]
    assert all(a > b for a, b in zip(sig, sig[1:]))


def test_sample_returns_last_record(model):
    recs = list(chain(model, "ddim", steps=3, n=2, seed=4, eta=0.3))
    x = sample(model, "ddim", steps=3, n=2, seed=4, eta=0.3)
    assert x.shape == (2, *SHAPE)
    assert torch.equal(x, recs[-1].x)


def test_n_defaults(model):
    assert sample(model, "ddim", steps=2).shape == (1, *SHAPE)
    x_init = torch.randn(5, *SHAPE)
    recs = list(chain(model, "ddim", steps=2, x_init=x_init))
    assert recs[-1].x.shape == (5, *SHAPE)
    assert torch.equal(recs[0].x, x_init)


def test_x_init_is_converted_to_float32_and_not_modified(model):
    x64 = torch.randn(2, *SHAPE, dtype=torch.float64)
    keep = x64.clone()
    recs = list(chain(model, "ddpm", steps=3, x_init=x64, seed=0))
    assert recs[0].x.dtype == recs[-1].x.dtype == torch.float32
    assert torch.equal(recs[0].x, x64.float())
    assert torch.equal(x64, keep)
    assert torch.equal(recs[-1].x, sample(model, "ddpm", steps=3, x_init=x64.float(), seed=0))


def test_initial_noise_seed_convention(model):
    """Seed s with n = 1 is randn(data_shape) of a generator seeded s."""
    x = initial_noise(model, 1, seed=123)
    assert torch.equal(x[0], torch.randn(SHAPE, generator=torch.Generator().manual_seed(123)))
    assert torch.equal(sample(model, "ddim", steps=1, n=1, seed=123, x_init=None),
                       sample(model, "ddim", steps=1, x_init=x))


def test_default_sampler_used_when_none():
    m = tiny_model()
    assert m.default_sampler == {"name": "ddim", "steps": 4, "eta": 0.0}
    assert torch.equal(sample(m, n=2, seed=1), sample(m, "ddim", steps=4, n=2, seed=1, eta=0.0))
    # metadata's sampler, with its parameters, and steps overridable
    m.metadata["sampler"] = {"name": "ddpm", "steps": 3, "variance_type": "fixed_large"}
    assert torch.equal(sample(m, n=2, seed=1), sample(m, "ddpm", steps=3, n=2, seed=1, variance_type="fixed_large"))
    assert torch.equal(sample(m, steps=2, n=2, seed=1), sample(m, "ddpm", steps=2, n=2, seed=1,
                                                               variance_type="fixed_large"))
    assert not torch.equal(sample(m, n=2, seed=1), sample(m, "ddpm", steps=3, n=2, seed=1))


def test_t_start_and_explicit_timesteps(model):
    x = torch.randn(2, *SHAPE)
    recs = list(chain(model, "ddim", steps=5, x_init=x, t_start=300))
    assert [r.t for r in recs[1:]] == [300, 225, 150, 75, 0]
    recs = list(chain(model, "ddim", steps=1, x_init=x, t_start=300))
    assert [r.t for r in recs] == [300, 300]          # one step still starts at t_start
    # branching: the rest of a chain's grid replays the chain's tail exactly (DDIM, η = 0)
    full = list(chain(model, "ddim", steps=10, n=2, seed=3))
    rest = list(chain(model, "ddim", steps=6, x_init=full[4].x, timesteps=[r.t for r in full[5:]]))
    assert len(rest) == 7
    assert torch.equal(rest[-1].x, full[-1].x)


# ---- seed replay -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("sampler,params", [("ddpm", {}), ("ddim", {"eta": 0.7}), ("ode-heun", {})])
def test_same_seed_is_bit_identical(model, sampler, params):
    a = list(chain(model, sampler, steps=6, n=2, seed=42, **params))
    b = list(chain(model, sampler, steps=6, n=2, seed=42, **params))
    for ra, rb in zip(a, b):
        assert torch.equal(ra.x, rb.x)
        if ra.noise is not None:
            assert torch.equal(ra.noise, rb.noise)
    c = list(chain(model, sampler, steps=6, n=2, seed=43, **params))
    assert not torch.equal(a[0].x, c[0].x)
    assert (a[-1].x - c[-1].x).abs().max() > 1e-3


def test_seed_fixes_noise_not_only_x_init(model):
    """With x_init given, the seed still decides a stochastic chain's noise."""
    x = torch.randn(2, *SHAPE)
    a = sample(model, "ddpm", steps=5, x_init=x, seed=1)
    assert torch.equal(a, sample(model, "ddpm", steps=5, x_init=x, seed=1))
    assert not torch.equal(a, sample(model, "ddpm", steps=5, x_init=x, seed=2))
    # deterministic samplers ignore it
    assert torch.equal(sample(model, "ddim", steps=5, x_init=x, seed=1), sample(model, "ddim", steps=5, x_init=x, seed=2))


# ---- errors ----------------------------------------------------------------------------------------------

def test_errors_are_raised_by_chain_itself(model):
    """Regression: chain() was a generator function, so its ValueErrors only came at the first next()."""
    with pytest.raises(ValueError, match="unknown sampler 'nope'; available: .*ddim"):
        chain(model, "nope", steps=5)


@pytest.mark.parametrize("kwargs,match", [
    (dict(sampler="nope", steps=5), r"unknown sampler 'nope'; available: .*ddim, ddpm, .*ode-euler, ode-heun"),
    (dict(sampler="ddim", steps=5, temperature=1.0), r"sampler 'ddim' has no parameter 'temperature' \(parameters: eta"),
    (dict(sampler="ode-euler", steps=5, eta=0.5), r"sampler 'ode-euler' has no parameter 'eta'"),
    (dict(sampler="ddim", steps=5, eta=-0.1), r"eta must be >= 0.0, got -0.1"),
    (dict(sampler="ddim", steps=5, eta=11.0), r"eta must be <= 10.0, got 11.0"),
    (dict(sampler="ddim", steps=5, eta=float("nan")), r"eta must be finite"),
    (dict(sampler="ddim", steps=5, eta="lots"), r"eta must be a float, got 'lots'"),
    (dict(sampler="ddpm", steps=5, variance_type="learned"), r"variance_type must be one of fixed_small, fixed_large"),
    (dict(sampler="ddim", steps=5, clip_sample="maybe"), r"clip_sample must be a bool"),
    (dict(sampler="ddim", steps=5, timestep_spacing="uniform"), r"timestep_spacing must be one of leading, trailing"),
    (dict(sampler="ddim", steps=0), r"steps must be (>= 1|in 1\.\.1000), got 0"),
    (dict(sampler="ddim", steps=-3), r"steps must be (>= 1|in 1\.\.1000), got -3"),
    (dict(sampler="ddim", steps=1001), r"steps must be in 1\.\.1000, got 1001"),
    (dict(sampler="ddim", steps=5, n=0), r"n must be >= 1, got 0"),
    (dict(sampler="ddim", steps=5, t_start=1000), r"t_start must be in 0\.\.999, got 1000"),
    (dict(sampler="ddim", steps=5, timesteps=[10, 20]), r"strictly descending"),
    (dict(sampler="ddim", steps=5, timesteps=[1000, 20]), r"strictly descending list in 0\.\.T-1"),
    (dict(sampler="ddim", steps=5, timesteps=[]), r"non-empty"),
])
def test_chain_errors(model, kwargs, match):
    with pytest.raises(ValueError, match=match):
        chain(model, **kwargs)
    with pytest.raises(ValueError, match=match):
        sample(model, **kwargs)


@pytest.mark.parametrize("shape", [(2, 1, 8, 9), (2, 3, 8, 8), (1, 8, 8), (2, 64)])
def test_x_init_shape_errors(model, shape):
    with pytest.raises(ValueError, match=r"x_init has shape .*expected \(N, 1, 8, 8\)"):
        chain(model, "ddim", steps=2, x_init=torch.zeros(shape))


def test_sample_needs_steps_with_a_named_sampler(model):
    with pytest.raises(ValueError, match="steps is required"):
        sample(model, "ddim")


def test_string_params_are_converted(model):
    """The CLI passes strings: "0.5" and "false" convert like 0.5 and False."""
    a = sample(model, "ddim", steps=3, n=2, seed=0, eta="0.5", clip_sample="false")
    b = sample(model, "ddim", steps=3, n=2, seed=0, eta=0.5, clip_sample=False)
    assert torch.equal(a, b)


def test_sampler_of_another_family(model):
    from genviz.backend import ClassifierModel
    from genviz.backend.nets.classifier import DigitCNN
    clf = ClassifierModel(DigitCNN(), {"name": "clf", "data": {"shape": [1, 28, 28]}}, "cpu")
    with pytest.raises(ValueError, match="sampler 'ddim' does not apply to a classifier model"):
        chain(clf, "ddim", steps=2)


def test_trailing_ddpm_runs_for_every_count():
    """Regression for the trailing grid that ended at t = -1 (61 steps: a ZeroDivisionError in DDPM)."""
    m = fn_model(lambda x, t: 0.1 * x)
    x = sample(m, "ddpm", steps=61, n=2, timestep_spacing="trailing")
    assert torch.isfinite(x).all()
    recs = list(chain(m, "ddim", steps=61, n=2, timestep_spacing="trailing"))
    assert len(recs) == 62 and recs[-1].t == min(r.t for r in recs[1:]) >= 0
