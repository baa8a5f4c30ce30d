"""GAN training dynamics in two dimensions: the Dirac-GAN, its gradient steps, eigenvalues and stability
regions (NumPy only, no torch, no Qt).

The game (Mescheder, Geiger & Nowozin 2018, "Which training methods for GANs do actually converge?", §2.2,
here with the data point at c instead of 0 and the *linear* loss of a WGAN): the data distribution is one
point, p_D = δ(x − c), the generator puts all its mass on one learnable point, p_G = δ(x − θ), and the
discriminator is linear, D(x) = φx. The value

    V(θ, φ) = E_{p_D}[D(x)] − E_{p_G}[D(x)] = (c − θ)φ

is maximised by the discriminator and minimised by the generator. Gradient play is the field

    θ' = −∂V/∂θ = φ,        φ' = ∂V/∂φ − kφ = c − θ − kφ,        k = γ + λ >= 0,

with the unique equilibrium (θ, φ) = (c, 0): the generator on the data, the discriminator indifferent.

- **Plain game** (k = 0): the continuous flow circles the equilibrium forever, (θ − c)² + φ² is conserved.
- **R1** (Mescheder et al. 2018, §4.1): (γ/2) E_{p_D}‖∇_x D‖² = (γ/2)φ² in the discriminator's loss adds −γφ.
- **CLC** (closed-loop control; Xu, Li, Zhu & Zhang 2020, "Understanding and stabilizing GANs' training dynamics
  using control theory", ICML): negative feedback −λφ on the discriminator (the paper writes it on D's output,
  −λD(x), in function space; with D(x) = φx this is −λφ on D's parameter, the form of the VALSE tutorial).
  For this linear discriminator R1 and CLC give the *same* field; they differ for a network D
  (``training.gan_reg``: R1 penalises ∇_x D on real data, CLC the values D(x) on real and fake data).

Linearisation. In u = θ − c the field is linear, (u, φ)' = J (u, φ) with

    J = [[0, 1], [−1, −k]],    eigenvalues μ± = (−k ± √(k² − 4)) / 2,

purely imaginary (±i) for the plain game, a damped spiral for 0 < k < 2, real and negative for k >= 2.
The original GAN's loss f(t) = −log(1 + e^{−t}) of the paper has the same Jacobian scaled by f'(0) = 1/2
(eigenvalues ±i/2; with R1: −γ/2 ± √(γ²/4 − 1/4)): the same picture, slower. genviz uses the linear game
(f(t) = t), so every formula here is exact, not only near the equilibrium.

Discrete steps with step size h (the state (u, φ) is multiplied by an update matrix A each step):

- **simultaneous**: both players step from the same state, z ← z + h J z, A = I + hJ, multipliers 1 + hμ±.
  Stable iff |1 + hμ| < 1 for both μ (the disc of centre −1/h, radius 1/h): never for k = 0
  (|1 ± ih| = √(1 + h²) > 1: it spirals out by that factor every step); for k > 0 iff h < k − √(max(k² − 4, 0)).
- **alternating**: the discriminator steps first, the generator answers the new discriminator
  (as the toy GAN recipe does): φ ← φ + h(c − θ − kφ), then θ ← θ + hφ. In (u, φ):

      A = [[1 − h², h(1 − hk)], [−h, 1 − hk]],   tr A = 2 − h² − hk,   det A = 1 − hk,
      multipliers z± = (tr A ± √(tr A² − 4 det A)) / 2.

  For k = 0, det A = 1: for h < 2 both multipliers lie on the unit circle, the iterates stay on an ellipse
  (bounded, never converging); h >= 2 escapes. For k > 0 (Jury's conditions |det A| < 1, |tr A| < 1 + det A)
  it converges iff h² + 2hk < 4, i.e. h < √(k² + 4) − k: a larger range of h than the simultaneous one for
  small damping, k < 2/√3 ≈ 1.15 (k = 0.5: h < 1.56 against h < 0.5), a smaller one above.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

METHODS = ("simultaneous", "alternating")
DIVERGED_NORM = 1e6          # a trajectory whose ‖(θ − c, φ)‖ passes this is reported as diverged
LIMITS = {"c": (-10.0, 10.0), "h": (1e-4, 10.0), "r1": (0.0, 10.0), "clc": (0.0, 10.0), "start": (-100.0, 100.0),
          "steps": (1, 100_000)}
TOL = 1e-9                   # spectral radius within 1 ± TOL counts as "on the unit circle"


def _check(name: str, v: float) -> float:
    lo, hi = LIMITS[name]
    v = float(v)
    if not (math.isfinite(v) and lo <= v <= hi):
        raise ValueError(f"{name} must be a finite number in [{lo:g}, {hi:g}], got {v}")
    return v


@dataclass(frozen=True)
class DiracGAN:
    """The Dirac-GAN game: data point ``c``, R1 weight ``r1`` = γ >= 0, CLC gain ``clc`` = λ >= 0 (module
    docstring for the equations). Raises ValueError for values outside ``LIMITS``."""

    c: float = 0.0
    r1: float = 0.0
    clc: float = 0.0

    def __post_init__(self):
        for name in ("c", "r1", "clc"):
            object.__setattr__(self, name, _check(name, getattr(self, name)))

    @property
    def k(self) -> float:
        """The damping k = γ + λ of the discriminator's update."""
        return self.r1 + self.clc

    def field(self, theta, phi) -> tuple[np.ndarray, np.ndarray]:
        """The gradient-play field (θ', φ') = (φ, c − θ − kφ) at any broadcastable arrays (float64)."""
        theta, phi = np.asarray(theta, np.float64), np.asarray(phi, np.float64)
        return phi + 0 * theta, self.c - theta - self.k * phi

    def jacobian(self) -> np.ndarray:
        """J = ∂(θ', φ')/∂(θ, φ) = [[0, 1], [−1, −k]] (2, 2), the same everywhere (the field is affine)."""
        return np.array([[0.0, 1.0], [-1.0, -self.k]])

    def eigenvalues(self) -> np.ndarray:
        """The closed form μ± = (−k ± √(k² − 4))/2 (complex128 (2,), + first): ±i for the plain game."""
        s = np.sqrt(complex(self.k ** 2 - 4.0))
        return np.array([(-self.k + s) / 2, (-self.k - s) / 2])

    def equilibrium(self) -> tuple[float, float]:
        """(θ*, φ*) = (c, 0)."""
        return self.c, 0.0


def update_matrix(game: DiracGAN, method: str, h: float) -> np.ndarray:
    """The (2, 2) matrix A with (u, φ)_{n+1} = A (u, φ)_n, u = θ − c (module docstring). ValueError for an unknown
    method or h outside ``LIMITS["h"]``."""
    h = _check("h", h)
    k = game.k
    if method == "simultaneous":
        return np.eye(2) + h * game.jacobian()
    if method == "alternating":
        return np.array([[1 - h * h, h * (1 - h * k)], [-h, 1 - h * k]])
    raise ValueError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")


def multipliers(game: DiracGAN, method: str, h: float) -> np.ndarray:
    """The update matrix's eigenvalues by their closed forms (complex128 (2,)): simultaneous 1 + hμ±,
    alternating (tr ± √(tr² − 4 det))/2 with tr = 2 − h² − hk, det = 1 − hk. Each step multiplies the
    state's components along the eigenvectors by these."""
    h = _check("h", h)
    if method == "simultaneous":
        return 1 + h * game.eigenvalues()
    if method != "alternating":
        raise ValueError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    tr, det = 2 - h * h - h * game.k, 1 - h * game.k
    s = np.sqrt(complex(tr * tr - 4 * det))
    return np.array([(tr + s) / 2, (tr - s) / 2])


def spectral_radius(game: DiracGAN, method: str, h: float) -> float:
    """max |z| over the multipliers: < 1 converges, = 1 circles (bounded), > 1 grows."""
    return float(np.abs(multipliers(game, method, h)).max())


def max_stable_h(game: DiracGAN, method: str) -> float:
    """The largest step size for which ``method`` converges (the open interval 0 < h < value), 0 when none:
    simultaneous k − √(max(k² − 4, 0)); alternating √(k² + 4) − k for k > 0, 0 for k = 0 (bounded for h < 2,
    but never convergent)."""
    k = game.k
    if k == 0:
        return 0.0
    if method == "simultaneous":
        return k - math.sqrt(max(k * k - 4, 0.0))
    if method == "alternating":
        return math.sqrt(k * k + 4) - k
    raise ValueError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")


def behaviour(game: DiracGAN, method: str, h: float) -> str:
    """``"converges"`` (spectral radius < 1), ``"circles"`` (on the unit circle with distinct multipliers: stays
    on a closed curve) or ``"grows"`` (outside, or a repeated multiplier on the circle: grows without bound)."""
    z = multipliers(game, method, h)
    rho = float(np.abs(z).max())
    if rho < 1 - TOL:
        return "converges"
    if rho > 1 + TOL or abs(z[0] - z[1]) < 1e-7:
        return "grows"
    return "circles"


class Trajectory(NamedTuple):
    """``points`` (n + 1, 2) float64 (θ, φ) rows from the start; ``diverged_at``: the step at which
    ‖(θ − c, φ)‖ passed ``DIVERGED_NORM`` (the rows stop there) or None; ``method``, ``h``."""

    points: np.ndarray
    diverged_at: int | None
    method: str
    h: float


def trajectory(game: DiracGAN, method: str, h: float, steps: int, start=(1.0, 0.0)) -> Trajectory:
    """Iterate the gradient steps from ``start`` = (θ0, φ0) (the update rules, not the matrix).

    simultaneous: (θ, φ) ← (θ + hφ, φ + h(c − θ − kφ)); alternating: φ ← φ + h(c − θ − kφ), then θ ← θ + hφ.

    Args: game; method in ``METHODS``; h (step size) and start within ``LIMITS``; steps in 1..100,000.
    Returns: ``Trajectory``; its points have steps + 1 rows unless it diverged (then fewer, all finite).
    Raises: ValueError for values outside ``LIMITS`` or an unknown method.
    """
    h = _check("h", h)
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    lo, hi = LIMITS["steps"]
    if isinstance(steps, bool) or int(steps) != steps or not lo <= steps <= hi:
        raise ValueError(f"steps must be a whole number in {lo}..{hi}, got {steps}")
    theta, phi = (_check("start", v) for v in start)
    c, k = game.c, game.k
    pts = np.empty((int(steps) + 1, 2))
    pts[0] = theta, phi
    for n in range(1, int(steps) + 1):
        if method == "simultaneous":
            theta, phi = theta + h * phi, phi + h * (c - theta - k * phi)
        else:
            phi = phi + h * (c - theta - k * phi)
            theta = theta + h * phi
        if not math.hypot(theta - c, phi) <= DIVERGED_NORM:   # also catches inf / nan
            return Trajectory(pts[:n].copy(), n, method, h)
        pts[n] = theta, phi
    return Trajectory(pts, None, method, h)


def _expm2(a: np.ndarray) -> np.ndarray:
    """exp of a real 2×2 matrix, closed form: e^s [cosh q · I + sinh(q)/q · (A − sI)], s = tr/2, q² = s² − det."""
    s = np.trace(a) / 2
    q = np.sqrt(complex(s * s - np.linalg.det(a)))
    shq = complex(np.sinh(q) / q) if abs(q) > 1e-12 else 1.0
    m = math.exp(s) * (np.cosh(q) * np.eye(2) + shq * (a - s * np.eye(2)))
    return np.real(m)


def flow(game: DiracGAN, start=(1.0, 0.0), t_end: float = 2 * math.pi, n: int = 200) -> np.ndarray:
    """The continuous-time solution (the limit h → 0) at n + 1 times evenly spaced in [0, t_end]: (n + 1, 2)
    (θ, φ), exact (matrix exponential of J). For the plain game a circle of radius ‖(θ0 − c, φ0)‖ with period 2π."""
    theta, phi = (_check("start", v) for v in start)
    if n < 1 or not (math.isfinite(t_end) and t_end > 0):
        raise ValueError(f"flow needs n >= 1 and a finite t_end > 0, got n={n}, t_end={t_end}")
    step = _expm2(game.jacobian() * (t_end / n))
    out = np.empty((n + 1, 2))
    z = np.array([theta - game.c, phi])
    for i in range(n + 1):
        out[i] = z[0] + game.c, z[1]
        z = step @ z
    return out


def vector_field(game: DiracGAN, theta_range=(-2.0, 2.0), phi_range=(-2.0, 2.0), n: int | tuple = 15):
    """The field on a grid of n × n points (or n = (n_θ, n_φ)): (TH, PH, dθ, dφ), four (n_φ, n_θ) float64 arrays
    (row i: φ_i, column j: θ_j)."""
    n_t, n_p = (n, n) if isinstance(n, int) else n
    if min(n_t, n_p) < 2:
        raise ValueError(f"n must be >= 2, got {n}")
    (t0, t1), (p0, p1) = (float(v) for v in theta_range), (float(v) for v in phi_range)
    th, ph = np.meshgrid(np.linspace(t0, t1, n_t), np.linspace(p0, p1, n_p))
    u, v = game.field(th, ph)
    return th, ph, u, v


def radius(points: np.ndarray, c: float) -> np.ndarray:
    """‖(θ − c, φ)‖ of (N, 2) points: the distance from the equilibrium, (N,)."""
    p = np.asarray(points, np.float64)
    return np.hypot(p[:, 0] - c, p[:, 1])


def parse_start(text: str) -> tuple[float, float]:
    """``"THETA,PHI"`` -> (θ, φ); ValueError naming ``--start`` and its range."""
    lo, hi = LIMITS["start"]
    parts = str(text).split(",")
    try:
        vals = tuple(float(p) for p in parts)
    except ValueError:
        vals = ()
    if len(vals) != 2 or not all(math.isfinite(v) and lo <= v <= hi for v in vals):
        raise ValueError(f"--start must be THETA,PHI with both numbers in [{lo:g}, {hi:g}], got {text!r}")
    return vals[0], vals[1]


def cli_main(a) -> int:
    """``genviz dynamics dirac --method M --steps N --h H --start THETA,PHI --c C --r1 G --clc L --out traj.npz``:
    writes ``trajectory`` (steps + 1, 2) float64 (θ, φ), with ``eigenvalues``, ``multipliers`` and the settings.
    A diverged trajectory writes nothing: ValueError naming the step (the CLI's one error line)."""
    from pathlib import Path
    out = Path(a.out)
    if out.suffix != ".npz":
        raise ValueError(f"--out {out}: extension must be .npz")
    if not (out.parent if str(out.parent) else Path(".")).is_dir():
        raise ValueError(f"--out {out}: folder {out.parent} does not exist")
    start = parse_start(a.start)
    game = DiracGAN(a.c, a.r1, a.clc)
    tr = trajectory(game, a.method, a.h, a.steps, start)
    if tr.diverged_at is not None:
        raise ValueError(f"the {a.method} trajectory diverged: ‖(θ − c, φ)‖ passed {DIVERGED_NORM:g} at step "
                         f"{tr.diverged_at} of {a.steps} (spectral radius {spectral_radius(game, a.method, a.h):.4f} "
                         "per step); nothing written: use fewer --steps, a smaller --h or some --r1/--clc")
    np.savez(out, trajectory=tr.points, eigenvalues=game.eigenvalues(), multipliers=multipliers(game, a.method, a.h),
             method=a.method, h=a.h, c=a.c, r1=a.r1, clc=a.clc, steps=a.steps)
    r = radius(tr.points, game.c)
    print(f"wrote {out}: {a.method}, {a.steps} steps, h {a.h:g}; ‖(θ − c, φ)‖ {r[0]:.4g} -> {r[-1]:.4g} "
          f"({behaviour(game, a.method, a.h)})")
    return 0
