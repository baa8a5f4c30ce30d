"""The canvas panel's state without Qt: settings, the staging area, live mode, the readouts it shows, and the
session and autosave data. Testable without a window (``tests/gui/test_canvas_model.py``).

The backend (torch) is imported lazily, only in functions that need a loaded model or run on the engine thread:
the window is shown before torch is imported (``genviz.gui``). SDEdit's defaults, its samplers, the guide
classifier and the drawing -> model conversion all come from ``genviz.backend.conditioning``.
"""
from __future__ import annotations

import base64
import io
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ...captions import canvas_caption
from ...live_scheduler import LiveScheduler
from ...staging import Candidate, StagingArea

RESOURCES = Path(__file__).resolve().parents[4] / "resources"
DEFAULT_DRAWING = RESOURCES / "drawings" / "digit3_0.png"
COLOUR_DRAWING = RESOURCES / "drawings_colour" / "face_0.png"  # colour models (backend.colour_drawings)
# the controls' ranges (sdedit itself accepts more); guide classes: the digits 0..9 of the guide classifier
LIMITS = {"n": (1, 16), "seed": (0, 2 ** 31 - 1), "steps": (1, 1000), "ilvr": (2, 14), "guidance": (1, 20)}
GUIDE_CLASSES = 10


class _UnitSpace:
    """Stands in for a model in ``conditioning.image_to_model``: (C, H, W) images in [0, 1], no convention."""

    name = "canvas"
    metadata: dict = {}

    def __init__(self, shape):
        self.data_shape = tuple(int(s) for s in shape)

    @staticmethod
    def from_unit(u):
        """[0, 1] is this space: identity."""
        return u


def model_view(ink: np.ndarray, shape) -> np.ndarray:
    """What the model sees: the (S, S, 3) uint8 canvas converted by ``conditioning.image_to_model`` (area
    averaging, no inversion: the canvas already follows the model's convention) to (C, H, W) float32 in [0, 1].
    Imports the backend (call it once a model is loaded, or on the engine thread)."""
    from ....backend.conditioning import image_to_model
    return image_to_model(ink, _UnitSpace(shape), invert=False).numpy()


def guide_available(model) -> bool:
    """Whether the guide classifier (``conditioning.GUIDE_CHECKPOINT``) exists for ``model``'s images: reads its
    checkpoint header only (the classifier itself is loaded on the engine thread, ``generation``)."""
    from ....backend.checkpoints import read_metadata
    from ....backend.conditioning import GUIDE_CHECKPOINT
    try:
        meta = read_metadata(GUIDE_CHECKPOINT)
    except Exception:
        return False
    return tuple(meta.get("data", {}).get("shape", ())) == tuple(model.data_shape)


def sdedit_samplers(model=None) -> tuple[str, ...]:
    """The samplers editing runs on ``model`` (``conditioning.edit_samplers``: DDIM/DDPM for a diffusion model,
    ``ddgan`` for a denoising diffusion GAN); every one of them when ``model`` is None."""
    from ....backend.completion import FILL_SAMPLERS
    from ....backend.conditioning import SDEDIT_SAMPLERS, edit_samplers
    from ....backend.ddgan_edit import EDIT_SAMPLERS
    return (tuple(edit_samplers(model)) if model is not None
            else tuple(SDEDIT_SAMPLERS) + tuple(EDIT_SAMPLERS) + tuple(FILL_SAMPLERS))


def recommended(guided: bool, model=None) -> dict:
    """The measured defaults (README "Stroke canvas", ``sdedit_defaults``): with a guide classifier t0, ILVR
    factor and guidance scale of ``RECOMMENDED``; without, plain SDEdit at ``default_t0(model)`` (the model's
    measured t0, else the t0 keeping the same ᾱ as 0.6 on mnist-ddpm; ``DEFAULT_T0`` with no model). The
    ILVR factor and the guidance scale keep ``RECOMMENDED``'s values, switched off. ``t0_source`` says why."""
    from ....backend.sdedit_defaults import DEFAULT_T0, RECOMMENDED, default_t0
    if guided:
        t0, why = RECOMMENDED["t0"], "measured with ILVR and mnist-guide"
    else:
        t0, why = default_t0(model) if model is not None else (DEFAULT_T0, "the default measured on mnist-ddpm")
    return dict(t0=t0, ilvr=int(RECOMMENDED["ilvr"]), guidance=float(RECOMMENDED["guidance"]), guided=guided,
                t0_source=why)


def _int(data: dict, key: str, lo: int, hi: int) -> int:
    try:
        v = int(data[key])
    except (TypeError, ValueError):
        raise ValueError(f"canvas settings: {key} must be a whole number, got {data[key]!r}") from None
    if not lo <= v <= hi:
        raise ValueError(f"canvas settings: {key} must be in {lo}..{hi}, got {v}")
    return v


@dataclass(frozen=True)
class CanvasSettings:
    """The generation settings, as ``conditioning.sdedit`` keyword arguments (``as_dict``).

    ``ilvr`` is the ILVR factor (0 = off), ``guidance`` the classifier-guidance scale (0 = off) and
    ``guide_class`` the digit guidance steers toward (None: the class the guide classifier sees in the drawing).
    """

    t0: float
    sampler: str
    n: int = 4
    seed: int = 0
    steps: int = 25
    ilvr: int = 0
    guidance: float = 0.0
    guide_class: int | None = None

    def as_dict(self) -> dict:
        """The settings as a plain dict (``sdedit`` keyword arguments; a session's ``settings``)."""
        return asdict(self)

    def merged(self, data: dict) -> CanvasSettings:
        """These settings with the keys present in ``data`` (a session's ``settings``) replaced, validated.

        Raises:
            ValueError: a value of the wrong type or outside the controls' range, or an unknown sampler.
        """
        out = self.as_dict()
        if "t0" in data:
            try:
                t0 = float(data["t0"])
            except (TypeError, ValueError):
                raise ValueError(f"canvas settings: t0 must be a number, got {data['t0']!r}") from None
            if not (math.isfinite(t0) and 0.0 <= t0 <= 1.0):
                raise ValueError(f"canvas settings: t0 must be a fraction of T in [0, 1], got {t0}")
            out["t0"] = t0
        for key in ("n", "seed", "steps"):
            if key in data:
                out[key] = _int(data, key, *LIMITS[key])
        if "sampler" in data:
            samplers = sdedit_samplers()
            if data["sampler"] not in samplers:
                raise ValueError(f"canvas settings: sampler must be one of {', '.join(samplers)}, got {data['sampler']!r}")
            out["sampler"] = str(data["sampler"])
        if "ilvr" in data:
            out["ilvr"] = 0 if _int(data, "ilvr", 0, LIMITS["ilvr"][1]) <= 1 else _int(data, "ilvr", *LIMITS["ilvr"])
        if "guidance" in data:
            try:
                g = float(data["guidance"])
            except (TypeError, ValueError):
                raise ValueError(f"canvas settings: guidance must be a number, got {data['guidance']!r}") from None
            lo, hi = LIMITS["guidance"]
            if not (g == 0 or lo <= round(g) <= hi):
                raise ValueError(f"canvas settings: guidance must be 0 (off) or in {lo}..{hi}, got {g}")
            out["guidance"] = float(round(g)) if g > 0 else 0.0
        if "guide_class" in data:
            out["guide_class"] = None if data["guide_class"] is None else _int(data, "guide_class", 0, GUIDE_CLASSES - 1)
        return CanvasSettings(**out)


@dataclass(frozen=True)
class Progress:
    """A generation's progress as the engine job yields it: ``stage`` in words and ``fraction`` in [0, 1],
    or None while the sampler runs (``conditioning.sdedit`` reports its steps only to a callback)."""

    stage: str
    fraction: float | None = 0.0


class CanvasState:
    """Everything the canvas shows besides the drawing: the model's facts, the staging area, live mode's
    scheduler, the busy flag, progress, and the latency readout (with an injectable ``clock``, seconds)."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter):
        self.clock = clock
        self.staging = StagingArea()
        self.scheduler = LiveScheduler()
        self.model_name = ""
        self.shape: tuple = (1, 28, 28)
        self.num_train_timesteps: int | None = None
        self.alphas_cumprod: list | None = None
        self.guided = False
        self.busy = False
        self.progress: Progress | None = None
        self.last_latency: float | None = None
        self.last_seconds: float | None = None
        self.last_rate: float | None = None  # candidates per second of the last generation
        self.steps_fixed = False
        self.fill = ""  # "causal" (autoregressive) or "gibbs" (RBM): clamped completion, ``backend.completion``
        self.last_x_t0: np.ndarray | None = None
        self._latency_start: float | None = None
        self._stroke_time: float | None = None

    # ---- the model ---------------------------------------------------------------------------------
    def set_model(self, model) -> None:
        """Take a supported (diffusion, image) model's name, shape, schedule and whether guidance fits it."""
        self.model_name = str(model.name)
        self.shape = tuple(model.data_shape)
        self.num_train_timesteps = int(getattr(model, "num_train_timesteps", 1000))
        acp = getattr(model, "_acp_cpu", None)
        if acp is None and getattr(model, "schedule", None) is not None:  # a DDGAN's T-step schedule
            acp = getattr(model.schedule, "alphas_cumprod", None)
        self.alphas_cumprod = [float(v) for v in acp] if acp is not None else None
        from ....backend import completion
        from ....backend.ddgan_edit import supports
        self.fill = "causal" if completion.is_causal(model) else "gibbs" if completion.supports(model) else ""
        # a DDGAN runs the k = round(t0·T) steps left, an autoregressive model one pass per unknown pixel
        self.steps_fixed = supports(model) or self.fill == "causal"
        self.guided = guide_available(model) and not self.steps_fixed and not self.fill

    def t0_text(self, t0: float) -> str:
        """The t0 readout: the fraction and the training timestep it starts from (``conditioning.t0_to_timestep``)."""
        if self.fill:
            return f"{t0:.2f}  (no mask: the last {t0:.0%} of pixels)"
        T = self.num_train_timesteps
        if T is None:
            return f"{t0:.2f}  (load a diffusion model)"
        from ....backend.conditioning import t0_to_timestep
        t = t0_to_timestep(t0, T)
        if t < 0:
            txt = "t = 0: the drawing itself"
        elif t0 >= 1:
            txt = f"t = {T}: pure noise"
        elif self.alphas_cumprod is not None:
            txt = f"t = {t + 1}, ᾱ = {self.alphas_cumprod[t]:.3f}"
        else:
            txt = f"t = {t + 1}"
        return f"{t0:.2f}  ({txt})"

    # ---- generation and latency --------------------------------------------------------------------
    def stroke_finished(self) -> None:
        """A stroke was released: live latency is measured from here."""
        self._stroke_time = self.clock()

    def live_enabled(self) -> None:
        """Live mode was switched on: the readout is cleared until a fresh generation finishes, and no old
        stroke counts toward its latency."""
        self.last_latency = self.last_seconds = None
        self._stroke_time = None

    def start(self, live: bool = False) -> None:
        """A generation starts now: latency from the stroke it covers (live) or from now (Generate)."""
        now = self.clock()
        self._latency_start = (self._stroke_time or now) if live else now
        self._stroke_time = None
        self.busy = True
        self.progress = Progress("starting", 0.0)
        if live:
            self.scheduler.notify_started()

    def finish(self, out: dict) -> str:
        """A generation's result arrived (``generation.sdedit_job``'s return value): stage its batch under the
        model's name, take the readouts. Returns the status line."""
        self.busy = False
        self.progress = Progress("done", 1.0)
        self.scheduler.notify_finished(True)
        had = self.staging.dropped
        num = self.staging.add_batch(list(out["samples"]), out["params"], out.get("model", self.model_name))
        self.last_x_t0 = out["x_t0"]
        self.last_seconds = float(out["seconds"])
        self.last_rate = len(out["samples"]) / max(self.last_seconds, 1e-9)
        self.last_latency = self.clock() - (self._latency_start if self._latency_start is not None else self.clock())
        p = out["params"]
        note = f", guided to {p['guided_to']}" if "guided_to" in p else ""
        if self.staging.dropped > had:
            note += f"; {self.staging.dropped - had} oldest batch dropped from staging"
        return (f"batch {num} ({out.get('model', self.model_name)}): {len(out['samples'])} candidates, t0 {p['t0']:.2f}, "
                f"{p['sampler']} {p['steps']} steps, seed {p['seed']}{note}")

    def fail(self, msg: str) -> str:
        """The generation failed with ``msg``: returns the (error) status line."""
        self.busy = False
        self.progress = None
        self.scheduler.notify_finished(False)
        return f"generation failed: {msg}"

    def cancel(self) -> str:
        """The generation was cancelled: returns the status line."""
        self.busy = False
        self.progress = None
        self.scheduler.notify_finished(False)
        return "generation cancelled"

    def latency_text(self) -> str:
        """The latency readout ("latency: —" until a generation finished since live mode was switched on)."""
        if self.last_latency is None:
            return "latency: —"
        gen = ""
        if self.last_seconds is not None:  # regenerations per second: what live mode can reach while drawing
            gen = f"; generation {self.last_seconds:.2f} s (up to {1 / max(self.last_seconds, 1e-9):.1f} per second)"
        if self.last_seconds is not None and self.last_rate is not None:
            gen += f", {self.last_rate:.1f} images/s"
        return f"latency: {self.last_latency:.2f} s (stroke/click → shown){gen}"

    # ---- staging ---------------------------------------------------------------------------------------
    @staticmethod
    def candidate_name(c: Candidate) -> str:
        """A candidate's short name: batch.k (1-based)."""
        return f"{c.batch}.{c.k + 1}"

    @staticmethod
    def candidate_tooltip(c: Candidate) -> str:
        """What made the candidate: its model and settings."""
        p = c.params
        return (f"candidate {c.batch}.{c.k + 1} by {c.model or 'an unnamed model'}: t0 {p.get('t0', 0):.2f}, "
                f"{p.get('sampler', '')} {p.get('steps', '')} steps, seed {p.get('seed', '')}"
                + (" (accepted)" if c.accepted else ""))

    def stage_text(self) -> str:
        """The line under the shown candidate: where it is, its batch, settings and model."""
        st, cur = self.staging, self.staging.current
        if cur is None:
            return ""
        p = cur.params
        return (f"candidate {st.index + 1} of {len(st)} — batch {cur.batch}, t0 {p.get('t0', 0):.2f}, "
                f"seed {p.get('seed', '')}\nmodel: {cur.model or '?'}" + (" · accepted" if cur.accepted else ""))

    def accept(self) -> tuple[Candidate, bool, str]:
        """Accept the shown candidate (``StagingArea.accept``): (candidate, newly in the history, status line).
        Raises LookupError when nothing is staged."""
        cur = self.staging.current
        new = cur is not None and not cur.accepted
        c = self.staging.accept()
        return c, new, f"accepted candidate {self.candidate_name(c)}: it is the drawing now (Undo brings the old drawing back)"

    def caption(self, t0: float, blank: bool, guided: bool) -> str:
        """The panel's caption (``captions.canvas_caption``; ``captions_fill.fill_caption`` for completion models)."""
        if self.fill:
            from ...captions_fill import fill_caption
            return fill_caption(self.fill, t0, self.busy, len(self.staging), max(self.staging.index, 0), blank)
        return canvas_caption(t0, self.busy, len(self.staging), max(self.staging.index, 0), blank, guided,
                              colour=tuple(self.shape)[:1] == (3,))


# ---- images on disk and in sessions ---------------------------------------------------------------------

def png_b64(a: np.ndarray) -> str:
    """A uint8 image as a base64 PNG (session files)."""
    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def png_from_b64(b64: str, mode: str) -> np.ndarray:
    """A base64 PNG as a uint8 array in PIL ``mode`` ("RGB", "L"). Raises ValueError when unreadable or larger
    than ``safe_io.MAX_IMAGE_SIDE`` on a side (checked before decoding)."""
    from ....backend.safe_io import open_image
    if not isinstance(b64, str):
        raise ValueError(f"canvas session: an image must be a base64 string, got {type(b64).__name__}")
    try:
        raw = base64.b64decode(b64, validate=True)
    except ValueError:
        raise ValueError("canvas session: unreadable image (not base64)") from None
    try:
        return np.asarray(open_image(raw, "image").convert(mode))
    except ValueError as e:
        raise ValueError(f"canvas session: unreadable image ({str(e).split(': ', 1)[-1]})") from None


def session_dict(settings: CanvasSettings | None, ink: np.ndarray, mask: np.ndarray | None) -> dict:
    """The canvas as session data: the settings (once a model set them), the drawing and the mask as PNGs."""
    out: dict = {} if settings is None else {"settings": settings.as_dict()}
    out["drawing"] = png_b64(ink)
    if mask is not None:
        out["mask"] = png_b64(mask)
    return out


def parse_session(data: dict, base: CanvasSettings | None) -> tuple[CanvasSettings | None, np.ndarray | None,
                                                                    np.ndarray | None, Path | None]:
    """Read session data (``session_dict``, or a preset naming a ``drawing_file`` in resources/) completely
    before anything is applied: (settings merged into ``base``, drawing, mask, drawing file). Raises ValueError."""
    st = dict(data.get("settings") or {})
    if st and base is None:  # no model has set the settings yet: validate against a neutral base
        base = CanvasSettings(0.0, sdedit_samplers()[0])
    settings = base.merged(st) if base is not None else None
    ink = mask = path = None
    if "drawing" in data:
        ink = png_from_b64(data["drawing"], "RGB")
        mask = png_from_b64(data["mask"], "L") if data.get("mask") else np.zeros((1, 1), np.uint8)
    elif "drawing_file" in data:
        path = RESOURCES / str(data["drawing_file"])
        if not path.is_file():
            raise ValueError(f"canvas preset: no drawing {data['drawing_file']!r} in resources/")
    return settings, ink, mask, path


def autosave_paths(folder: Path) -> tuple[Path, Path]:
    """The autosaved drawing and mask in ``folder``."""
    return Path(folder) / "drawing.png", Path(folder) / "mask.png"


def write_drawing(folder: Path, ink: np.ndarray, mask: np.ndarray) -> None:
    """Write the drawing and the mask as PNGs, atomically (temp file, then rename). Raises OSError."""
    from PIL import Image
    ink_p, mask_p = autosave_paths(folder)
    ink_p.parent.mkdir(parents=True, exist_ok=True)
    for p, a in ((ink_p, ink), (mask_p, mask)):
        tmp = p.with_suffix(".tmp.png")
        Image.fromarray(a).save(tmp, format="PNG")
        os.replace(tmp, p)


def read_drawing(folder: Path) -> tuple[np.ndarray, np.ndarray | None] | None:
    """The autosaved (drawing (H, W, 3), mask (H, W) or None), or None when nothing was saved. Raises OSError,
    ValueError for an unreadable or oversized file (checked before decoding, ``safe_io.open_image``)."""
    from ....backend.safe_io import open_image
    ink_p, mask_p = autosave_paths(folder)
    if not ink_p.exists():
        return None
    ink = np.asarray(open_image(ink_p, f"autosaved drawing {ink_p.name}").convert("RGB"))
    mask = None
    if mask_p.exists():
        mask = np.asarray(open_image(mask_p, f"autosaved mask {mask_p.name}").convert("L"))
        if mask.shape != ink.shape[:2]:
            raise ValueError(f"autosaved mask {mask_p.name}: {mask.shape[1]} x {mask.shape[0]} pixels, the drawing "
                             f"{ink.shape[1]} x {ink.shape[0]}")
    return ink, mask


def follow_convention(a: np.ndarray, dark_canvas: bool) -> np.ndarray:
    """An RGB image put on the canvas follows its convention: light border on a dark canvas (or the reverse)
    means the image is inverted."""
    border = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]]).mean() / 255.0
    return 255 - a if (border > 0.5) == dark_canvas else a


def real_emoji(index: int) -> tuple[np.ndarray, str]:
    """Held-out emoji ``index`` of resources/emoji32.npz: ((32, 32, 3) uint8 RGB on white, its category). Raises
    OSError, IndexError."""
    from ....backend.emoji_data import CATEGORIES, load_emoji
    images, labels = load_emoji("test")
    return images[int(index)], CATEGORIES[int(labels[int(index)])]


def real_digit(index: int) -> tuple[np.ndarray, int]:
    """MNIST digit ``index`` of resources/mnist10k.npz: ((28, 28) uint8 white on black, label). Raises OSError,
    IndexError, KeyError."""
    with np.load(RESOURCES / "mnist10k.npz") as f:
        return f["images"][int(index)], int(f["labels"][int(index)])
