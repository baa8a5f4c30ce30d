"""The interpolation panel's state without Qt: settings, endpoints, the walk's results and the texts it shows.

``InterpolationState`` holds everything the panel shows as plain data (numpy arrays, dicts, strings) and
every number and sentence derived from it; the Qt panel (``panel.py``) only copies it into widgets. The
walk itself runs in ``genviz.backend.walk`` on the engine thread; its results come here through
``walk_progress`` / ``walk_done`` / ``walk_failed`` on the GUI thread. No torch is called here: tensor
endpoints (a chain sample) are kept as opaque values for the backend.
"""
from __future__ import annotations

import math

import numpy as np

from ...captions import interpolation_caption
from .settings import (
    GRID_WHAT,
    NOTICE,
    PICKER_N,
    PLACEHOLDER,
    SCRUB_TICKS,
    STEPS_RANGE,
    WalkSettings,
    endpoint_value,
    image_endpoint,
    parse_endpoints,
    seed_endpoint,
)

__all__ = ["InterpolationState", "WalkSettings"]


class InterpolationState:
    """Everything the interpolation panel shows, as data.

    Attributes:
        settings: ``WalkSettings``.
        endpoints: 4 dicts (A, B, C, D): ``{"kind": "seed", "seed": s}``, ``{"kind": "image", "spec":
            path-or-mnist:K, "label": ...}`` or ``{"kind": "tensor", "x": (1, *data_shape), "label": ...}``.
        active: the endpoint (0..3) a click in the picker sets.
        model: the backend model shown (only its attributes are read), or None; ``reason``: None when the
            panel supports it, else why not (one sentence).
        status: ``idle``, ``running``, ``done`` or ``error``; ``error``: the message of a failed walk.
        partial: the latest ``WalkProgress`` of the running walk (None before its first frame).
        frames_unit: (N, C, H, W) float32 in [0, 1], the decoded strip, or None; ``grid_unit``: (side², C, H,
            W) or None; ``norms``: (N,) ‖z‖ of the strip's frames; ``profiles``: ‖z(t)‖ of every method
            ({method: (65,), "t": (65,)}); ``typical``: √d; ``method_done``: the decoded walk's method;
            ``space_desc``: its latent space in words.
        live_t: the slider's path parameter in [0, 1]; ``live_unit``: (1, C, H, W) float32, the frame decoded
            there (None until decoded); ``live_norm``: its ‖z‖; ``live_title_text``: the big view's title.
    """

    def __init__(self):
        self.settings = WalkSettings()
        self.endpoints = [seed_endpoint(i) for i in range(4)]
        self.active = 0
        self.model = None
        self.reason: str | None = NOTICE
        self.live_t = 0.0
        self._running = (0, 0, "slerp")  # (frames, grid side, method) of the walk started last
        self._clear()

    def _clear(self) -> None:
        self.status, self.error = "idle", None
        self.partial = None
        self.frames_unit = self.grid_unit = self.norms = self.profiles = None
        self.typical = None
        self.method_done = None
        self.space_desc = ""
        self.clear_live()

    def clear_live(self) -> None:
        """Forget the big view's frame (it no longer matches the walk)."""
        self.live_unit = None
        self.live_norm = None
        self.live_title_text = f"t = {self.live_t:.2f}"

    # ---- model ---------------------------------------------------------------------------------------
    @property
    def supported(self) -> bool:
        """True when a model with a latent to walk is shown."""
        return self.model is not None and self.reason is None

    @property
    def is_diffusion(self) -> bool:
        """True for a diffusion model (its latent is DDIM's x_T; DDIM steps apply)."""
        return self.supported and self.model.family == "diffusion"

    def set_model(self, model) -> None:
        """Show ``model`` (a backend model, or None); clears the previous walk. Whether the panel supports it
        is ``genviz.panels``' decision (an image model with a latent)."""
        from genviz.panels import get_panel
        self.model, self.reason = model, get_panel("interpolation").why_not(model)
        self._clear()
        if self.is_diffusion:
            steps = int(dict(getattr(model, "default_sampler", {})).get("steps", 50))
            self.settings.ddim_steps = max(STEPS_RANGE[0], min(STEPS_RANGE[1], steps))

    def notice_text(self) -> str:
        """What the panel says instead of its controls when the model is not supported."""
        if self.model is None:
            return NOTICE
        return f"Interpolation walks the latent space of VAE, GAN and diffusion models on images.\n{self.reason}"

    def space_text(self) -> str:
        """One line about the latent walked and how real images enter it."""
        m = self.model
        if not self.supported:
            return ""
        if self.is_diffusion:
            return "DDIM latent x_T, decoded by deterministic DDIM (η = 0); real images enter by DDIM inversion."
        shape = getattr(m, "latent_shape", m.data_shape)
        how = ("; real images enter by the encoder (μ)." if m.family == "vae" else
               "; real images enter by the encoder." if getattr(m.traits, "encoder", False) else
               "; no encoder: endpoints from seeds or samples.")
        if hasattr(m, "walk_space"):  # a GLF: say which of its spaces the walk uses
            from genviz.backend.interpolation import latent_space
            return latent_space(m).describe() + how
        return f"{m.family.upper()} latent z ∈ R^{'×'.join(map(str, shape))}{how}"

    # ---- endpoints -----------------------------------------------------------------------------------
    def next_corner(self, i: int) -> int:
        """The endpoint after ``i`` among those the walk uses (A → B → A, or A → B → C → D → A)."""
        return (i + 1) % self.settings.n_corners

    def set_endpoint(self, i: int, seed: int | None = None, image: str | None = None, label: str | None = None,
                     advance: bool = False) -> None:
        """Set endpoint ``i`` (0..3 = A..D) to a seed or an image (path or ``mnist:K``); ``advance`` makes the
        next endpoint active. Raises ValueError: not exactly one of seed and image, a bad index or seed."""
        if (seed is None) == (image is None):
            raise ValueError("give exactly one of seed or image")
        if not 0 <= i < 4:
            raise ValueError(f"endpoint index must be 0..3, got {i}")
        self.endpoints[i] = seed_endpoint(seed) if seed is not None else image_endpoint(image, label)
        if advance:
            self.active = self.next_corner(i)

    def set_endpoint_tensor(self, i: int, x, label: str, advance: bool = False) -> None:
        """Set endpoint ``i`` to an image already in model space, (1, *data_shape) (made on the engine thread)."""
        self.endpoints[i] = {"kind": "tensor", "x": x, "label": label}
        if advance:
            self.active = self.next_corner(i)

    def picker_seeds(self) -> list[int]:
        """The seeds the Samples picker shows."""
        return [self.settings.picker_seed + k for k in range(PICKER_N)]

    def picker_title(self, base: int) -> str:
        """The Samples picker's title for seeds from ``base``."""
        return f"seeds {base}–{base + PICKER_N - 1}"

    def digit_indices(self) -> list[int]:
        """Held-out digit indices on the current page: one of each class (the split is ordered by class,
        100 per class)."""
        return [100 * c + self.settings.digit_page for c in range(10)]

    def digits_fit(self) -> bool:
        """Whether the held-out MNIST digits fit the model (1×28×28)."""
        return self.supported and tuple(self.model.data_shape) == (1, 28, 28)

    # ---- the walk --------------------------------------------------------------------------------------
    def walk_request(self) -> dict:
        """The arguments of ``genviz.backend.walk.walk`` (less the model) for the current settings."""
        s = self.settings
        return {"endpoints": [endpoint_value(e) for e in self.endpoints[:s.n_corners]], "method": s.method,
                "frames": s.frames, "grid_side": s.side, "steps": s.ddim_steps if self.is_diffusion else None}

    def begin_walk(self) -> None:
        """A walk with the current settings starts: earlier results are cleared."""
        self._clear()
        self.status = "running"
        self._running = (self.settings.frames, self.settings.side, self.settings.method)

    def walk_progress(self, progress) -> None:
        """The running walk decoded more frames (a ``genviz.backend.walk.WalkProgress``)."""
        if self.status == "running":
            self.partial = progress

    def walk_done(self, result) -> None:
        """The walk finished (a ``genviz.backend.walk.WalkResult``)."""
        self.status, self.error, self.partial = "done", None, None
        self.frames_unit, self.grid_unit = result.strip, result.grid
        self.norms, self.profiles, self.typical = result.norms, result.profiles, result.typical
        self.method_done, self.space_desc = result.method, result.description

    def walk_failed(self, msg: str) -> None:
        """The walk raised: ``msg`` is its one-line reason."""
        self.status, self.error, self.partial = "error", msg, None

    def walk_stopped(self) -> None:
        """The running walk was cancelled (the frames decoded so far stay in ``partial``)."""
        if self.status == "running":
            self.status = "idle"

    def set_live(self, t: float, unit: np.ndarray, norm: float) -> None:
        """The frame at ``t`` was decoded: (1, C, H, W) in [0, 1], its latent's norm ``norm``."""
        self.live_unit, self.live_norm = unit, norm
        self.live_title_text = f"t = {t:.2f}, ‖z‖ = {norm:.2f}"

    def set_live_grid_cell(self, i: int) -> bool:
        """Show grid cell ``i`` in the big view; False when there is no such cell."""
        if self.grid_unit is None or not 0 <= i < len(self.grid_unit):
            return False
        side = self.grid_side_done()
        r, c = divmod(i, side)
        self.live_unit, self.live_norm = self.grid_unit[i:i + 1], None
        self.live_title_text = f"φ = {90 * r / (side - 1):.0f}°, φ' = {90 * c / (side - 1):.0f}°"
        return True

    def grid_side_done(self) -> int:
        """Frames per side of the decoded grid (0 without one)."""
        return 0 if self.grid_unit is None else int(round(math.sqrt(len(self.grid_unit))))

    # ---- slider --------------------------------------------------------------------------------------
    def set_t(self, t: float) -> None:
        """The slider moved to path parameter t in [0, 1] (its frame is decoded later, see ``set_live``)."""
        self.live_t = min(1.0, max(0.0, float(t)))
        if self.live_unit is None:
            self.live_title_text = f"t = {self.live_t:.2f}"

    @staticmethod
    def slider_value(t: float) -> int:
        """The slider position of path parameter t in [0, 1]."""
        return int(round(min(1.0, max(0.0, float(t))) * SCRUB_TICKS))

    @staticmethod
    def t_of_slider(value: int) -> float:
        """The path parameter of slider position ``value``."""
        return value / SCRUB_TICKS

    def frame_of(self, t: float) -> int:
        """The strip frame nearest to t."""
        return int(round(t * (self.shown_frames() - 1)))

    def t_of_frame(self, i: int) -> float:
        """The path parameter of strip frame ``i``."""
        return i / max(1, self.shown_frames() - 1)

    def shown_frames(self) -> int:
        """Frames in the strip shown (the decoded one, else the Frames setting)."""
        return len(self.frames_unit) if self.frames_unit is not None else self.settings.frames

    def can_scrub(self) -> bool:
        """Whether the slider decodes frames (a walk is decoded)."""
        return self.status == "done" and self.frames_unit is not None

    # ---- images (uint8, as shown) -------------------------------------------------------------------
    def _tiles(self, done: np.ndarray | None, n: int) -> np.ndarray:
        """``done`` (k, C, H, W) in [0, 1] followed by n − k grey placeholder tiles, uint8."""
        from genviz.backend.imaging import to_uint8  # numpy only (genviz.backend imports torch: not at import time)
        out = np.full((n, *self.model.data_shape), PLACEHOLDER, np.uint8)
        if done is not None and len(done):
            out[:len(done)] = to_uint8(done[:n])
        return out

    def strip_images(self) -> np.ndarray | None:
        """The strip's tiles (N, C, H, W) uint8: the decoded walk, or the frames decoded so far and placeholders
        (running or stopped); None when there is nothing to show."""
        if self.status == "done" and self.frames_unit is not None:
            return self._tiles(self.frames_unit, len(self.frames_unit))
        if self.status == "running":
            return self._tiles(None if self.partial is None else self.partial.strip, self._running[0])
        if self.status == "idle" and self.partial is not None:
            return self._tiles(self.partial.strip, self.partial.n_strip)
        return None

    def grid_images(self) -> np.ndarray | None:
        """The grid's tiles (side², C, H, W) uint8, as ``strip_images``; None without a grid."""
        if self.status == "done":
            return None if self.grid_unit is None else self._tiles(self.grid_unit, len(self.grid_unit))
        if self.status == "running" and self._running[1]:
            return self._tiles(None if self.partial is None else self.partial.grid, self._running[1] ** 2)
        if self.status == "idle" and self.partial is not None and self.partial.n_grid:
            return self._tiles(self.partial.grid, self.partial.n_grid)
        return None

    def grid_cols(self) -> int:
        """Tiles per row of the grid shown."""
        if self.status == "done":
            return max(1, self.grid_side_done())
        if self.status == "running":
            return max(1, self._running[1])
        return max(1, int(round(math.sqrt(self.partial.n_grid)))) if self.partial is not None else 1

    def strip_message(self) -> str:
        """What the strip says instead of images."""
        return f"error: {self.error}" if self.status == "error" else ""

    def grid_message(self) -> str:
        """What the grid says instead of images."""
        return "grid off" if self.status in ("running", "done") and self.grid_images() is None else ""

    def live_image(self) -> np.ndarray | None:
        """The big view's frame (1, C, H, W) uint8, or None."""
        if self.live_unit is None:
            return None
        from genviz.backend.imaging import to_uint8
        return to_uint8(self.live_unit)

    # ---- texts ---------------------------------------------------------------------------------------
    def progress(self) -> tuple[int, int]:
        """(frames decoded, frames in all) for the progress bar."""
        if self.status == "running":
            n, side, _ = self._running
            total = n + side * side
            return (self.partial.decoded if self.partial is not None else 0), total
        if self.status == "done":
            total = len(self.frames_unit) + (0 if self.grid_unit is None else len(self.grid_unit))
            return total, total
        if self.partial is not None:  # stopped
            return self.partial.decoded, self.partial.total
        return 0, 1

    def strip_title(self) -> str:
        """The strip's title."""
        if self.status == "running":
            n, _, method = self._running
            if self.partial is None:
                return f"strip A → B ({method}) — encoding endpoints…"
            return f"strip A → B — decoding {len(self.partial.strip)}/{n}…"
        if self.status == "done":
            return f"strip A → B: {self.method_done}, {len(self.frames_unit)} frames"
        if self.status == "error":
            return "strip — failed"
        if self.partial is not None:
            return f"strip A → B — stopped at {len(self.partial.strip)}/{self.partial.n_strip}"
        return "strip A → B"

    def grid_title(self) -> str:
        """The grid's title."""
        if self.status == "done" and self.grid_unit is not None:
            side = self.grid_side_done()
            return f"grid {side}×{side}: {GRID_WHAT[self.method_done]}"
        if self.status == "running" and self._running[1]:
            side = self._running[1]
            return f"grid {side}×{side}: {GRID_WHAT[self._running[2]]}"
        return f"grid ({GRID_WHAT[self.settings.method]})" if self.settings.grid else "grid off"

    def info_text(self) -> str:
        """The sentence under the strip: the latent, the norms along the strip, the frame-to-frame change."""
        if self.status != "done" or self.frames_unit is None:
            return ""
        n = len(self.frames_unit)
        steps = np.sqrt((np.diff(self.frames_unit.reshape(n, -1).astype(np.float64), axis=0) ** 2).mean(1))
        return (f"{self.space_desc}. Along the strip ‖z‖ goes {self.norms.min():.2f}–{self.norms.max():.2f} "
                f"(√d = {self.typical:.2f}); frame-to-frame RMS change: largest {steps.max():.3f}, "
                f"median {np.median(steps):.3f}. Click a frame or drag the slider to scrub.")

    def live_message(self) -> str:
        """What the big view says while it has no frame."""
        if self.live_unit is not None or not self.supported:
            return ""
        return "" if self.status in ("running", "done") else "press Interpolate"

    def done_message(self) -> str:
        """The status-bar line after a walk."""
        return f"interpolated {len(self.frames_unit)} frames ({self.method_done}, {self.space_desc})"

    def caption(self) -> str:
        """The plain-words caption under the panel."""
        s = self.settings
        return interpolation_caption(self.status, s.method, self.live_t, s.frames, s.grid)

    # ---- sessions ------------------------------------------------------------------------------------
    def session_state(self) -> dict:
        """The walk as data: path settings, endpoints (seeds and image specs; a chain sample is saved as its
        seed-free description only and comes back as seed 0), slider position, picker page, and whether a
        walk had been decoded (restoring then decodes it again: same seeds, same pixels)."""
        eps = []
        for e in self.endpoints:
            if e["kind"] == "seed":
                eps.append({"seed": e["seed"]})
            elif e["kind"] == "image":
                eps.append({"image": e["spec"], "label": e["label"]})
            else:
                eps.append({"seed": 0, "was": e.get("label", "")})
        s = self.settings
        return {"method": s.method, "frames": s.frames, "grid": s.grid, "grid_side": s.grid_side,
                "ddim_steps": s.ddim_steps, "endpoints": eps, "t": self.live_t, "picker_seed": s.picker_seed,
                "digit_page": s.digit_page, "decoded": self.status == "done"}

    def apply_session(self, data: dict) -> tuple[float, bool]:
        """Take settings and endpoints from ``session_state()``-style data (also a preset's ``state``; missing
        keys keep their values). Returns (t, decoded). Raises ValueError on bad data, changing nothing."""
        if not isinstance(data, dict):
            raise ValueError(f"an interpolation session is a dict, got {type(data).__name__}")
        settings = self.settings.updated(data)
        endpoints = parse_endpoints(data.get("endpoints", []), self.endpoints)
        try:
            t = float(data.get("t", 0.0))
        except (TypeError, ValueError):
            raise ValueError(f"t must be a number in [0, 1], got {data.get('t')!r}") from None
        if not math.isfinite(t):
            raise ValueError(f"t must be a number in [0, 1], got {t}")
        self.settings, self.endpoints = settings, endpoints
        self.set_t(t)
        return self.live_t, bool(data.get("decoded"))
