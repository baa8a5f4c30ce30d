"""The "Few steps" panel's state and texts, without Qt: which data, which x_t, where the step ends, and the
curves and captions ``genviz.backend.ddgan_views`` computes for T = 1000, 100, 8, 4 (thesis Fig. 6.3)."""
from __future__ import annotations

from dataclasses import dataclass, field

from ....backend.ddgan_views import MIXTURES, STEP_COUNTS, DenoisingStep, denoising_steps, step_caption

LEVELS = (0.25, 0.5, 0.75)  # where the step ends (VP time s in [0, 1]); on the grids of 1000, 100, 8 and 4 steps
X_RANGE = (-4.0, 4.0)


@dataclass
class FewStepsModel:
    """Settings: ``data`` (a key of ``ddgan_views.MIXTURES``), ``x_t`` (the fixed noisy value, in ``X_RANGE``),
    ``s_end`` (one of ``LEVELS``); ``steps`` the step counts compared. ``compute()`` fills ``results``.

    Raises:
        ValueError: from ``set``/``restore`` for an unknown data name, an x_t outside ``X_RANGE`` or a level not in
            ``LEVELS``.
    """

    data: str = "three bumps"
    x_t: float = 0.5
    s_end: float = 0.25
    steps: tuple = STEP_COUNTS
    results: list[DenoisingStep] = field(default_factory=list)

    def set(self, data: str | None = None, x_t: float | None = None, s_end: float | None = None) -> None:
        """Change settings (None keeps one) and recompute."""
        if data is not None and data not in MIXTURES:
            raise ValueError(f"unknown data {data!r}; expected one of {', '.join(MIXTURES)}")
        if x_t is not None and not X_RANGE[0] <= float(x_t) <= X_RANGE[1]:
            raise ValueError(f"x_t must be in {X_RANGE}, got {x_t}")
        if s_end is not None and float(s_end) not in LEVELS:
            raise ValueError(f"s_end must be one of {LEVELS}, got {s_end}")
        self.data = data if data is not None else self.data
        self.x_t = float(x_t) if x_t is not None else self.x_t
        self.s_end = float(s_end) if s_end is not None else self.s_end
        self.compute()

    def compute(self) -> list[DenoisingStep]:
        """The denoising densities of every step count (a few ms: numpy on 4,001 points)."""
        self.results = denoising_steps(self.x_t, self.steps, self.s_end, MIXTURES[self.data], n=4001)
        return self.results

    def plot_title(self, r: DenoisingStep) -> str:
        """A plot's title: the step count, the size of one step and how many peaks the true answer has."""
        peaks = f"{r.modes} peak{'s' if r.modes != 1 else ''}"
        return f"{r.T} steps · one step β = {r.beta:.3g} · {peaks}"

    def caption(self) -> str:
        """The panel's caption in plain words (what the four plots show, then the verdict)."""
        if not self.results:
            self.compute()
        many = [r for r in self.results if r.modes > 1]
        head = (f"Each plot asks: given the noisy value x_t = {self.x_t:.2f}, where was it one step earlier? "
                "Solid: the true answer (Bayes' rule on the data below); dashed: the single bell curve a "
                "diffusion model (DDPM) uses for that step. ")
        if many:
            tail = (f"With {many[0].T} steps or fewer one step jumps so far that several earlier values fit, so "
                    "the true answer has several peaks: a bell curve cannot follow, a GAN step can (DDGAN).")
        else:
            tail = ("At this noise level even a big step has a single-peaked answer; pick a step that ends nearer "
                    "the clean data to see the peaks split.")
        return head + tail

    def step_captions(self) -> list[str]:
        """One sentence per step count (``ddgan_views.step_caption``)."""
        return [step_caption(r) for r in self.results]

    def session_state(self) -> dict:
        """The settings as data (a preset's or session's ``state``)."""
        return {"data": self.data, "x_t": self.x_t, "s_end": self.s_end}

    def restore(self, state: dict) -> None:
        """Set from ``session_state()``-style data (missing keys keep their value) and recompute."""
        self.set(state.get("data"), state.get("x_t"), state.get("s_end"))
