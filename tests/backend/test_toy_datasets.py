"""2-D toy datasets: documented parameters, seeds, exact densities; grid normalisation; metrics."""
import math

import numpy as np
import pytest
import torch

from genviz.backend.toy.datasets import DATASETS, gmm_log_prob, make_dataset, user_dataset
from genviz.backend.toy.density import Grid, evaluate_on_grid, grid_mass, log_likelihood, normalised_density
from genviz.backend.toy.metrics import energy_distance, mmd2, mode_coverage


def _nearest(x, centres):
    d = torch.cdist(x.double(), centres.double())
    return d.min(1)


def test_25gaussians_centres_std_and_weights():
    ds = make_dataset("25gaussians")
    want = sorted((2.0 * i, 2.0 * j) for i in range(-2, 3) for j in range(-2, 3))
    assert sorted(map(tuple, ds.centres.tolist())) == want
    assert ds.std == 0.1 and ds.params == {"std": 0.1}
    x = ds.sample(25000, seed=3)
    dmin, idx = _nearest(x, ds.centres)
    resid = x.double() - ds.centres.double()[idx]
    assert abs(resid.std().item() - 0.1) < 0.003           # per-coordinate std
    assert resid.mean(0).abs().max() < 0.005
    counts = torch.bincount(idx, minlength=25).double()
    assert (counts / 25000 - 1 / 25).abs().max() < 0.01    # equal weights


def test_std_adjustable_and_seeds():
    ds = make_dataset("25gaussians", std=0.05)
    x = ds.sample(10000, seed=0)
    dmin, idx = _nearest(x, ds.centres)
    assert abs((x.double() - ds.centres.double()[idx]).std().item() - 0.05) < 0.002
    assert torch.equal(ds.sample(100, seed=1), ds.sample(100, seed=1))
    assert not torch.equal(ds.sample(100, seed=1), ds.sample(100, seed=2))
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    assert torch.equal(ds.sample(50, generator=g1), ds.sample(50, generator=g2))
    with pytest.raises(ValueError, match="std must be > 0"):
        make_dataset("25gaussians", std=0.0)
    with pytest.raises(ValueError, match="unknown dataset"):
        make_dataset("nope")
    with pytest.raises(ValueError, match="does not take"):
        make_dataset("moons", std=1.0)


def test_ring_and_grid_centres():
    ds = make_dataset("8gaussians")
    r = ds.centres.norm(dim=1)
    assert torch.allclose(r, torch.full((8,), 2.0), atol=1e-6)
    ang = torch.sort(torch.remainder(torch.atan2(ds.centres[:, 1], ds.centres[:, 0]), 2 * math.pi)).values
    assert torch.allclose(ang, torch.arange(8) * math.pi / 4, atol=1e-5) and ds.std == 0.1
    nine = make_dataset("9gaussians")
    assert sorted(map(tuple, nine.centres.tolist())) == sorted((2.0 * i, 2.0 * j) for i in (-1, 0, 1) for j in (-1, 0, 1))


def test_sklearn_generators_as_documented():
    from sklearn.datasets import make_circles, make_moons, make_swiss_roll
    seed = 11
    rs = int(np.random.default_rng(seed).integers(2**31 - 1))
    x = make_swiss_roll(500, noise=1.0, random_state=rs)[0][:, [0, 2]] / 5
    assert np.allclose(make_dataset("swissroll").sample(500, seed=seed).numpy(), x, atol=1e-6)
    x = (make_moons(500, noise=0.1, random_state=rs)[0] - [0.5, 0.25]) * 2
    assert np.allclose(make_dataset("moons").sample(500, seed=seed).numpy(), x, atol=1e-6)
    x = make_circles(500, factor=0.5, noise=0.08, random_state=rs)[0] * 3
    assert np.allclose(make_dataset("circles").sample(500, seed=seed).numpy(), x, atol=1e-6)


@pytest.mark.parametrize("name", DATASETS)
def test_every_dataset_shape_and_bounds(name):
    ds = make_dataset(name)
    x = ds.sample(3000, seed=0)
    assert x.shape == (3000, 2) and x.dtype == torch.float32 and torch.isfinite(x).all()
    lo, hi = ds.bounds
    inside = ((x >= lo) & (x <= hi)).all(1).float().mean()
    assert inside > 0.995, (name, inside)


def test_exact_densities_integrate_to_one_and_match_formula():
    for name in ("25gaussians", "8gaussians", "9gaussians", "checkerboard"):
        ds = make_dataset(name)
        g = Grid(*ds.bounds, 400)
        mass = float(torch.exp(evaluate_on_grid(ds.log_prob, g)).sum()) * g.cell_area
        assert abs(mass - 1) < 5e-3, (name, mass)
    # one component: the 2-D normal density
    c = torch.tensor([[1.0, -2.0]])
    x = torch.randn(10, 2)
    ref = -((x - c) ** 2).sum(1) / (2 * 0.3 ** 2) - math.log(2 * math.pi * 0.3 ** 2)
    assert torch.allclose(gmm_log_prob(x, c, 0.3), ref, atol=1e-5)
    cb = make_dataset("checkerboard")
    assert torch.isfinite(cb.log_prob(cb.sample(2000, seed=0))).all()
    assert torch.allclose(cb.log_prob(torch.tensor([[0.5, 0.5]]) * 2), torch.tensor([-math.log(32.0)]))
    assert cb.log_prob(torch.tensor([[1.0, 3.0]])).isinf().all()      # a white square
    with pytest.raises(ValueError, match="no closed-form"):
        make_dataset("swissroll").log_prob(torch.zeros(1, 2))


def test_user_dataset():
    ds = user_dataset([[0, 0], [1, 1]], std=0.2)
    assert ds.is_mixture and ds.std == 0.2 and len(ds.centres) == 2
    assert ds.sample(10, seed=0).shape == (10, 2)
    with pytest.raises(ValueError):
        user_dataset([])


def test_grid_normalised_gaussian_integrates_and_matches_closed_form():
    mu, s = torch.tensor([0.5, -1.0]), 0.7
    ell = lambda x: -((x - mu) ** 2).sum(1) / (2 * s ** 2) + 3.0   # noqa: E731  unnormalised, log Z unknown
    g = Grid(-6, 6, 300)
    dens, log_z = normalised_density(evaluate_on_grid(ell, g), g)
    assert abs(grid_mass(dens, g) - 1) < 1e-3
    assert abs(log_z - (3.0 + math.log(2 * math.pi * s ** 2))) < 1e-3
    y = mu + s * torch.randn(4000, 2, generator=torch.Generator().manual_seed(0))
    closed = float((-((y - mu) ** 2).sum(1) / (2 * s ** 2) - math.log(2 * math.pi * s ** 2)).mean())
    assert abs(log_likelihood(ell, y, g) - closed) < 0.01
    with pytest.raises(ValueError):
        Grid(1, 0, 10)


def test_mode_coverage_and_distances():
    ds = make_dataset("25gaussians")
    x = ds.sample(2500, seed=0)
    r = mode_coverage(x, ds.centres, ds.std)
    assert r["modes_covered"] == 25 and r["modes"] == 25 and min(r["counts"]) >= 20
    assert abs(r["high_quality"] - (1 - math.exp(-4.5))) < 0.01       # P(|z| < 3) in 2-D
    collapsed = ds.centres[12] + 0.1 * torch.randn(2500, 2)
    r2 = mode_coverage(collapsed, ds.centres, ds.std)
    assert r2["modes_covered"] == 1 and r2["counts"][12] == int(2500 * r2["high_quality"])
    bad = torch.full((10, 2), float("nan"))
    assert mode_coverage(bad, ds.centres, ds.std)["high_quality"] == 0.0
    y = ds.sample(1000, seed=1)
    assert abs(mmd2(x[:1000], y)) < 0.01 and mmd2(collapsed[:1000], y) > 0.1
    assert energy_distance(x[:1000], y) < 0.05 and energy_distance(collapsed[:1000], y) > 1.0
