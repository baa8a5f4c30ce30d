"""The "GAN dynamics" panel's state and texts, without Qt: the Dirac-GAN's settings (c, h, R1 γ, CLC λ, steps,
start), what ``genviz.backend.dynamics`` computes from them (the field, a trajectory per method, the continuous
flow, eigenvalues and per-step multipliers) and every caption and readout the panel shows."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from ....backend import dynamics as dyn

SPAN = 3.0               # the plane shows θ in c ± SPAN, φ in ± SPAN
FIELD_N = 15             # arrows per side
FLOW_TIME = 2 * math.pi  # the continuous flow's duration: one full turn of the plain game
RANGES = {"c": dyn.LIMITS["c"], "h": (0.01, 2.5), "r1": (0.0, 4.0), "clc": (0.0, 4.0), "steps": (1, 2000)}
VERBS = {"grows": "spiral out", "circles": "circle", "converges": "spiral in"}


@dataclass
class Settings:
    """The panel's settings: the game (``c``, ``r1`` = γ, ``clc`` = λ), the steps (``h``, ``steps``), the start
    (θ0, φ0) and which curves are drawn (``show``: simultaneous, alternating, flow)."""

    c: float = 0.0
    h: float = 0.2
    r1: float = 0.0
    clc: float = 0.0
    steps: int = 100
    theta0: float = 1.0
    phi0: float = 0.0
    show: dict = field(default_factory=lambda: {"simultaneous": True, "alternating": True, "flow": True})


class DynamicsState:
    """The panel as data. ``set(key, value)`` changes a setting (ValueError for an unknown key or value outside
    ``RANGES``) and recomputes; ``start_at(θ, φ)`` moves the start (a click on the plane; clamped to the shown
    plane). After ``compute()``: ``game``, ``trajectories`` ({method: ``dynamics.Trajectory``}), ``flow``
    ((n, 2) or None), ``eigenvalues`` (2,), ``multipliers`` ({method: (2,)}), ``behaviours`` ({method: str})."""

    def __init__(self):
        self.settings = Settings()
        self.compute()

    # ---- settings --------------------------------------------------------------------------------------------
    def set(self, key: str, value) -> None:
        """Set one setting and recompute. Raises ValueError (unknown key, a value outside ``RANGES``)."""
        s = self.settings
        if key == "show":
            s.show = {**s.show, **{k: bool(v) for k, v in dict(value).items() if k in s.show}}
            return
        if key in ("theta0", "phi0"):
            self.start_at(value if key == "theta0" else s.theta0, value if key == "phi0" else s.phi0)
            return
        if key not in RANGES:
            raise ValueError(f"GAN dynamics: unknown setting {key!r}")
        lo, hi = RANGES[key]
        v = float(value)
        if not (math.isfinite(v) and lo <= v <= hi) or (key == "steps" and v != int(v)):
            raise ValueError(f"GAN dynamics: {key} must be in [{lo:g}, {hi:g}], got {value}")
        if key == "c":  # the start keeps its place relative to the data point
            s.theta0 += v - s.c
        setattr(s, key, int(v) if key == "steps" else v)
        self.compute()

    def start_at(self, theta: float, phi: float) -> tuple[float, float]:
        """Start the trajectories at (θ, φ), clamped to the shown plane; returns the start used."""
        s = self.settings
        lo_t, hi_t = self.theta_range()
        s.theta0 = round(min(max(float(theta), lo_t), hi_t), 3)
        s.phi0 = round(min(max(float(phi), -SPAN), SPAN), 3)
        self.compute()
        return s.theta0, s.phi0

    def theta_range(self) -> tuple[float, float]:
        """The θ axis shown: c ± SPAN."""
        return self.settings.c - SPAN, self.settings.c + SPAN

    # ---- computing --------------------------------------------------------------------------------------------
    def compute(self) -> None:
        """Recompute the field, trajectories, flow, eigenvalues and multipliers (NumPy, about a millisecond)."""
        s = self.settings
        self.game = dyn.DiracGAN(s.c, s.r1, s.clc)
        start = (s.theta0, s.phi0)
        self.trajectories = {m: dyn.trajectory(self.game, m, s.h, s.steps, start) for m in dyn.METHODS}
        self.flow = dyn.flow(self.game, start, FLOW_TIME if self.game.k == 0 else 4 * FLOW_TIME, 400)
        self.eigenvalues = self.game.eigenvalues()
        self.multipliers = {m: dyn.multipliers(self.game, m, s.h) for m in dyn.METHODS}
        self.behaviours = {m: dyn.behaviour(self.game, m, s.h) for m in dyn.METHODS}

    def field(self, widen: int = 2):
        """(TH, PH, dθ, dφ) on the shown plane, ``widen`` times as wide in θ (a wide plot shows more θ than c ± SPAN)
        with the same spacing (``dynamics.vector_field``)."""
        c = self.settings.c
        return dyn.vector_field(self.game, (c - widen * SPAN, c + widen * SPAN), (-SPAN, SPAN),
                                (widen * (FIELD_N - 1) + 1, FIELD_N))

    # ---- texts ------------------------------------------------------------------------------------------------
    def rho(self, method: str) -> float:
        """The per-step factor on the distance to the equilibrium (the spectral radius)."""
        return float(np.abs(self.multipliers[method]).max())

    def method_line(self, method: str) -> str:
        """One line per method: what its steps do, the factor per step and the distance at the end."""
        s, tr = self.settings, self.trajectories[method]
        r = dyn.radius(tr.points, s.c)
        end = (f"left the plot: past {dyn.DIVERGED_NORM:g} at step {tr.diverged_at}" if tr.diverged_at
               else f"distance {r[0]:.3g} → {r[-1]:.3g} after {s.steps} steps")
        return f"{method}: {VERBS[self.behaviours[method]]}, ×{self.rho(method):.4f} per step; {end}"

    def eigen_text(self) -> str:
        """The game's eigenvalues in words (closed form) and the step sizes for which each method converges."""
        k, mu = self.game.k, self.eigenvalues
        if k == 0:
            head = "eigenvalues ±i: purely imaginary, a pure rotation with no pull toward the goal"
        else:
            head = f"eigenvalues {_complex(mu[0])}, {_complex(mu[1])} (damping k = γ + λ = {k:g})"
        lims = "; ".join(f"{m} converges for h < {dyn.max_stable_h(self.game, m):.3g}" for m in dyn.METHODS)
        return head + (f". {lims}." if k > 0 else ". No step size converges without R1 or CLC.")

    def caption(self) -> str:
        """The panel's caption in plain words: what the plane is, then what each method does now."""
        s = self.settings
        head = (f"Each point is a whole GAN: θ is where the generator puts its one sample, φ how steeply the "
                f"discriminator D(x) = φx tilts. The star is the goal: θ = c = {s.c:g} (the data) with a "
                "discriminator that no longer cares (φ = 0). Arrows show where gradient training pushes the pair. ")
        shown = [m for m in dyn.METHODS if s.show.get(m)]
        parts = []
        for m in shown:
            b = self.behaviours[m]
            what = {"grows": "spiral out: every step overshoots, so training diverges",
                    "circles": "circle: they never get closer, so training oscillates forever",
                    "converges": "spiral in: training converges to the data"}[b]
            parts.append(f"{m.capitalize()} steps (h = {s.h:g}) {what}.")
        if self.game.k == 0:
            tail = (" Without R1 or CLC the exact, continuous game (dashed) is a circle: the generator chases the data, "
                    "the discriminator chases the generator, and the two go round forever. R1 (γ) and CLC (λ) add "
                    "friction to the discriminator and turn the circle into an inward spiral.")
        else:
            tail = (f" With friction k = {self.game.k:g} from R1/CLC the continuous game (dashed) spirals in to the "
                    "goal; steps that are too big can still overshoot it.")
        return head + " ".join(parts) + tail

    # ---- session ----------------------------------------------------------------------------------------------
    def session_state(self) -> dict:
        """The settings as data (a preset's or session's ``state``)."""
        return {k: (dict(v) if isinstance(v, dict) else v) for k, v in asdict(self.settings).items()}

    def restore(self, state: dict) -> None:
        """Set from ``session_state()``-style data (missing keys keep their value) and recompute. ValueError for an
        unknown key or a value out of range."""
        state = dict(state or {})
        unknown = set(state) - {f.name for f in fields(Settings)}
        if unknown:
            raise ValueError(f"GAN dynamics: unknown setting {sorted(unknown)[0]!r}")
        for key in ("c", "h", "r1", "clc", "steps", "show"):
            if key in state:
                self.set(key, state[key])
        if "theta0" in state or "phi0" in state:
            self.start_at(state.get("theta0", self.settings.theta0), state.get("phi0", self.settings.phi0))


def _complex(z: complex) -> str:
    z = complex(z)
    re = f"{z.real:.3g}".replace("-", "−")
    if abs(z.imag) < 1e-12:
        return re
    return f"{re} {'+' if z.imag >= 0 else '−'} {abs(z.imag):.3g}i"
