"""The one-place declarations: family traits, sampler specs, the panel registry and what is derived from them."""
import json
import math

import pytest
import torch
from tinymodels import save_tiny
from torch import nn

from genviz.backend import DiffusionModel, chain, load_checkpoint, sample, samplers_for
from genviz.backend.registry import FAMILIES, Traits, family_names, get_family, traits
from genviz.backend.samplers import SAMPLERS, Param, SamplerSpec, get_sampler, register
from genviz.panels import PANELS, get_panel, panel_keys, panels_for


def test_every_family_declares_traits_and_networks():
    assert set(family_names()) >= {"diffusion", "ebm", "score", "vae", "gan", "flow", "classifier"}
    for spec in FAMILIES.values():
        assert isinstance(spec.model_class.TRAITS, Traits)
        assert spec.model_class.family == spec.name
    assert get_family("diffusion").network_class("UNet").__name__ == "UNet"
    with pytest.raises(ValueError, match="unknown family 'nope'"):
        get_family("nope")


def test_samplers_run_on_what_their_kind_and_requirements_say():
    # MALA requires an energy: it serves EBMs only; ULA (langevin kind) serves anything with a score
    assert get_sampler("mala").families() == ("ebm",)
    assert set(get_sampler("ula").families()) == {"diffusion", "ebm", "score"}
    assert get_sampler("decode").families() == ("vae", "gan", "glf")
    assert get_sampler("vaebm-langevin").families() == get_sampler("vaebm-xz").families() == ("vaebm",)
    assert get_sampler("sde-euler").families() == ("diffusion",)
    ebm_like = traits("langevin", score=True)  # a score but no energy
    assert get_sampler("ula").runs_on(ebm_like) and not get_sampler("mala").runs_on(ebm_like)


def test_unknown_sampler_kind_and_duplicate_names_are_refused():
    with pytest.raises(ValueError, match="unknown kind"):
        SamplerSpec(name="x", title="X", kind="magic", fn=lambda *a, **k: iter(()), params=(), stochastic=False)
    with pytest.raises(ValueError, match="already registered"):
        register(SamplerSpec(name="ddim", title="other", kind="denoising", fn=lambda *a, **k: iter(()), params=(),
                             stochastic=False))


def test_panels_are_decided_by_traits(tmp_path):
    assert panel_keys() == ("chain", "interpolation", "density", "canvas", "vaebm", "compare", "fewsteps", "dynamics")
    m = load_checkpoint(save_tiny(tmp_path / "tiny.safetensors")[0], device="cpu")
    assert [p.key for p in panels_for(m)] == ["chain", "interpolation", "canvas", "compare", "fewsteps", "dynamics"]
    why = get_panel("density").why_not(m)
    assert "2-D" in why and m.name in why
    toy = load_checkpoint("toy-8gaussians-ebm", device="cpu")
    assert [p.key for p in panels_for(toy)] == ["density", "fewsteps", "dynamics"]  # its chains are particles there, not a Chain tab
    assert "Density panel" in get_panel("chain").why_not(toy)
    assert get_panel("chain").why_not(None) == "No model is loaded."
    with pytest.raises(ValueError, match="unknown panel"):
        get_panel("nope")
    for p in PANELS:  # widget classes are named, imported on demand
        assert p.widget.startswith("genviz.gui.panels.") and ":" in p.widget


def test_cli_flags_are_generated_from_every_sampler_param():
    from genviz.cli import sampler_flags
    flags = {name: (flag, help_) for flag, name, _, help_ in sampler_flags()}
    every = {p.name for s in SAMPLERS.values() for p in s.params}
    assert set(flags) == every
    assert flags["step_size"][0] == "--step-size"
    assert get_sampler("ddim").param("eta").help in flags["eta"][1] and "[ddim, diffusers-ddim]" in flags["eta"][1]


def test_samplers_command_lists_derived_facts(capsys):
    from genviz.cli import main
    assert main(["samplers", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert set(rows) == set(SAMPLERS)
    assert rows["mala"]["families"] == ["ebm"] and rows["ddim"]["label"] == "DDIM"
    assert [p["name"] for p in rows["ddim"]["params"]] == [p.name for p in get_sampler("ddim").params]


def test_a_sampler_added_in_one_place_reaches_the_cli_and_the_model(tmp_path):
    def two_steps(model, x, *, steps, generator, gain=1.0):
        from genviz.backend.samplers import ChainStep
        yield ChainStep(index=0, steps=steps, t=None, t_next=None, sigma=0.0, x=x)
        for i in range(steps):
            x = x * gain
            yield ChainStep(index=i + 1, steps=steps, t=None, t_next=None, sigma=0.0, x=x)
    spec = register(SamplerSpec(name="test-scale", title="Scale", kind="langevin", fn=two_steps, grid="steps",
                                params=(Param("gain", "float", 1.0, "multiplies x", minimum=0.0),), stochastic=False))
    try:
        m = load_checkpoint("toy-8gaussians-ebm", device="cpu")
        assert spec in samplers_for(m)
        from genviz.cli import sampler_flags
        assert any(name == "gain" for _, name, _, _ in sampler_flags())
        x0 = torch.ones(3, 2)
        assert torch.equal(sample(m, "test-scale", steps=2, x_init=x0, gain=0.5), x0 * 0.25)
    finally:
        SAMPLERS.pop("test-scale")


class _Gauss(nn.Module):
    pass


def _gaussian_diffusion(s: float) -> DiffusionModel:
    """A diffusion 'model' whose ε̂ is exact for data ~ N(0, s² I): ε*(x_t) = √(1−ᾱ) x_t / (ᾱ s² + 1 − ᾱ)."""
    meta = {"name": "gauss", "family": "diffusion", "network": {"class": "function"},
            "data": {"shape": [4], "range": [-5.0, 5.0], "dataset": "gauss"},
            "schedule": {"beta_schedule": "linear", "num_train_timesteps": 1000}}

    def eps(net, x, t):
        a = model.alphas_cumprod[t]
        return (1 - a).sqrt() * x / (a * s * s + 1 - a)
    model = DiffusionModel(_Gauss(), meta, "cpu", forward=eps)
    return model


def test_euler_maruyama_reaches_the_data_distribution():
    # with the exact score of N(0, s² I), 500 reverse-SDE steps from N(0, I) end at std s (Song et al. 2021, Eq. 6)
    s = 0.5
    model = _gaussian_diffusion(s)
    x = sample(model, "sde-euler", steps=500, n=4000, seed=1, clip_sample=False)
    assert abs(float(x.std()) - s) < 0.03 and abs(float(x.mean())) < 0.03
    recs = list(chain(model, "sde-euler", steps=5, n=2, seed=0))
    assert len(recs) == 6 and recs[-1].noise is None and recs[1].noise is not None  # no noise on the last step
    # Δτ = log(ᾱ_{t'}/ᾱ_t) > 0: the drift of the first step points along +x/2 + score
    t, t_prev = recs[1].t, recs[1].t_next
    dtau = math.log(float(model._acp_cpu[t_prev]) / float(model._acp_cpu[t]))
    assert torch.allclose(recs[1].drift + recs[1].noise, recs[1].x - recs[0].x, atol=1e-6)
    assert dtau > 0


def test_a_chain_from_a_given_state_does_not_reuse_its_draw(tmp_path):
    """Issue 13: `chain(m, "ddpm", seed=7, x_init=x_T)` drew step-1 noise equal to x_T (cosine 1.0), so a branch
    from record 0 with its parent's seed replayed the start as noise. Now it equals the fresh chain of seed 7."""
    m = load_checkpoint(save_tiny(tmp_path / "tiny.safetensors")[0], device="cpu")
    fresh = list(chain(m, "ddpm", steps=10, n=2, seed=7))
    x_T = fresh[0].x
    again = list(chain(m, "ddpm", steps=10, seed=7, x_init=x_T))
    cos = torch.nn.functional.cosine_similarity(again[1].noise.flatten(), x_T.flatten(), dim=0)
    assert abs(float(cos)) < 0.2
    for a, b in zip(fresh, again):
        assert torch.equal(a.x, b.x)

