"""Whole chains against diffusers' DDIMScheduler / DDPMScheduler with the same network, noise and seed.

genviz draws x_init = randn((n, *shape)) from a CPU generator seeded ``seed`` and then every step's noise
from that same generator, in diffusers' order; so passing diffusers the same generator after drawing
x_init the same way must give the same chain, record by record (max abs diff <= 1e-4).

Two kinds of check:

* free-running chains (genviz's loop vs diffusers' loop) on ``denoiser_model``: a tiny random UNet plus
  the exact denoiser of Gaussian data, whose chains are well conditioned;
* teacher-forced steps on the bare random UNet: each diffusers step is taken from genviz's state of the
  previous record (with a generator in the same state), so every single step is checked even where the
  whole chain is chaotic and rounding differences would grow.
"""
import pytest
import torch
from tinymodels import SHAPE, denoiser_model, tiny_model

from genviz.backend import chain

diffusers = pytest.importorskip("diffusers")

N = 2
TOL = 1e-4


def reference_chain(raw, scheduler, steps, seed, **step_kw):
    """diffusers' loop: timesteps and the states x_T, ..., x_0 (steps + 1 of them)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn((N, *SHAPE), generator=g)
    scheduler.set_timesteps(steps)
    xs = [x]
    with torch.inference_mode():
        for t in scheduler.timesteps:
            out = raw(x, torch.full((N,), int(t), dtype=torch.long))
            x = scheduler.step(out, int(t), x, generator=g, **step_kw).prev_sample
            xs.append(x)
    return [int(t) for t in scheduler.timesteps], xs


def assert_same_chain(recs, ref_ts, ref_xs):
    assert len(recs) == len(ref_xs) == len(ref_ts) + 1
    assert [r.t for r in recs[1:]] == ref_ts
    assert torch.equal(recs[0].x, ref_xs[0])          # the same x_init, bit for bit
    worst = max((r.x - x).abs().max().item() for r, x in zip(recs, ref_xs))
    assert worst <= TOL, worst
    assert torch.isfinite(recs[-1].x).all()
    assert (recs[-1].x - recs[0].x).abs().max() > 0.1   # the chain did move


def ddim_scheduler(schedule, clip, prediction_type="epsilon", spacing="leading"):
    return diffusers.DDIMScheduler(num_train_timesteps=1000, beta_schedule=schedule, beta_start=1e-4, beta_end=0.02,
                                   clip_sample=clip, clip_sample_range=1.0, set_alpha_to_one=True, steps_offset=0,
                                   prediction_type=prediction_type, timestep_spacing=spacing)


def ddpm_scheduler(schedule, clip, variance_type, spacing="leading", prediction_type="epsilon"):
    return diffusers.DDPMScheduler(num_train_timesteps=1000, beta_schedule=schedule, beta_start=1e-4, beta_end=0.02,
                                   clip_sample=clip, clip_sample_range=1.0, variance_type=variance_type,
                                   timestep_spacing=spacing, prediction_type=prediction_type)


# ---- free-running chains --------------------------------------------------------------------------------

@pytest.mark.parametrize("schedule", ["linear", "squaredcos_cap_v2"])
@pytest.mark.parametrize("clip", [True, False])
def test_ddim_eta0_equals_diffusers(schedule, clip):
    m = denoiser_model(schedule)
    recs = list(chain(m, "ddim", steps=20, n=N, seed=5, eta=0.0, clip_sample=clip))
    assert_same_chain(recs, *reference_chain(m.raw, ddim_scheduler(schedule, clip), 20, 5, eta=0.0))


def test_clip_is_exercised():
    """Guards the clip cases: here x̂_0 does leave [-1, 1], so clip on and off give different chains."""
    m = denoiser_model("linear")
    on = list(chain(m, "ddim", steps=20, n=N, seed=5, clip_sample=True))
    off = list(chain(m, "ddim", steps=20, n=N, seed=5, clip_sample=False))
    assert max(r.x0_hat.abs().max().item() for r in off[1:]) > 2
    assert max(r.x0_hat.abs().max().item() for r in on[1:]) <= 1
    assert (on[-1].x - off[-1].x).abs().max() > 0.1


@pytest.mark.parametrize("schedule", ["linear", "squaredcos_cap_v2"])
@pytest.mark.parametrize("eta", [0.5, 1.0])
def test_ddim_eta_equals_diffusers(schedule, eta):
    m = denoiser_model(schedule)
    recs = list(chain(m, "ddim", steps=20, n=N, seed=9, eta=eta, clip_sample=True))
    assert_same_chain(recs, *reference_chain(m.raw, ddim_scheduler(schedule, True), 20, 9, eta=eta))
    assert all(r.noise is not None for r in recs[1:])      # one draw per step, as diffusers
    assert recs[5].noise.abs().max() > 0


def test_ddim_trailing_equals_diffusers():
    m = denoiser_model("linear")
    recs = list(chain(m, "ddim", steps=10, n=N, seed=2, timestep_spacing="trailing"))
    assert recs[1].t == 999
    ref = reference_chain(m.raw, ddim_scheduler("linear", True, spacing="trailing"), 10, 2, eta=0.0)
    assert_same_chain(recs, *ref)


@pytest.mark.parametrize("prediction_type", ["v_prediction", "sample"])
def test_other_prediction_types_equal_diffusers(prediction_type):
    m = denoiser_model("linear", prediction_type=prediction_type)
    recs = list(chain(m, "ddim", steps=20, n=N, seed=4, clip_sample=True))
    ref = reference_chain(m.raw, ddim_scheduler("linear", True, prediction_type=prediction_type), 20, 4, eta=0.0)
    assert_same_chain(recs, *ref)
    recs = list(chain(m, "ddpm", steps=20, n=N, seed=4, clip_sample=False))
    ref = reference_chain(m.raw, ddpm_scheduler("linear", False, "fixed_small", prediction_type=prediction_type),
                          20, 4)
    assert_same_chain(recs, *ref)


@pytest.mark.parametrize("schedule", ["linear", "squaredcos_cap_v2"])
@pytest.mark.parametrize("variance_type", ["fixed_small", "fixed_large"])
@pytest.mark.parametrize("clip", [True, False])
def test_ddpm_50_steps_equals_diffusers(schedule, variance_type, clip):
    m = denoiser_model(schedule)
    recs = list(chain(m, "ddpm", steps=50, n=N, seed=7, variance_type=variance_type, clip_sample=clip))
    assert_same_chain(recs, *reference_chain(m.raw, ddpm_scheduler(schedule, clip, variance_type), 50, 7))
    assert recs[-1].noise is None and recs[-2].noise is not None   # no noise on the last step (t = 0)


def test_ddpm_trailing_equals_diffusers():
    m = denoiser_model("squaredcos_cap_v2")
    recs = list(chain(m, "ddpm", steps=30, n=N, seed=8, timestep_spacing="trailing"))
    ref = reference_chain(m.raw, ddpm_scheduler("squaredcos_cap_v2", True, "fixed_small", "trailing"), 30, 8)
    assert_same_chain(recs, *ref)


@pytest.mark.slow
def test_ddpm_full_1000_steps_equals_diffusers():
    m = denoiser_model("linear")
    recs = list(chain(m, "ddpm", steps=1000, n=N, seed=1))
    assert [r.t for r in recs[1:]] == list(range(999, -1, -1))
    assert_same_chain(recs, *reference_chain(m.raw, ddpm_scheduler("linear", True, "fixed_small"), 1000, 1))


@pytest.mark.slow
def test_ddpm_full_1000_steps_cosine_equals_diffusers():
    """Cosine, 1000 steps: 1e-4 down to t = 10; the last ten steps are held to 1e-3 only.

    There β_t ~ 5e-5, and diffusers forms β_t = 1 − ᾱ_t/ᾱ_{t−1} in float32, off by up to 2.5e-4 relative
    (genviz forms it in float64); over the last steps that moves the chains apart by ~3e-4.
    """
    m = denoiser_model("squaredcos_cap_v2")
    recs = list(chain(m, "ddpm", steps=1000, n=N, seed=1))
    ts, xs = reference_chain(m.raw, ddpm_scheduler("squaredcos_cap_v2", True, "fixed_small"), 1000, 1)
    assert [r.t for r in recs[1:]] == ts == list(range(999, -1, -1))
    assert torch.equal(recs[0].x, xs[0])
    diff = [(r.x - x).abs().max().item() for r, x in zip(recs, xs)]
    assert max(diff[:991]) <= TOL, max(diff[:991])
    assert max(diff) <= 1e-3, max(diff)
    assert (recs[-1].x - recs[0].x).abs().max() > 0.1


# ---- teacher-forced steps on the bare random UNet -------------------------------------------------------

def assert_each_step_equal(m, recs, scheduler, steps, seed, **step_kw):
    """Each step agrees to float32 rounding (1e-5 relative: diffusers forms β_t = 1 − ᾱ_t/ᾱ_t' in float32,
    which loses ~5 digits when β_t ~ 1e-3; genviz forms it in float64)."""
    g = torch.Generator().manual_seed(seed)
    x_init = torch.randn((N, *SHAPE), generator=g)
    assert torch.equal(recs[0].x, x_init)
    scheduler.set_timesteps(steps)
    assert [r.t for r in recs[1:]] == scheduler.timesteps.tolist()
    with torch.inference_mode():
        for r_prev, r in zip(recs, recs[1:]):
            out = m.net(r_prev.x, torch.full((N,), r.t, dtype=torch.long))
            ref = scheduler.step(out, r.t, r_prev.x, generator=g, **step_kw).prev_sample
            scale = max(1.0, ref.abs().max().item())
            assert (r.x - ref).abs().max().item() <= 1e-5 * scale, (r.index, (r.x - ref).abs().max().item())


@pytest.mark.parametrize("schedule", ["linear", "squaredcos_cap_v2"])
def test_each_ddim_step_equals_diffusers(schedule):
    m = tiny_model(schedule)
    for clip, eta in [(True, 0.0), (False, 0.0), (True, 0.8)]:
        recs = list(chain(m, "ddim", steps=20, n=N, seed=5, eta=eta, clip_sample=clip))
        assert_each_step_equal(m, recs, ddim_scheduler(schedule, clip), 20, 5, eta=eta)


@pytest.mark.parametrize("schedule", ["linear", "squaredcos_cap_v2"])
def test_each_ddpm_step_equals_diffusers(schedule):
    m = tiny_model(schedule)
    for clip, variance_type in [(True, "fixed_small"), (False, "fixed_large")]:
        recs = list(chain(m, "ddpm", steps=50, n=N, seed=6, variance_type=variance_type, clip_sample=clip))
        assert_each_step_equal(m, recs, ddpm_scheduler(schedule, clip, variance_type), 50, 6)
