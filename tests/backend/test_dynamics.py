"""The Dirac-GAN (``genviz.backend.dynamics``): eigenvalues against their closed forms and a numerical Jacobian,
the update matrices against the step rules, what each method does to ‖(θ − c, φ)‖, the stability regions, and
the R1 / CLC regularisers of the toy GAN (``training.gan_reg``)."""
import math

import numpy as np
import pytest
import torch

from genviz.backend.dynamics import (
    METHODS,
    DiracGAN,
    behaviour,
    flow,
    max_stable_h,
    multipliers,
    radius,
    spectral_radius,
    trajectory,
    update_matrix,
    vector_field,
)


def numeric_jacobian(game, at=(0.3, -0.7), eps=1e-6):
    cols = []
    for d in np.eye(2):
        p = np.add(at, eps * d)
        m = np.subtract(at, eps * d)
        cols.append((np.array(game.field(*p)) - np.array(game.field(*m))) / (2 * eps))
    return np.stack(cols, 1)


def test_plain_game_eigenvalues_are_purely_imaginary():
    g = DiracGAN(c=0.5)
    ev = np.linalg.eigvals(numeric_jacobian(g))
    assert np.allclose(np.sort_complex(ev), [-1j, 1j], atol=1e-8)
    assert np.allclose(g.eigenvalues(), [1j, -1j])
    assert g.field(0.5, 0.0) == (0.0, 0.0)  # the equilibrium (c, 0)


@pytest.mark.parametrize("r1,clc", [(0.4, 0.0), (0.0, 0.4), (1.0, 0.5), (2.0, 0.0), (3.0, 1.0)])
def test_damped_eigenvalues_match_the_closed_form(r1, clc):
    g = DiracGAN(c=-1.0, r1=r1, clc=clc)
    k = r1 + clc
    closed = np.array([(-k + np.sqrt(complex(k * k - 4))) / 2, (-k - np.sqrt(complex(k * k - 4))) / 2])
    atol = 1e-4 if k == 2 else 1e-7  # k = 2: a double eigenvalue, numerically split by √(rounding error)
    assert np.allclose(np.sort_complex(np.linalg.eigvals(numeric_jacobian(g))), np.sort_complex(closed), atol=atol)
    assert np.allclose(g.eigenvalues(), closed)
    assert (g.eigenvalues().real < 0).all()
    if k < 2:  # a damped spiral: |μ| = 1, real part −k/2
        assert np.allclose(np.abs(g.eigenvalues()), 1) and np.allclose(g.eigenvalues().real, -k / 2)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("k", [0.0, 0.5, 1.8, 3.0])
def test_update_matrix_and_multipliers_match_the_step_rules(method, k):
    g = DiracGAN(c=0.7, r1=k / 2, clc=k / 2)
    h = 0.3
    A = update_matrix(g, method, h)
    assert np.allclose(np.sort_complex(np.linalg.eigvals(A)), np.sort_complex(multipliers(g, method, h)))
    tr = trajectory(g, method, h, 40, (1.3, -0.4))
    z = np.array([1.3 - 0.7, -0.4])
    for _ in range(40):
        z = A @ z
    assert tr.diverged_at is None and tr.points.shape == (41, 2)
    assert np.allclose(tr.points[-1], [z[0] + 0.7, z[1]])


def test_simultaneous_grows_alternating_stays_bounded():
    g = DiracGAN(c=1.0)
    sim = radius(trajectory(g, "simultaneous", 0.2, 500, (2.0, 0.0)).points, 1.0)
    alt = radius(trajectory(g, "alternating", 0.2, 500, (2.0, 0.0)).points, 1.0)
    assert np.all(np.diff(sim) > 0)                              # every step moves outward
    assert sim[-1] == pytest.approx(math.sqrt(1.04) ** 500, rel=1e-9)   # |1 ± ih| = √(1 + h²) per step
    assert 0.9 < alt.min() and alt.max() < 1.15                  # an ellipse around the equilibrium
    assert behaviour(g, "simultaneous", 0.2) == "grows" and behaviour(g, "alternating", 0.2) == "circles"
    assert spectral_radius(g, "alternating", 0.2) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("r1,clc", [(1.0, 0.0), (0.0, 1.0)])
def test_r1_or_clc_shrink_to_the_equilibrium(method, r1, clc):
    g = DiracGAN(c=-0.5, r1=r1, clc=clc)
    r = radius(trajectory(g, method, 0.2, 500, (1.0, 1.0)).points, -0.5)
    assert r[-1] < 1e-8 * r[0]
    assert behaviour(g, method, 0.2) == "converges"


@pytest.mark.parametrize("k", [0.3, 1.0, 1.5, 2.5, 4.0])
def test_stability_regions(k):
    g = DiracGAN(r1=k)
    for method in METHODS:
        hm = max_stable_h(g, method)
        assert spectral_radius(g, method, 0.98 * hm) < 1 < spectral_radius(g, method, 1.02 * hm)
    # simultaneous: |1 + hμ| < 1 is the disc of centre −1/h and radius 1/h around each eigenvalue
    h = 0.9 * max_stable_h(g, "simultaneous")
    assert (np.abs(g.eigenvalues() + 1 / h) < 1 / h).all()
    assert max_stable_h(DiracGAN(), "simultaneous") == max_stable_h(DiracGAN(), "alternating") == 0.0


def test_alternating_escapes_for_big_steps_and_divergence_is_reported():
    assert behaviour(DiracGAN(), "alternating", 1.99) == "circles"
    assert behaviour(DiracGAN(), "alternating", 2.0) == "grows"
    tr = trajectory(DiracGAN(), "simultaneous", 1.0, 1000)
    assert tr.diverged_at == 40 and len(tr.points) == 40 and np.isfinite(tr.points).all()


def test_flow_circles_and_field_grid():
    f = flow(DiracGAN(c=0.5), (1.5, 0.0), 2 * math.pi, 100)
    assert np.allclose(radius(f, 0.5), 1.0) and np.allclose(f[-1], f[0], atol=1e-9)
    damped = flow(DiracGAN(c=0.5, clc=0.5), (1.5, 0.0), 20.0, 100)
    assert radius(damped, 0.5)[-1] < 0.01
    th, ph, u, v = vector_field(DiracGAN(c=1.0), n=5)
    assert th.shape == (5, 5) and np.allclose(u, ph) and np.allclose(v, 1.0 - th)


def test_bad_values_are_refused():
    for kw in ({"r1": -1}, {"clc": float("nan")}, {"c": 11}):
        with pytest.raises(ValueError, match="must be a finite number"):
            DiracGAN(**kw)
    with pytest.raises(ValueError, match="unknown method"):
        trajectory(DiracGAN(), "extragradient", 0.1, 10)
    with pytest.raises(ValueError, match="steps"):
        trajectory(DiracGAN(), "simultaneous", 0.1, 0)
    with pytest.raises(ValueError, match="h must"):
        update_matrix(DiracGAN(), "alternating", 0.0)


# ---- the toy GAN's regularisers -------------------------------------------------------------------------------
def test_r1_penalty_and_its_gradient_on_a_linear_discriminator():
    from genviz.backend.training.gan_reg import clc_penalty, r1_penalty
    w = torch.tensor([0.3, -1.2], requires_grad=True)
    x = torch.randn(8, 2)
    pen = r1_penalty(lambda z: z @ w, x, gamma=2.0)      # ∇_x D = w everywhere: R1 = (γ/2)‖w‖²
    assert float(pen.detach()) == pytest.approx(0.5 * 2.0 * (0.09 + 1.44))
    (g,) = torch.autograd.grad(pen, w)
    assert torch.allclose(g, 2.0 * w.detach())           # ∂R1/∂w = γ w: the −γφ of the Dirac-GAN
    d_real, d_fake = torch.tensor([1.0, -1.0]), torch.tensor([2.0])
    assert float(clc_penalty(d_real, d_fake, 0.5)) == pytest.approx(0.25 * (1.0 + 4.0))
    with pytest.raises(ValueError, match="r1 gamma"):
        r1_penalty(lambda z: z @ w, x, -1.0)


def test_toy_gan_options_change_training():
    from genviz.backend.training.toy import train_steps

    def d_weights(**over):
        gen = train_steps("8gaussians", "gan", 3, seed=0, hidden=8, batch_size=16, **over)
        try:
            while True:
                next(gen)
        except StopIteration as stop:
            model = stop.value
        return torch.cat([p.detach().flatten() for p in model.net.D.parameters()]), model.metadata["training"]

    plain, meta = d_weights()
    r1, meta_r1 = d_weights(r1=1.0)
    clc, _ = d_weights(clc=1.0)
    assert meta["r1"] == 0.0 and meta_r1["r1"] == 1.0
    assert not torch.allclose(plain, r1) and not torch.allclose(plain, clc) and not torch.allclose(r1, clc)
    again, _ = d_weights()
    assert torch.equal(plain, again)
