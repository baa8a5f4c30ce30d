"""diffusers schedulers as genviz samplers (``samplers/schedulers.py``): every one against diffusers' own loop.

The reference loop is a pipeline's: x = randn · init_noise_sigma, then per timestep scale_model_input, one network
call, step (with the same CPU generator). It builds each scheduler from the facts ``genviz samplers --json`` lists
(``diffusers_class`` and ``diffusers_config``) plus the model's schedule by name, so it checks those facts too.
Free-running chains use ``denoiser_model`` (a tiny random UNet plus the exact Gaussian denoiser: well conditioned);
two samplers also run on the real ``mnist-ddpm``. Tolerance: 1e-5 in float32.
"""
import inspect

import pytest
import torch
from tinymodels import SHAPE, denoiser_model

from genviz.backend import chain, get_sampler, load_checkpoint
from genviz.backend.samplers.schedulers import ENTRIES, STEP_KWARGS

diffusers = pytest.importorskip("diffusers")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # numpy 2 notes from inside diffusers

TOL = 1e-5
N = 2


def float_t_model():
    """``denoiser_model`` whose network takes fractional timesteps (Karras σ, DPM2's midpoints): t is rounded
    for the exact-denoiser part; both loops call this same function."""
    m = denoiser_model("linear")
    inner = m._forward
    m._forward = lambda net, x, t: inner(net, x, torch.as_tensor(t).round().long())
    return m


def reference(model, name, steps, seed, schedule):
    """diffusers' loop for sampler ``name``: the network inputs of every call, then the final sample."""
    spec = get_sampler(name)
    cls = getattr(diffusers, spec.info["diffusers_class"])
    cfg = dict(spec.info["diffusers_config"])
    params = inspect.signature(cls.__init__).parameters
    if "clip_sample" in params:
        cfg["clip_sample"] = True
    sched = cls(num_train_timesteps=model.num_train_timesteps, prediction_type=model.prediction_type,
                **schedule, **{k: v for k, v in cfg.items() if k in params})
    if "timestep_spacing" in sched.config or "timesteps" not in inspect.signature(sched.set_timesteps).parameters:
        sched.set_timesteps(steps)
    else:  # DPM-Solver singlestep has no timestep_spacing: genviz gives it the grid explicitly
        from genviz.backend import make_timesteps
        sched.set_timesteps(timesteps=make_timesteps(model.num_train_timesteps, steps, cfg["timestep_spacing"]))
    if hasattr(sched, "set_begin_index"):
        sched.set_begin_index(0)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn((N, *model.data_shape), generator=g) * sched.init_noise_sigma
    step_kw = {p.name: p.default for p in spec.params if p.name in STEP_KWARGS}
    if "generator" in inspect.signature(sched.step).parameters:
        step_kw["generator"] = g
    inputs = []
    with torch.inference_mode():
        for t in sched.timesteps:
            x_in = sched.scale_model_input(x, t)
            inputs.append(x_in)
            x = sched.step(model._forward(model.net, x_in, t), t, x, **step_kw).prev_sample
    return inputs + [x]


@pytest.mark.parametrize("name", [e.name for e in ENTRIES])
def test_every_scheduler_equals_the_diffusers_loop(name):
    model = float_t_model()
    recs = list(chain(model, name, steps=5, n=N, seed=3))
    ref = reference(model, name, 5, 3, {"beta_schedule": "linear", "beta_start": 1e-4, "beta_end": 0.02})
    assert len(recs) == len(ref)
    worst = max(float((r.x - x).abs().max()) for r, x in zip(recs, ref))
    assert worst <= TOL, worst
    assert all(r.x0_hat is not None and r.x0_hat.shape == (N, *SHAPE) for r in recs[1:])
    assert (recs[-1].x - recs[0].x).abs().max() > 0.1  # the chain moved


def test_second_order_schedulers_record_both_evaluations():
    model = float_t_model()
    recs = list(chain(model, "heun", steps=4, n=N, seed=0))
    assert len(recs) == 1 + 2 * 4 - 1  # predictor and corrector calls, the last step first-order
    ts = [r.t for r in recs[1:]]
    assert ts[1] == ts[2] and ts[3] == ts[4]  # the corrector evaluates at the next noise level
    assert recs[-1].sigma == 0.0


@pytest.mark.parametrize("name", ["dpmpp-2m", "euler-a"])
def test_mnist_ddpm_chain_equals_the_diffusers_loop(name):
    model = load_checkpoint("mnist-ddpm", device="cpu")
    recs = list(chain(model, name, steps=4, n=N, seed=1))
    sched = model.metadata["schedule"]
    ref = reference(model, name, 4, 1, {"beta_schedule": sched["beta_schedule"]})
    worst = max(float((r.x - x).abs().max()) for r, x in zip(recs, ref))
    assert worst <= TOL, worst


@pytest.mark.parametrize("name,k", [("dpmpp-2m", 3), ("heun", 2), ("unipc", 4), ("lms", 3)])
def test_branch_restores_the_scheduler_history_exactly(name, k):
    model = float_t_model()
    full = list(chain(model, name, steps=6, n=N, seed=5))
    src = full[k]
    cont = list(chain(model, name, steps=len(full) - 1 - k, x_init=src.x, resume=src.state, seed=9))
    assert len(cont) == len(full) - k
    for a, b in zip(cont, full[k:]):
        assert torch.equal(a.x, b.x)
    # without the history, a fresh DPM++ 2M from the same state goes elsewhere: the history matters
    if name == "dpmpp-2m":
        fresh = list(chain(model, name, steps=len(full) - 1 - k, x_init=src.x, seed=9))
        assert (fresh[-1].x - full[-1].x).abs().max() > 1e-3


def test_resume_refuses_another_sampler_or_other_settings():
    model = float_t_model()
    rec = list(chain(model, "dpmpp-2m", steps=4, n=N, seed=0))[2]
    with pytest.raises(ValueError, match="continues only"):
        list(chain(model, "deis", steps=2, x_init=rec.x, resume=rec.state))
    with pytest.raises(ValueError, match="continues only"):
        list(chain(model, "dpmpp-2m", steps=2, x_init=rec.x, resume=rec.state, use_karras_sigmas=True))
    with pytest.raises(ValueError, match="cannot continue"):
        list(chain(model, "ula", steps=2, x_init=rec.x, resume=rec.state))


def test_seed_replays_stochastic_schedulers():
    model = float_t_model()
    a, b, c = (list(chain(model, "dpmpp-2m-sde", steps=4, n=N, seed=s))[-1].x for s in (7, 7, 8))
    assert torch.equal(a, b)
    assert (a - c).abs().max() > 1e-3


def test_bad_parameters_are_refused():
    model = float_t_model()
    with pytest.raises(ValueError, match="solver_order"):
        list(chain(model, "dpmpp-2m", steps=4, solver_order=7))
    with pytest.raises(ValueError, match="timestep_spacing"):
        list(chain(model, "euler", steps=4, timestep_spacing="sideways"))


def test_samplers_json_lists_the_diffusers_facts(capsys):
    import json

    from genviz.cli import main
    assert main(["samplers", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    r = rows["dpmpp-2m-karras"]
    assert r["label"] == "DPM++ 2M Karras" and "diffusion" in r["families"]
    assert r["diffusers_class"] == "DPMSolverMultistepScheduler"
    assert r["diffusers_config"] == {"algorithm_type": "dpmsolver++", "use_karras_sigmas": True, "solver_order": 2,
                                     "timestep_spacing": "leading"}
    assert rows["euler-a"]["label"] == "Euler a" and "diffusers_class" not in rows["ddim"]
