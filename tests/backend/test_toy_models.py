"""2-D toy models: the ODE log-density against a Gaussian closed form, flow densities integrate to 1,
tiny on-the-fly training of each family, checkpoint round trips and the bundled 25gaussians models'
mode coverage."""
import math

import pytest
import torch
from torch import nn

from genviz.backend import list_checkpoints, load_checkpoint, sample
from genviz.backend.families import DiffusionModel, EnergyModel, FlowModel, ToyGANModel, ToyVAEModel
from genviz.backend.toy.datasets import make_dataset
from genviz.backend.toy.density import Grid, evaluate_on_grid, grid_mass
from genviz.backend.toy.lab import ode_log_density, readouts, score_field
from genviz.backend.toy.metrics import mode_coverage
from genviz.backend.training.toy import Cancelled, train


def linear_gaussian_model(mu, s):
    """A diffusion model whose ε̂ is exact for data N(mu, s² I): ε̂ = √(1−ᾱ)(x − √ᾱ mu)/(ᾱ s² + 1 − ᾱ)."""
    meta = {"name": "linear", "family": "diffusion", "network": {"class": "function"},
            "data": {"shape": [2], "range": [-5, 5]}, "schedule": {"num_train_timesteps": 1000}}
    m = DiffusionModel(nn.Identity(), meta)
    acp = m.alphas_cumprod

    class Lin(nn.Module):
        def forward(self, x, t):
            a = acp[t][:, None]
            return (1 - a).sqrt() * (x - a.sqrt() * mu) / (a * s ** 2 + 1 - a)
    m.net = Lin()
    return m


@pytest.mark.parametrize("mu", [(0.0, 0.0), (1.0, -0.5)])
def test_ode_log_density_of_linear_model_matches_gaussian(mu):
    mu, s = torch.tensor(mu), 0.5
    m = linear_gaussian_model(mu, s)
    x = mu + s * torch.randn(300, 2, generator=torch.Generator().manual_seed(0))
    a0 = float(m.alphas_cumprod[0])
    v0 = a0 * s ** 2 + 1 - a0        # the t = 0 marginal (β_0 = 1e-4 of noise)
    ref = (-((x - a0 ** 0.5 * mu) ** 2).sum(1) / (2 * v0) - math.log(2 * math.pi * v0)).double()
    lp = ode_log_density(m, x, steps=200)
    assert lp.shape == (300,) and lp.dtype == torch.float64
    assert abs(float((lp - ref).mean())) < 0.01
    # the only other error is the prior N(0, I) standing in for N(√ᾱ_T mu, ...): ~√ᾱ_T |mu| |x_T|
    assert float((lp - ref).abs().max()) < (0.02 if mu.abs().sum() == 0 else 0.05)
    with pytest.raises(ValueError):
        ode_log_density(m, x, steps=0)


def test_flow_density_integrates_to_one():
    torch.manual_seed(0)
    flow = train("8gaussians", "flow", 60, None, log=None, transforms=2, bins=8, hidden=32)
    assert isinstance(flow, FlowModel) and flow.n_layers == 2
    g = Grid(-6, 6, 300)
    mass = grid_mass(torch.exp(evaluate_on_grid(flow.log_prob, g)).numpy(), g)
    assert abs(mass - 1) < 5e-3
    # sampling: one record per inverse layer, last = f⁻¹(z)
    from genviz.backend import chain
    recs = list(chain(flow, "flow", steps=2, n=7, seed=0))
    assert len(recs) == 3 and recs[-1].x.shape == (7, 2)
    assert torch.allclose(recs[-1].x, flow.sample_from(recs[0].x), atol=1e-5)
    assert score_field(flow, torch.zeros(3, 2)).shape == (3, 2)


def test_tiny_training_of_each_family_and_roundtrip(tmp_path):
    for fam, cls in (("ebm", EnergyModel), ("diffusion", DiffusionModel), ("flow", FlowModel), ("vae", ToyVAEModel),
                     ("gan", ToyGANModel)):
        kw = {"ebm": dict(hidden=16, K=5), "diffusion": dict(hidden=16, T=100), "flow": dict(hidden=16, transforms=2),
              "vae": dict(hidden=16), "gan": dict(hidden=16)}[fam]
        out = tmp_path / f"toy-{fam}.safetensors"
        seen = []
        m = train("8gaussians", fam, 20, out, log=None, progress=lambda i, n, l: seen.append(i), **kw)
        assert isinstance(m, cls) and m.data_shape == (2,) and m.dataset == "8gaussians"
        assert seen[-1] == 20
        loaded = load_checkpoint(out, device="cpu")
        assert type(loaded) is cls and loaded.metadata["training"]["recipe"].startswith("genviz train toy")
        assert loaded.metadata["data"]["dataset"] == "8gaussians"
        x = sample(loaded, n=5, seed=0)
        assert x.shape == (5, 2) and torch.isfinite(x).all()
        assert torch.allclose(x, sample(m, n=5, seed=0), atol=1e-5)
    with pytest.raises(Cancelled):
        train("8gaussians", "flow", 100, None, log=None, should_stop=lambda: True)
    with pytest.raises(ValueError, match="unknown toy model"):
        train("8gaussians", "wgan", 10)
    with pytest.raises(ValueError, match="no parameter"):
        train("8gaussians", "flow", 10, bogus=1)


def test_readouts_of_a_tiny_ebm():
    ds = make_dataset("8gaussians")
    m = train("8gaussians", "ebm", 10, None, log=None, hidden=16, K=5)
    r = readouts(m, ds, n=300, test_points=200, grid=Grid(*ds.bounds, 80))
    assert r["density_kind"] == "neg_energy" and math.isfinite(r["log_likelihood"])
    assert abs(r["data_log_likelihood"] - float(ds.log_prob(ds.sample(200, seed=2)).mean())) < 1e-6
    assert r["mode_coverage"]["modes"] == 8 and r["mmd2"] is not None and r["energy_distance"] >= 0


BUNDLED_25 = ["toy-25gaussians-ebm", "toy-25gaussians-diffusion", "toy-25gaussians-flow"]


@pytest.mark.parametrize("name", BUNDLED_25)
def test_bundled_25gaussians_cover_all_modes(name):
    """2,500 samples from the default sampler: >= 20 within 3 std of every centre, >= 90 % within 3 std
    of some centre."""
    m = load_checkpoint(name, device="cpu")
    assert m.dataset == "25gaussians" and m.metadata["training"]["recipe"].startswith("genviz train toy --dataset 25gaussians")
    ds = make_dataset("25gaussians")
    x = sample(m, n=2500, seed=0)
    r = mode_coverage(x, ds.centres, ds.std)
    assert min(r["counts"]) >= 20, r["counts"]
    assert r["high_quality"] >= 0.9, r["high_quality"]


def test_bundled_toys_listed_with_dataset():
    infos = {i.name: i for i in list_checkpoints()}
    for d in ("25gaussians", "8gaussians", "swissroll"):
        for f in ("ebm", "diffusion", "flow"):
            i = infos[f"toy-{d}-{f}"]
            assert i.dataset == d and i.family == f and i.data_shape == (2,)
            assert i.size_bytes < 3_000_000


def test_vae_elbo_is_a_lower_bound_and_gan_has_no_density():
    torch.manual_seed(0)
    vae = train("8gaussians", "vae", 300, None, log=None, hidden=32)
    g = Grid(-6, 6, 200)
    # exp(ELBO) integrates to at most 1 (ELBO <= log p), and is not degenerate
    mass = grid_mass(torch.exp(evaluate_on_grid(vae.elbo, g)).numpy(), g)
    assert 0.05 < mass <= 1.0 + 1e-3
    gan = train("8gaussians", "gan", 20, None, log=None, hidden=16)
    with pytest.raises(ValueError, match="no density"):
        gan.elbo(torch.zeros(2, 2))
    with pytest.raises(ValueError):
        score_field(gan, torch.zeros(2, 2))
    r = readouts(gan, make_dataset("8gaussians"), n=200, test_points=50, grid=Grid(-3.5, 3.5, 50))
    assert r["log_likelihood"] is None and r["density_kind"] is None and r["mmd2"] is not None


@pytest.mark.parametrize("family", ["flow", "vae", "gan"])
def test_toy_family_with_a_foreign_network_is_refused(tmp_path, family):
    from genviz.backend import CheckpointError, save_checkpoint
    from genviz.backend.nets.toy import ToyEnergyMLP
    meta = {"name": "x", "family": family, "network": {"class": "ToyEnergyMLP", "config": {"hidden": 8, "depth": 1}},
            "data": {"shape": [2], "range": [-5, 5], "dataset": "8gaussians"}}
    p = save_checkpoint(tmp_path / "x.safetensors", ToyEnergyMLP(8, 1).state_dict(), meta)
    # each family loads only the networks it registers (genviz.backend.registry), so this is refused by name
    with pytest.raises(CheckpointError, match=f"unknown network class 'ToyEnergyMLP' for a {family} model"):
        load_checkpoint(p, device="cpu")
