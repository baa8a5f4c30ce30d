"""Langevin-type samplers: ULA, MALA, annealed Langevin, noise-free gradient flow, predictor–corrector.

Two conventions for the unadjusted Langevin algorithm appear in the literature; both are the same chain:

- A: x ← x + α ∇log p(x) + √(2αT) ξ          (Song & Ermon 2019; Xiao 2022 Eq 1.18)
- B: x ← x − (η/2) ∇E(x) + √(ηT) ξ           (Nijkamp et al. 2019; Xiao 2022 Eq 5.3), α = η/2

with ∇log p = −∇E (the drift is always toward lower energy), temperature T (stationary law ∝ p^{1/T})
and ξ ~ N(0, I). ``noise_scale`` multiplies the noise term: 1 is the theory; EBM papers often use
less (e.g. Xiao 2022 Ch. 5 uses 0.1), which biases the chain toward the modes.

Every sampler yields ``ChainStep`` records carrying the step's ``drift`` and ``noise`` terms, and stops
with ``ChainDiverged`` when the state becomes non-finite or its norm explodes (the records yielded
before that are the history up to the divergence).
"""
from __future__ import annotations

import math
from typing import Iterator, Sequence

import torch

from .base import ChainStep, Param, SamplerSpec, register


class ChainDiverged(RuntimeError):
    """A chain left the finite world: NaN/Inf, or a per-sample norm above ``max_norm``.

    Attributes: ``step`` (the step index that diverged), ``count`` (how many samples).
    """

    def __init__(self, step: int, count: int, n: int, reason: str):
        self.step, self.count = step, count
        super().__init__(f"chain diverged at step {step}: {reason} in {count} of {n} samples "
                         "(try a smaller step size)")


class ReplayBuffer:
    """A persistent replay buffer of chain states (Du & Mordatch 2019; Nijkamp et al. 2019).

    ``draw(n, generator, fresh)`` returns n states: each is a stored one, or — with probability
    ``reinit_prob``, or while the buffer is empty — a fresh one from ``fresh(k)``. ``push(x)``
    stores the final states of a chain (oldest entries are dropped beyond ``capacity``).
    """

    def __init__(self, capacity: int = 10000):
        self.capacity = int(capacity)
        self.items: torch.Tensor | None = None

    def __len__(self) -> int:
        return 0 if self.items is None else len(self.items)

    def draw(self, n: int, generator: torch.Generator, fresh, reinit_prob: float) -> torch.Tensor:
        new = fresh(n)
        items = self.items
        if items is None or len(items) == 0:
            return new
        idx = torch.randint(0, len(items), (n,), generator=generator)
        keep = torch.rand(n, generator=generator) >= reinit_prob
        out = new.clone()
        out[keep] = items[idx[keep]].to(out.device)
        return out

    def push(self, x: torch.Tensor) -> None:
        x = x.detach().cpu()
        self.items = x if self.items is None else torch.cat([x, self.items])[: self.capacity]


def _noise(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    return torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)


def _norms(v: torch.Tensor) -> torch.Tensor:
    return v.flatten(1).norm(dim=1)


def _check(x: torch.Tensor, index: int, max_norm: float) -> None:
    n = _norms(x)
    bad = ~torch.isfinite(n) | (n > max_norm)
    if bool(bad.any()):
        nonfinite = int((~torch.isfinite(n)).sum())
        reason = "non-finite values (NaN or Inf)" if nonfinite else f"norm above {max_norm:g}"
        raise ChainDiverged(index, int(bad.sum()), len(x), reason)


def _grad(model, x: torch.Tensor, level=None):
    """(∇log p(x), energy or None) for a model with an energy or a (noise-conditional) score at a noise level."""
    tr = model.traits
    if tr.energy:
        from ..families import energy_and_score
        e, g = energy_and_score(model, x)
        return g, e
    if tr.score:
        return model.score(x, level), None
    raise ValueError(f"Langevin samplers need a model with an energy or a score, not a {model.family} model")


def _alpha(step_size: float, convention: str) -> float:
    if convention not in ("A", "B"):
        raise ValueError(f"convention must be 'A' or 'B', got {convention!r}")
    return step_size if convention == "A" else step_size / 2.0


def _initial(x, steps, sigma=0.0, stats=None) -> ChainStep:
    return ChainStep(index=0, steps=steps, t=None, t_next=None, sigma=sigma, x=x, stats=stats or {"x_norm": _norms(x)})


def _level_for(model):
    """Noise level at which a single-level chain evaluates the score: σ_min (score) or t = 0 (diffusion)."""
    tr = model.traits
    if tr.eps:
        return 0
    if tr.score and not tr.energy:
        return model.sigma_min
    return None


def ula(model, x: torch.Tensor, *, steps: int, generator: torch.Generator, step_size: float = 0.01,
        convention: str = "A", temperature: float = 1.0, noise_scale: float = 1.0,
        max_norm: float = 1e4, clip: bool = False) -> Iterator[ChainStep]:
    """Unadjusted Langevin algorithm (Roberts & Tweedie 1996; conventions A/B above).

    Args:
        x: (N, *data_shape) initial state.
        step_size: α (convention A) or η (convention B; α = η/2).
        temperature: T > 0; the noise is √(2αT)·noise_scale·ξ.
        clip: clamp the state to the data range after each step (as image EBMs are trained).
    Yields: records with ``drift`` = α∇log p(x), ``noise`` the added noise term, stats ``energy``
        (energy models), ``grad_norm`` and ``x_norm``.
    Raises: ChainDiverged.
    """
    a = _alpha(step_size, convention)
    level = _level_for(model)
    g, e = _grad(model, x, level)
    yield _initial(x, steps, stats={"x_norm": _norms(x), **({"energy": e} if e is not None else {}),
                                    "grad_norm": _norms(g)})
    std = math.sqrt(2 * a * temperature) * noise_scale
    for i in range(steps):
        drift = a * g
        noise = std * _noise(x, generator)
        x = x + drift + noise
        _check(x, i + 1, max_norm)
        if clip:
            x = x.clamp(*model.data_range)
        g, e = _grad(model, x, level)
        stats = {"x_norm": _norms(x), "grad_norm": _norms(g)}
        if e is not None:
            stats["energy"] = e
        yield ChainStep(index=i + 1, steps=steps, t=None, t_next=None, sigma=0.0, x=x, drift=drift, noise=noise,
                        stats=stats)


def mala(model, x: torch.Tensor, *, steps: int, generator: torch.Generator, step_size: float = 0.01,
         convention: str = "A", temperature: float = 1.0, max_norm: float = 1e4) -> Iterator[ChainStep]:
    """Metropolis-adjusted Langevin (Roberts & Tweedie 1996; Xiao 2022 §1.4).

    Proposal y = x + α∇log p(x) + √(2αT) ξ, i.e. q(y | x) = N(x + α∇log p(x), 2αT I); accept with
    probability min(1, π(y) q(x | y) / (π(x) q(y | x))), π ∝ exp(−E/T). Needs an energy model.
    Stats: ``accept`` (N,) 0/1 for this step and ``accept_rate`` (its mean, a 0-d tensor).
    """
    if not model.traits.energy:
        raise ValueError("MALA needs an energy model (it evaluates E(x) in its accept/reject step)")
    a = _alpha(step_size, convention)
    from ..families import energy_and_score
    e, g = energy_and_score(model, x)
    yield _initial(x, steps, stats={"x_norm": _norms(x), "energy": e, "grad_norm": _norms(g)})
    T = temperature
    std = math.sqrt(2 * a * T)
    dims = tuple(range(1, x.dim()))
    for i in range(steps):
        drift = a * g
        noise = std * _noise(x, generator)
        y = x + drift + noise
        _check(y, i + 1, max_norm)
        e_y, g_y = energy_and_score(model, y)
        log_q_fwd = -((y - x - a * g) ** 2).sum(dims) / (4 * a * T)
        log_q_bwd = -((x - y - a * g_y) ** 2).sum(dims) / (4 * a * T)
        log_ratio = (e - e_y) / T + log_q_bwd - log_q_fwd
        u = torch.rand(x.shape[0], generator=generator).to(x.device)
        acc = torch.log(u) < log_ratio
        m = acc.view(-1, *([1] * (x.dim() - 1)))
        x = torch.where(m, y, x)
        e = torch.where(acc, e_y, e)
        g = torch.where(m, g_y, g)
        accf = acc.float()
        yield ChainStep(index=i + 1, steps=steps, t=None, t_next=None, sigma=0.0, x=x, drift=drift, noise=noise,
                        stats={"x_norm": _norms(x), "energy": e, "grad_norm": _norms(g), "accept": accf,
                               "accept_rate": accf.mean()})


def gradient_flow(model, x: torch.Tensor, *, steps: int, generator: torch.Generator, step_size: float = 0.01,
                  max_norm: float = 1e4) -> Iterator[ChainStep]:
    """Noise-free gradient flow x ← x − (η/2)∇E(x) (Xiao 2022 Eq 5.8); ``step_size`` = η."""
    level = _level_for(model)
    g, e = _grad(model, x, level)
    yield _initial(x, steps, stats={"x_norm": _norms(x), **({"energy": e} if e is not None else {}),
                                    "grad_norm": _norms(g)})
    for i in range(steps):
        drift = (step_size / 2) * g
        x = x + drift
        _check(x, i + 1, max_norm)
        g, e = _grad(model, x, level)
        stats = {"x_norm": _norms(x), "grad_norm": _norms(g)}
        if e is not None:
            stats["energy"] = e
        yield ChainStep(index=i + 1, steps=steps, t=None, t_next=None, sigma=0.0, x=x, drift=drift,
                        noise=torch.zeros_like(x), stats=stats)


def annealed_levels(model, n_levels: int, sigma_max: float | None = None, sigma_min: float | None = None):
    """Noise levels of annealed Langevin: a list of (level, σ_i², label) from noisiest to cleanest.

    Score models: σ_i geometric from σ_max to σ_min (Song & Ermon 2019, §4.2); the level passed to the
    score is σ_i. Diffusion models: timesteps t_i evenly spread from T−1 to 0; the VP "noise variance"
    is 1 − ᾱ_{t_i} and the level passed to the score is t_i.
    """
    if n_levels < 1:
        raise ValueError(f"n_levels must be >= 1, got {n_levels}")
    if model.traits.score and not model.traits.eps:
        hi = sigma_max if sigma_max is not None else model.sigma_max
        lo = sigma_min if sigma_min is not None else model.sigma_min
        if not 0 < lo <= hi:
            raise ValueError(f"need 0 < sigma_min <= sigma_max, got {lo}, {hi}")
        if n_levels == 1:
            sig = [lo]
        else:
            sig = [hi * (lo / hi) ** (i / (n_levels - 1)) for i in range(n_levels)]
        return [(s, s * s, s) for s in sig]
    if model.traits.eps:
        T = model.num_train_timesteps
        ts = sorted({int(round(v)) for v in torch.linspace(T - 1, 0, n_levels).tolist()}, reverse=True)
        return [(t, 1.0 - float(model._acp_cpu[t]), math.sqrt((1 - float(model._acp_cpu[t])) / float(model._acp_cpu[t])))
                for t in ts]
    raise ValueError(f"annealed Langevin needs a score or diffusion model, not {model.family!r}")


def annealed(model, x: torch.Tensor, *, steps: int, generator: torch.Generator, steps_per_level: int = 10,
             epsilon: float = 2e-5, sigma_max: float = 0.0, sigma_min: float = 0.0, temperature: float = 1.0,
             max_norm: float = 1e4) -> Iterator[ChainStep]:
    """Annealed Langevin dynamics (Song & Ermon 2019, Alg. 1).

    L = steps // steps_per_level levels; at level i take K = steps_per_level ULA steps with
    α_i = ε σ_i² / σ_L². ``sigma_max``/``sigma_min`` of 0 mean the model's own. Records carry
    ``level`` and ``sigma``; x0_hat is Tweedie's denoised estimate x + σ_i² s(x, σ_i) (score models).
    """
    K = int(steps_per_level)
    if K < 1 or steps < K:
        raise ValueError(f"need 1 <= steps_per_level <= steps, got {K} and {steps}")
    levels = annealed_levels(model, steps // K, sigma_max or None, sigma_min or None)
    var_L = levels[-1][1]
    total = len(levels) * K
    yield ChainStep(index=0, steps=total, t=levels[0][0], t_next=levels[0][0], sigma=levels[0][2], x=x, level=0,
                    stats={"x_norm": _norms(x)})
    i = 0
    for li, (lev, var, sig) in enumerate(levels):
        a = epsilon * var / var_L
        std = math.sqrt(2 * a * temperature)
        for _ in range(K):
            g, _ = _grad(model, x, lev)
            drift = a * g
            noise = std * _noise(x, generator)
            x0_hat = None if model.traits.eps else x + var * g
            if model.traits.eps:
                acp = float(model._acp_cpu[lev])
                x0_hat = (x + (1 - acp) * g) / math.sqrt(acp)
            x = x + drift + noise
            i += 1
            _check(x, i, max_norm)
            yield ChainStep(index=i, steps=total, t=lev, t_next=lev, sigma=sig, x=x, x0_hat=x0_hat, drift=drift,
                            noise=noise, level=li, stats={"x_norm": _norms(x), "grad_norm": _norms(g),
                                                          "sigma": sig, "step_alpha": a})


def predictor_corrector(model, x: torch.Tensor, timesteps: Sequence[int], *, generator: torch.Generator,
                        snr: float = 0.16, n_corrector: int = 1, clip_sample: bool = True,
                        max_norm: float = 1e4) -> Iterator[ChainStep]:
    """Predictor–corrector sampling for a diffusion model (Song et al. 2021, Alg. 2 and 5, VP form).

    At each timestep t: ``n_corrector`` Langevin corrector steps x ← x + ε s + √(2ε) z with
    ε = 2 α_t (r ‖z‖ / ‖s‖)², r = ``snr``, α_t = ᾱ_t/ᾱ_{t'}; then one reverse-diffusion (ancestral
    DDPM) predictor step from t to the next timestep t'. One record per predictor step; its ``drift``
    and ``noise`` are the last corrector step's terms.
    """
    from .denoising import _acp, _sigma
    ts = list(timesteps)
    yield ChainStep(index=0, steps=len(ts), t=ts[0], t_next=ts[0], sigma=_sigma(_acp(model, ts[0])), x=x,
                    stats={"x_norm": _norms(x)})
    lo, hi = model.data_range
    for i, t in enumerate(ts):
        x = x.to(model.device)
        t_prev = ts[i + 1] if i + 1 < len(ts) else -1
        a_t, a_prev = _acp(model, t), _acp(model, t_prev)
        alpha_t = a_t / a_prev
        drift = noise = None
        for _ in range(int(n_corrector)):
            g = model.score(x, t)
            z = _noise(x, generator)
            eps_step = 2 * alpha_t * (snr * _norms(z).mean() / _norms(g).mean()) ** 2
            drift = eps_step * g
            noise = torch.sqrt(2 * eps_step) * z
            x = x + drift + noise
        eps = model.predict_eps(x, t)
        x0 = (x - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t)
        if clip_sample:
            x0 = x0.clamp(lo, hi)
        beta_t = 1 - alpha_t
        mean = (math.sqrt(a_prev) * beta_t / (1 - a_t)) * x0 + (math.sqrt(alpha_t) * (1 - a_prev) / (1 - a_t)) * x
        if t > 0:
            var = max((1 - a_prev) / (1 - a_t) * beta_t, 1e-20)
            x = mean + math.sqrt(var) * _noise(x, generator)
        else:
            x = mean
        _check(x, i + 1, max_norm)
        yield ChainStep(index=i + 1, steps=len(ts), t=t, t_next=t_prev, sigma=_sigma(a_prev), x=x, x0_hat=x0,
                        eps_hat=eps, drift=drift, noise=noise,
                        stats={"x_norm": _norms(x), "eps_norm": _norms(eps)})


_CONV = Param("convention", "choice", "A", "A: step_size is α in x + α∇log p + √(2α)ξ; "
              "B: step_size is η in x − (η/2)∇E + √η ξ", choices=("A", "B"))
_STEP = Param("step_size", "float", 0.01, "Langevin step size (α or η, see convention)", minimum=1e-12, maximum=1e3)
_TEMP = Param("temperature", "float", 1.0, "temperature T: noise √(2αT)ξ, stationary law ∝ p^(1/T)",
              minimum=1e-6, maximum=1e3)
_MAXN = Param("max_norm", "float", 1e4, "stop the chain when a sample's norm exceeds this (divergence)",
              minimum=1e-6)
_INIT = Param("init", "choice", "gaussian", "where chains start: Gaussian noise, uniform noise over the data "
              "range, real data samples, or a persistent replay buffer", choices=("gaussian", "uniform", "data", "buffer"))
_INIT_STD = Param("init_std", "float", 1.0, "standard deviation of Gaussian initial noise", minimum=0.0)
_REINIT = Param("reinit_prob", "float", 0.05, "replay buffer: probability of restarting a chain from noise",
                minimum=0.0, maximum=1.0)
_INIT_PARAMS = (_INIT, _INIT_STD, _REINIT)

register(SamplerSpec(
    name="ula", title="Langevin (ULA)", kind="langevin", fn=ula, stochastic=True, grid="steps",
    caption="took a push from the model toward more likely images (the drift) and a random jitter (the noise)",
    plot_keys=("energy", "grad_norm", "x_norm"),
    params=(_STEP, _CONV, _TEMP, Param("noise_scale", "float", 1.0, "multiplies the noise term (1 = theory; "
                                       "EBM papers often use less)", minimum=0.0), _MAXN,
            Param("clip", "bool", False, "clamp the state to the data range after each step"), *_INIT_PARAMS),
    description="Unadjusted Langevin: a step down the energy plus fresh Gaussian noise."))
register(SamplerSpec(
    name="mala", title="Metropolis-adjusted Langevin (MALA)", kind="langevin", requires=("energy",), fn=mala,
    stochastic=True, plot_keys=("energy", "grad_norm", "accept"),
    caption="proposed a push toward more likely images plus a random jitter, and kept it only if the "
            "Metropolis–Hastings test accepted it",
    grid="steps", params=(_STEP, _CONV, _TEMP, _MAXN, *_INIT_PARAMS),
    description="Langevin proposal plus a Metropolis–Hastings accept/reject: exact in the limit."))
register(SamplerSpec(
    name="gradient-flow", title="Gradient flow (no noise)", kind="langevin", fn=gradient_flow,
    caption="moved straight downhill on the energy landscape (no random jitter)",
    plot_keys=("energy", "grad_norm", "x_norm"),
    stochastic=False, grid="steps", params=(Param("step_size", "float", 0.01, "η in x − (η/2)∇E(x)",
                                                  minimum=1e-12, maximum=1e3), _MAXN, *_INIT_PARAMS),
    description="Deterministic descent of the energy: particles slide into the nearest mode."))
register(SamplerSpec(
    name="annealed", title="Annealed Langevin (NCSN)", kind="annealed", fn=annealed,
    caption="took a push toward more likely images and a random jitter, at a noise level that shrinks as "
            "the chain goes on",
    plot_keys=("energy", "grad_norm", "sigma"),
    stochastic=True, grid="steps",
    params=(Param("steps_per_level", "int", 10, "K: Langevin steps at each noise level", minimum=1),
            Param("epsilon", "float", 2e-5, "ε: α_i = ε σ_i²/σ_L²", minimum=1e-12, maximum=10.0),
            Param("sigma_max", "float", 0.0, "largest noise level σ_1 (0 = the model's)", minimum=0.0),
            Param("sigma_min", "float", 0.0, "smallest noise level σ_L (0 = the model's)", minimum=0.0),
            _TEMP, _MAXN, *_INIT_PARAMS),
    description="Song & Ermon 2019: Langevin at a sequence of decreasing noise levels."))
register(SamplerSpec(
    name="pc", title="Predictor–corrector", kind="denoising", fn=predictor_corrector, stochastic=True,
    caption="removed some noise, then nudged the image toward more likely images (predictor–corrector)",
    grid="timesteps",
    params=(Param("snr", "float", 0.16, "corrector signal-to-noise ratio r", minimum=0.0, maximum=10.0),
            Param("n_corrector", "int", 1, "Langevin corrector steps per timestep", minimum=0, maximum=100),
            Param("clip_sample", "bool", True, "clip x0_hat to the data range in the predictor"), _MAXN,
            Param("timestep_spacing", "choice", "leading", "how the timesteps are spread over 0..T-1",
                  choices=("leading", "trailing", "linspace"))),
    description="Song et al. 2021: an ancestral step, then Langevin corrections at the new noise level."))
