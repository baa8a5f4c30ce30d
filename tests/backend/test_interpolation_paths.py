"""Latent paths: lerp, slerp, z_ρ and Real-NVP's 4-corner grid (genviz.backend.interpolation)."""
import math

import numpy as np
import pytest
import torch

from genviz.backend import interpolation as ip


def _pair(d=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(d, generator=g), torch.randn(d, generator=g)


@pytest.mark.parametrize("method", ip.METHODS)
def test_path_endpoints_are_exact(method):
    a, b = _pair()
    zs = ip.path(a, b, method, 7)
    assert zs.shape == (7, 64)
    assert torch.equal(zs[0], a) and torch.equal(zs[-1], b)


def test_lerp_midpoint():
    a, b = _pair()
    assert torch.allclose(ip.path(a, b, "lerp", 3)[1], (a + b) / 2)


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("scale", [1.0, 1.7])
def test_slerp_norm_stays_within_endpoint_range(seed, scale):
    a, b = _pair(16, seed)
    b = b * scale
    norms = ip.latent_norms(ip.path(a, b, "slerp", 33))
    lo, hi = sorted([a.norm().item(), b.norm().item()])
    assert norms.min() >= lo - 1e-5 and norms.max() <= hi + 1e-5


def test_lerp_midpoint_norm_dips_to_sqrt_half():
    """The reason for slerp: lerp's midpoint of two independent N(0, I) latents has norm ≈ √(d/2)."""
    a, b = _pair(4096, 0)
    norms = ip.latent_norms(ip.path(a, b, "lerp", 3))
    assert abs(norms[1] / math.sqrt(4096 / 2) - 1) < 0.03
    assert ip.latent_norms(ip.path(a, b, "slerp", 3))[1] > 0.97 * math.sqrt(4096)


def test_slerp_equal_norms_is_shoemake_and_on_the_great_circle():
    a, b = _pair(8, 3)
    b = b / b.norm() * a.norm()
    t = 0.3
    om = math.acos(float(a @ b / (a.norm() * b.norm())))
    ref = math.sin((1 - t) * om) / math.sin(om) * a + math.sin(t * om) / math.sin(om) * b
    assert torch.allclose(ip.slerp(a, b, t), ref, atol=1e-5)
    # equal angles between consecutive frames
    zs = ip.path(a, b, "slerp", 6).double()
    ang = [math.acos(float((zs[i] @ zs[i + 1]) / (zs[i].norm() * zs[i + 1].norm()))) for i in range(5)]
    assert np.allclose(ang, om / 5, atol=1e-6)


def test_slerp_falls_back_to_lerp_when_nearly_parallel():
    a = torch.randn(10, generator=torch.Generator().manual_seed(1))
    b = 2.0 * a + 1e-4 * torch.randn(10, generator=torch.Generator().manual_seed(2))
    assert torch.allclose(ip.slerp(a, b, 0.4), ip.lerp(a, b, 0.4), atol=1e-6)
    z = torch.zeros(10)
    assert torch.allclose(ip.slerp(a, z, 0.5), a / 2)


def test_rho_mix_limits_and_formula():
    a, b = _pair()
    assert torch.equal(ip.rho_mix(a, b, 1.0), a)
    assert torch.equal(ip.rho_mix(a, b, 0.0), b)
    assert torch.allclose(ip.rho_mix(a, b, 0.6), 0.6 * a + 0.8 * b)
    with pytest.raises(ValueError, match="rho"):
        ip.rho_mix(a, b, 1.5)


def test_rho_path_preserves_variance_of_independent_gaussians():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(20000, generator=g), torch.randn(20000, generator=g)
    for z in ip.path(a, b, "rho", 9):
        assert abs(z.var().item() - 1.0) < 0.05
    mid = ip.path(a, b, "lerp", 3)[1]
    assert abs(mid.var().item() - 0.5) < 0.05


def test_four_corner_hits_the_corners():
    g = torch.Generator().manual_seed(0)
    z = [torch.randn(2, 3, generator=g) for _ in range(4)]
    h = math.pi / 2
    for (phi, php), want in zip([(0, 0), (0, h), (h, 0), (h, h)], z):
        assert torch.equal(ip.four_corner(*z, phi, php), want)
    # a middle point is the formula
    p, q = 0.3, 1.1
    ref = math.cos(p) * (z[0] * math.cos(q) + z[1] * math.sin(q)) + math.sin(p) * (z[2] * math.cos(q) + z[3] * math.sin(q))
    assert torch.allclose(ip.four_corner(*z, p, q), ref)


@pytest.mark.parametrize("method", ip.METHODS)
def test_grid_corners_and_edges(method):
    g = torch.Generator().manual_seed(4)
    z = [torch.randn(5, generator=g) for _ in range(4)]
    gr = ip.grid(*z, method=method, rows=4, cols=5)
    assert gr.shape == (4, 5, 5)
    assert torch.allclose(gr[0, 0], z[0]) and torch.allclose(gr[0, -1], z[1])
    assert torch.allclose(gr[-1, 0], z[2]) and torch.allclose(gr[-1, -1], z[3])
    assert torch.allclose(gr[0], ip.path(z[0], z[1], method, 5), atol=1e-6)


def test_errors():
    a, b = _pair()
    with pytest.raises(ValueError, match="unknown interpolation method"):
        ip.path(a, b, "cubic", 4)
    with pytest.raises(ValueError, match="frames"):
        ip.path(a, b, "lerp", 1)
    with pytest.raises(ValueError, match="different shapes"):
        ip.lerp(a, b[:3], 0.5)
