"""The VAEBM before/after view's state without Qt (Xiao 2022 Figs. 4.11, 4.15–4.16): the base VAE's samples (K = 0)
and the same samples after K ε-space Langevin steps, every K of the chain kept so a slider scrubs it.

``BeforeAfterState`` holds the settings, the frames (uint8 previews per K), the per-K figures and the texts;
``frames_job(model, settings, classifier)`` is the generator the engine thread runs (torch is imported there).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

N_RANGE = (1, 64)
STEPS_RANGE = (1, 400)
SEED_MAX = 2 ** 31 - 1
CONFIDENT = 0.9  # the digit classifier's confidence threshold (metrics.digit_report)


@dataclass
class Settings:
    """seed, n (samples), steps (K max), step_size (η), noise (Langevin noise on; off = gradient flow)."""

    seed: int = 0
    n: int = 16
    steps: int = 100
    step_size: float = 0.01
    noise: bool = True

    def validated(self) -> "Settings":
        """A copy with numbers clamped to their ranges; ValueError for a step size that is not positive."""
        if not float(self.step_size) > 0:
            raise ValueError(f"step size must be > 0, got {self.step_size}")
        return Settings(seed=max(0, min(SEED_MAX, int(self.seed))), n=max(N_RANGE[0], min(N_RANGE[1], int(self.n))),
                        steps=max(STEPS_RANGE[0], min(STEPS_RANGE[1], int(self.steps))),
                        step_size=float(self.step_size), noise=bool(self.noise))


@dataclass
class Frame:
    """One K of the chain: ``images`` (N, C, H, W) uint8, ``energy`` mean E(x), ``grad_norm`` mean ‖∇_ε U‖,
    ``confident`` share of samples the classifier is sure of (None without a classifier), ``digits`` (N,) its
    argmax classes (or None)."""

    images: np.ndarray
    energy: float
    grad_norm: float
    confident: float | None = None
    digits: np.ndarray | None = None


@dataclass
class BeforeAfterState:
    """Settings, the frames decoded so far (index K = 0..steps) and the K shown."""

    settings: Settings = field(default_factory=Settings)
    frames: list = field(default_factory=list)
    k: int = 0
    status: str = "idle"  # idle, running, done

    def set_frames(self, frames: list) -> None:
        """New frames from the job (K = 0 .. len-1); the K shown follows the newest while running."""
        follow = self.status == "running" and self.k >= len(self.frames) - 1
        self.frames = list(frames)
        if follow or self.k >= len(self.frames):
            self.k = max(0, len(self.frames) - 1)

    def set_k(self, k: int) -> None:
        self.k = max(0, min(int(k), max(0, len(self.frames) - 1)))

    def before(self) -> Frame | None:
        return self.frames[0] if self.frames else None

    def after(self) -> Frame | None:
        return self.frames[self.k] if self.frames else None

    def top_title(self) -> str:
        f = self.before()
        return "<b>VAE samples</b> (K = 0)" + (f" · mean E(x) = {f.energy:.3g}" + _conf(f) if f else "")

    def bottom_title(self) -> str:
        f = self.after()
        if f is None:
            return "<b>after K Langevin steps in ε</b>"
        n_changed = 0 if f.digits is None or self.frames[0].digits is None else \
            int((f.digits != self.frames[0].digits).sum())
        changed = "" if self.k == 0 or f.digits is None else \
            f" · {n_changed} changed digit{'' if n_changed == 1 else 's'}"
        return f"<b>after K = {self.k} Langevin steps in ε</b> · mean E(x) = {f.energy:.3g}{_conf(f)}{changed}"

    def caption(self) -> str:
        s = self.settings
        if not self.frames:
            return ("The VAE proposes, the energy repairs: the top row is the base VAE's samples; below, the same "
                    "samples after K Langevin steps in the VAE's noise space. Press Run.")
        how = "with noise" if s.noise else "without noise (gradient flow)"
        return (f"Each of the {self.k} steps nudged the VAE's noise ε toward lower energy E(decoder(ε)) + ½‖ε‖² "
                f"(step size η = {s.step_size:g}, {how}) and decoded it: seeds {s.seed}…, "
                f"{len(self.frames) - 1} of {s.steps} steps run.")

    def session_state(self) -> dict:
        return {**asdict(self.settings), "k": self.k}

    def restore(self, data: dict) -> None:
        """Settings and K from ``session_state()`` output; unknown keys ignored, numbers clamped."""
        known = {k: data[k] for k in asdict(self.settings) if k in data}
        self.settings = Settings(**{**asdict(self.settings), **known}).validated()
        self.k = int(data.get("k", self.k))


def _conf(f: Frame) -> str:
    return "" if f.confident is None else f" · classifier sure of {100 * f.confident:.0f} %"


def frames_job(model, settings: Settings, classifier=None):
    """Generator (engine thread): runs ``vaebm-langevin`` for ``settings`` and yields the list of ``Frame`` so
    far after each step (K = 0 first); returns the full list. ValueError from the sampler's checks."""
    import torch

    from genviz.backend import chain
    from genviz.backend.imaging import to_uint8
    s = settings.validated()
    frames: list[Frame] = []
    for rec in chain(model, "vaebm-langevin", steps=s.steps, n=s.n, seed=s.seed, step_size=s.step_size,
                     noise=s.noise, decode_terms=False):
        x = rec.x.detach()
        conf = digits = None
        if classifier is not None:
            with torch.inference_mode():
                p = classifier.probs(x.float()).float().cpu()
            conf, digits = float((p.max(1).values >= CONFIDENT).float().mean()), p.argmax(1).numpy()
        frames.append(Frame(to_uint8(model.to_unit(x).cpu().numpy()), float(rec.stats["energy"].mean()),
                            float(rec.stats["grad_norm"].mean()), conf, digits))
        yield list(frames)
    return frames
