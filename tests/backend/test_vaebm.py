"""VAEBM (genviz.backend.vaebm, samplers.vaebm, toy.vaebm): the ε-chain's law and algebra, the (x, z) chain's
instability, the toy densities, the recipes, checkpoints and panels, on tiny networks."""
import pytest
import torch

from genviz.backend import CheckpointError, chain, load_checkpoint, sample, save_checkpoint
from genviz.backend.nets.vaebm import VAEBMNet
from genviz.backend.samplers import ChainDiverged
from genviz.backend.toy.density import Grid, evaluate_on_grid, grid_mass, normalised_density
from genviz.backend.vaebm import VAEBMModel


def _toy(obs_std=0.1, zero_energy=False, seed=0):
    torch.manual_seed(seed)
    net = VAEBMNet("ToyVAE", dict(hidden=16, latent=2, obs_std=obs_std), "ToyEnergyMLP", dict(hidden=16, depth=2, fourier=4))
    if zero_energy:
        with torch.no_grad():
            for p in net.energy.parameters():
                p.zero_()
    meta = {"name": "tiny-vaebm", "family": "vaebm", "network": {"class": "VAEBMNet", "config": net.config},
            "data": {"shape": [2], "range": [-5.0, 5.0], "dataset": "25gaussians", "kind": "vector"},
            "latent": {"shape": [net.noise_dim]}, "sampler": {"name": "vaebm-langevin", "steps": 10}}
    return VAEBMModel(net, meta, "cpu")


def test_zero_energy_keeps_eps_standard_normal():
    m = _toy(zero_energy=True)
    eta = 0.2
    last = None
    for last in chain(m, "vaebm-langevin", steps=150, n=3000, seed=0, step_size=eta, decode_terms=False):
        pass
    eps = last.stats["z"]
    assert eps.shape == (3000, 4)
    # U = ½‖ε‖²: ε ← (1 − η/2) ε + √η ω keeps N(0, v I), v = 1/(1 − η/4) (the O(η) bias of the unadjusted chain)
    assert eps.mean(0).abs().max() < 0.08
    assert torch.allclose(eps.var(0), torch.full((4,), 1 / (1 - eta / 4)), atol=0.1)


def test_one_step_is_the_formula_and_batch_independent():
    m = _toy(zero_energy=True)
    eps0 = torch.randn(5, 4, generator=torch.Generator().manual_seed(3))
    r = list(chain(m, "vaebm-langevin", steps=1, x_init=eps0, noise=False, step_size=0.1))
    assert torch.allclose(r[1].stats["z"], eps0 * (1 - 0.05), atol=1e-6)   # ε − (η/2)∇U, ∇U = ε
    m = _toy()
    full = list(chain(m, "vaebm-langevin", steps=1, x_init=eps0, noise=False))[1]
    one = list(chain(m, "vaebm-langevin", steps=1, x_init=eps0[2:3], noise=False))[1]
    assert torch.allclose(full.x[2:3], one.x, atol=1e-6) and torch.allclose(full.stats["z"][2:3], one.stats["z"])


def test_records_carry_terms_and_start_at_the_vae_sample():
    m = _toy()
    recs = list(chain(m, "vaebm-langevin", steps=3, n=4, seed=5, step_size=1e-3))
    assert torch.allclose(recs[0].x, m.decode(m.prior_latent(4, 5)))     # record 0 = the base VAE's sample
    r = recs[1]
    assert r.drift.shape == r.noise.shape == r.x.shape == (4, 2)
    for key in ("energy", "grad_norm", "potential", "eps_drift_norm", "eps_noise_norm"):
        assert r.stats[key].shape == (4,)
    # the pushed-forward terms are the first-order change of x
    assert torch.allclose(recs[0].x + r.drift + r.noise, r.x, atol=2e-3)
    a = list(chain(m, "vaebm-langevin", steps=3, n=4, seed=5))[-1].x
    assert torch.equal(a, list(chain(m, "vaebm-langevin", steps=3, n=4, seed=5))[-1].x)


def test_xz_chain_one_step_size_fails_where_eps_chain_does_not():
    m = _toy(obs_std=0.1)
    # curvature 1/σ_x² = 100 along x: η = 0.05 > 2σ_x² makes x oscillate and grow
    with pytest.raises(ChainDiverged):
        for _ in chain(m, "vaebm-xz", steps=200, n=8, seed=0, step_size=0.05, noise=False, max_norm=1e3):
            pass
    last = None
    for last in chain(m, "vaebm-langevin", steps=200, n=8, seed=0, step_size=0.05, decode_terms=False):
        pass
    assert torch.isfinite(last.x).all()
    r = list(chain(m, "vaebm-xz", steps=2, n=3, seed=0, step_size=0.001))
    assert torch.allclose(r[0].x, m.decode(m.prior_latent(3, 0)))          # same start as the ε-chain
    assert r[2].x0_hat.shape == (3, 2) and r[2].stats["gap"].shape == (3,)


def test_toy_vaebm_grid_density_integrates_to_one():
    from genviz.backend.toy.vaebm import vaebm_log_unnorm_fn
    m = _toy()
    grid = Grid(-5, 5, 40)
    dens, _ = normalised_density(evaluate_on_grid(vaebm_log_unnorm_fn(m, k=8), grid), grid)
    assert grid_mass(dens, grid) == pytest.approx(1.0, abs=1e-9)


def test_iwae_increases_with_k_up_to_the_exact_log_likelihood():
    from genviz.backend.toy.vaebm import vae_quadrature
    m = _toy(obs_std=0.3, seed=2)
    with torch.no_grad():  # a decoder that moves with z, so the (random) encoder's q(z|x) is far from the posterior
        m.net.vae.dec[-1].weight.mul_(6.0)
    x = m.decode(m.prior_latent(200, 9))
    bounds = [float(m.iwae(x, k=k).mean()) for k in (1, 10, 300)]
    exact = float(vae_quadrature(m, x).mean())
    assert bounds[0] < bounds[1] < bounds[2] <= exact + 0.01
    assert exact - bounds[2] < exact - bounds[0]
    grid = Grid(-5, 5, 60)  # the quadrature is a density: its mass on a grid holding it is ≈ 1
    mass = grid_mass(torch.exp(evaluate_on_grid(lambda p: vae_quadrature(m, p), grid)).numpy(), grid)
    assert mass == pytest.approx(1.0, abs=0.02)
    with pytest.raises(ValueError, match="k must be"):
        m.iwae(x, k=0)


def test_tiny_mnist_recipe_resumes_and_loads(tmp_path):
    from genviz.backend.training import mnist_vaebm
    out, state = tmp_path / "v.safetensors", tmp_path / "v.pt"
    mnist_vaebm.train(out=out, iters=1, batch_size=4, K=2, state=state, log=lambda s: None)
    mnist_vaebm.train(out=out, iters=2, batch_size=4, K=2, state=state, resume=True, log=lambda s: None)
    m = load_checkpoint(out, device="cpu")
    assert isinstance(m, VAEBMModel) and m.metadata["training"]["iterations"] == 2
    assert m.latent_shape == (16,) and not m.net.gaussian
    vae = load_checkpoint("mnist-vae", device="cpu")
    # the same seed: record 0 of the VAEBM chain is the bundled VAE's own sample
    r = list(chain(m, "vaebm-langevin", steps=1, n=2, seed=4))
    assert torch.allclose(r[0].x, sample(vae, n=2, seed=4), atol=1e-5)
    assert r[1].drift.shape == (2, 1, 28, 28)
    # a branch from an image starts from the encoder's mean
    assert list(chain(m, "vaebm-langevin", steps=1, x_init=r[1].x, seed=0))[0].stats["z"].shape == (2, 16)


def test_tiny_toy_recipe(tmp_path):
    from genviz.backend.training import toy_vaebm
    out = toy_vaebm.train(out=tmp_path / "t.safetensors", vae_steps=20, steps=2, K=2, batch_size=16, report_res=20,
                          report_points=200, log=lambda s: None)
    figs = load_checkpoint(out, device="cpu").metadata["training"]["test_log_likelihood_nats"]
    assert {"vaebm_ll", "vae_iwae_ll", "data_ll"} <= set(figs)
    with pytest.raises(ValueError, match="unknown toy-vaebm"):
        toy_vaebm.train(out=tmp_path / "x.safetensors", warp=1)


def test_save_load_round_trip_and_refusals(tmp_path):
    m = _toy()
    p = save_checkpoint(tmp_path / "t.safetensors", m.net.state_dict(), m.metadata)
    back = load_checkpoint(p, device="cpu")
    assert torch.equal(sample(back, n=3, seed=1, steps=2), sample(m, n=3, seed=1, steps=2))
    bad = dict(m.metadata, latent={"shape": [3]})
    with pytest.raises(CheckpointError, match="noise size"):
        load_checkpoint(save_checkpoint(tmp_path / "b.safetensors", m.net.state_dict(), bad), device="cpu")
    cfg = dict(m.net.config, vae_class="Pickle")
    worse = dict(m.metadata, network={"class": "VAEBMNet", "config": cfg})
    with pytest.raises(CheckpointError, match="unknown VAE class"):
        load_checkpoint(save_checkpoint(tmp_path / "w.safetensors", m.net.state_dict(), worse), device="cpu")


def test_panels_and_samplers():
    from genviz.backend.samplers import samplers_for
    from genviz.panels import panels_for
    m = _toy()
    assert {s.name for s in samplers_for(m)} == {"vaebm-langevin", "vaebm-xz"}
    assert "density" in [p.key for p in panels_for(m)]
    img = VAEBMNet("ConvVAE", dict(latent_dim=4, width=4), "ConvEnergy", dict(width=4))
    meta = {"name": "t", "family": "vaebm", "network": {"class": "VAEBMNet", "config": img.config},
            "data": {"shape": [1, 28, 28], "range": [-1.0, 1.0], "dataset": "mnist", "kind": "image"},
            "latent": {"shape": [4]}}
    keys = [p.key for p in panels_for(VAEBMModel(img, meta, "cpu"))]
    assert "chain" in keys and "interpolation" not in keys
