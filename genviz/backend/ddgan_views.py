"""Why a few large denoising steps need a multimodal (GAN) step: the true denoising density of a 1-D mixture
(Xiao, Kreis & Vahdat 2022, Fig. 2; Xiao 2022, thesis Fig. 6.3). numpy only.

Forward process: the VP-SDE (Song et al. 2021) of ``genviz.backend.ddgan``, β(s) = β_min + (β_max − β_min) s on
s ∈ [0, 1], so the signal level at time s is ᾱ(s) = exp(−β_min s − ½ (β_max − β_min) s²). Cut into T steps, the
step from s' = s_end to s = s_end + 1/T has α = ᾱ(s)/ᾱ(s'), β = 1 − α (``ddgan.vp_betas`` on that grid):

    q(x_t | x_{t−1}) = N(x_t; √α x_{t−1}, β).

Data: a 1-D Gaussian mixture q(x₀) = Σ_k w_k N(μ_k, s_k²). Pushed through the forward process to level ᾱ it
stays a mixture, q(x | ᾱ) = Σ_k w_k N(√ᾱ μ_k, ᾱ s_k² + 1 − ᾱ). The true denoising density, by Bayes' rule
(Xiao et al. 2022, Eq. 2–3), for a fixed x_t:

    q(x_{t−1} | x_t) = q(x_t | x_{t−1}) q(x_{t−1}) / q(x_t),

evaluated on a grid and normalised by the trapezoidal rule (the analytic q(x_t) is returned as a check).

A DDPM step (Ho et al. 2020, Eq. 6–7) uses a Gaussian: p(x_{t−1} | x_t) = N(μ̃(x_t, x̂₀), β̃) with the posterior
mean μ̃ = √ᾱ' β/(1 − ᾱ) x̂₀ + √α (1 − ᾱ')/(1 − ᾱ) x_t and variance β̃ = (1 − ᾱ')/(1 − ᾱ) β. With the ideal
x̂₀ = E[x₀ | x_t] (what the ε-loss is minimised by) its mean equals the true density's mean. For small steps
(large T) the true density is close to this Gaussian (Feller 1949; Sohl-Dickstein et al. 2015); for T = 4 it
has several modes, which a Gaussian cannot fit but a conditional GAN can (DDGAN).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# the VP-SDE's β range of Eq. 6.14 (the same numbers as ``ddgan.BETA_MIN/BETA_MAX``; not imported from there
# because ``ddgan`` imports torch and this module, which the Few steps panel uses, needs only numpy)
BETA_MIN, BETA_MAX = 0.1, 20.0

STEP_COUNTS = (1000, 100, 8, 4)


def alpha_bar(s, beta_min: float = BETA_MIN, beta_max: float = BETA_MAX):
    """ᾱ(s) = exp(−β_min s − ½ (β_max − β_min) s²) of the VP-SDE for s in [0, 1] (scalar or array)."""
    s = np.asarray(s, np.float64)
    return np.exp(-beta_min * s - 0.5 * (beta_max - beta_min) * s ** 2)


@dataclass(frozen=True)
class Mixture1D:
    """A 1-D Gaussian mixture Σ_k w_k N(μ_k, s_k²): ``weights`` (K,) summing to 1, ``means`` (K,), ``stds`` (K,) > 0.

    Raises:
        ValueError: lengths differ, a weight < 0, weights not summing to 1 (±1e-6), a std <= 0.
    """

    weights: tuple
    means: tuple
    stds: tuple

    def __post_init__(self):
        w, m, s = (np.asarray(v, np.float64) for v in (self.weights, self.means, self.stds))
        if not (w.shape == m.shape == s.shape) or w.ndim != 1 or len(w) == 0:
            raise ValueError("weights, means and stds need the same length >= 1")
        if (w < 0).any() or abs(w.sum() - 1) > 1e-6:
            raise ValueError(f"weights must be >= 0 and sum to 1, got {list(w)}")
        if (s <= 0).any():
            raise ValueError(f"stds must be > 0, got {list(s)}")

    def arrays(self):
        """(w, μ, s) as float64 arrays."""
        return (np.asarray(self.weights, np.float64), np.asarray(self.means, np.float64),
                np.asarray(self.stds, np.float64))

    def noised(self, abar: float) -> "Mixture1D":
        """The mixture pushed through the forward process to signal level ᾱ in (0, 1]: N(√ᾱ μ_k, ᾱ s_k² + 1 − ᾱ)."""
        w, m, s = self.arrays()
        return Mixture1D(tuple(w), tuple(math.sqrt(abar) * m), tuple(np.sqrt(abar * s ** 2 + 1 - abar)))

    def pdf(self, x) -> np.ndarray:
        """Density at ``x`` (array), same shape."""
        w, m, s = self.arrays()
        x = np.asarray(x, np.float64)[..., None]
        return (w * np.exp(-0.5 * ((x - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))).sum(-1)

    def posterior_mean_x0(self, x_t: float, abar: float) -> float:
        """E[x₀ | x_t] for x_t = √ᾱ x₀ + √(1 − ᾱ) ε (per component a Gaussian conditioning, weighted by the
        components' responsibilities for x_t)."""
        w, m, s = self.arrays()
        var = abar * s ** 2 + 1 - abar
        r = w * np.exp(-0.5 * (x_t - math.sqrt(abar) * m) ** 2 / var) / np.sqrt(var)
        r = r / r.sum()
        comp = m + math.sqrt(abar) * s ** 2 / var * (x_t - math.sqrt(abar) * m)
        return float((r * comp).sum())


DEFAULT_MIXTURE = Mixture1D((0.3, 0.4, 0.3), (-3.0, 0.0, 3.0), (0.2, 0.2, 0.2))
MIXTURES = {"three bumps": DEFAULT_MIXTURE, "two bumps": Mixture1D((0.5, 0.5), (-2.5, 2.5), (0.3, 0.3)),
            "uneven pair": Mixture1D((0.8, 0.2), (-1.5, 3.0), (0.4, 0.2))}


@dataclass
class DenoisingStep:
    """One step size's denoising densities on a grid (what ``denoising_step`` returns).

    Attributes:
        T: number of steps of the whole chain; s_prev, s_t: the step's times (s_t = s_prev + 1/T).
        abar_prev, abar_t: ᾱ at both ends; alpha, beta: the step's α = ᾱ_t/ᾱ_prev and β = 1 − α.
        x_t: the fixed noisy value; grid: (G,) x_{t−1} values; true: (G,) q(x_{t−1} | x_t), integrates to 1.
        gauss: (G,) the DDPM Gaussian N(mean, std²); mean, std: its parameters (mean = the true mean).
        evidence: the analytic q(x_t) (the normaliser); integral: the trapezoidal integral of the
            unnormalised product (≈ evidence). kl: KL(true ‖ gauss) in nats (grid quadrature).
        max_abs_diff: max |true − gauss| on the grid; modes: local maxima of ``true`` (``count_modes``).
    """

    T: int
    s_prev: float
    s_t: float
    abar_prev: float
    abar_t: float
    alpha: float
    beta: float
    x_t: float
    grid: np.ndarray
    true: np.ndarray
    gauss: np.ndarray
    mean: float
    std: float
    evidence: float
    integral: float
    kl: float
    max_abs_diff: float
    modes: int


def count_modes(density: np.ndarray, rel: float = 1e-3) -> int:
    """Strict local maxima of a sampled density higher than ``rel`` × its maximum (ignores round-off bumps)."""
    d = np.asarray(density, np.float64)
    if d.size < 3:
        return int(d.size > 0)
    inner = (d[1:-1] > d[:-2]) & (d[1:-1] >= d[2:]) & (d[1:-1] > rel * d.max())
    return int(inner.sum())


def _grid(mix: Mixture1D, abar_prev: float, n: int) -> np.ndarray:
    m = mix.noised(abar_prev)
    _, mu, s = m.arrays()
    return np.linspace(float((mu - 7 * s).min()), float((mu + 7 * s).max()), int(n))


def denoising_step(x_t: float, T: int, s_end: float = 0.25, mixture: Mixture1D = DEFAULT_MIXTURE,
                   n: int = 20001, beta_min: float = BETA_MIN, beta_max: float = BETA_MAX) -> DenoisingStep:
    """The true q(x_{t−1} | x_t) and the DDPM Gaussian for one step of a T-step chain ending at time ``s_end``.

    Args:
        x_t: the fixed noisy value (data units).
        T: steps of the whole chain, >= 1; the step runs from s_end + 1/T down to s_end.
        s_end: where the step ends, in [0, 1 − 1/T] (0 = clean data; the same for every T so the step ends at
            one noise level). Put it on every grid you compare (0.25 is on the grids of 1000, 100, 8, 4).
        mixture: the data distribution q(x₀).
        n: grid points (>= 101; the default resolves the T = 1000 step, std ≈ 0.07).
    Returns:
        ``DenoisingStep``.
    Raises:
        ValueError: T < 1, s_end outside [0, 1 − 1/T], n < 101, or a step ending at s_end = 0 (β̃ = 0: the
            DDPM Gaussian is a point).
    """
    if int(T) != T or T < 1:
        raise ValueError(f"T must be a positive integer, got {T!r}")
    if not 0 < s_end <= 1 - 1 / T + 1e-12:
        raise ValueError(f"s_end must be in (0, 1 − 1/T] = (0, {1 - 1 / T:.4g}], got {s_end}")
    if int(n) < 101:
        raise ValueError(f"n must be >= 101, got {n}")
    s_t = s_end + 1.0 / T
    ap, at = float(alpha_bar(s_end, beta_min, beta_max)), float(alpha_bar(s_t, beta_min, beta_max))
    alpha = at / ap
    beta = 1 - alpha
    x = _grid(mixture, ap, n)
    lik = np.exp(-0.5 * (x_t - math.sqrt(alpha) * x) ** 2 / beta) / math.sqrt(2 * math.pi * beta)
    joint = lik * mixture.noised(ap).pdf(x)
    integral = float(np.trapezoid(joint, x))
    evidence = float(mixture.noised(at).pdf(x_t))
    true = joint / integral
    x0 = mixture.posterior_mean_x0(x_t, at)
    mean = math.sqrt(ap) * beta / (1 - at) * x0 + math.sqrt(alpha) * (1 - ap) / (1 - at) * x_t
    std = math.sqrt((1 - ap) / (1 - at) * beta)
    gauss = np.exp(-0.5 * ((x - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))
    with np.errstate(divide="ignore", invalid="ignore"):
        integrand = np.where(true > 0, true * (np.log(true) - np.log(np.maximum(gauss, 1e-300))), 0.0)
    kl = float(np.trapezoid(integrand, x))
    return DenoisingStep(int(T), float(s_end), s_t, ap, at, alpha, beta, float(x_t), x, true, gauss, mean, std,
                         evidence, integral, kl, float(np.abs(true - gauss).max()), count_modes(true))


def denoising_steps(x_t: float, steps=STEP_COUNTS, s_end: float = 0.25, mixture: Mixture1D = DEFAULT_MIXTURE,
                    n: int = 20001) -> list[DenoisingStep]:
    """``denoising_step`` for each T in ``steps`` (default 1000, 100, 8, 4), one x_t, one s_end."""
    return [denoising_step(x_t, T, s_end, mixture, n) for T in steps]


def step_caption(step: DenoisingStep) -> str:
    """One plain-words sentence about a step's two densities."""
    if step.modes > 1:
        return (f"{step.T} steps: one jump is big (β = {step.beta:.2f}), so the clean-side value could be in "
                f"{step.modes} different places; one bell curve (dashed) cannot say that.")
    if step.kl < 0.01:
        return (f"{step.T} steps: each jump is tiny (β = {step.beta:.4f}); the true answer is a single bell curve, "
                "and the Gaussian step fits it.")
    return (f"{step.T} steps: one bump, but no longer a bell curve (the Gaussian misses by KL {step.kl:.2f} nats).")
