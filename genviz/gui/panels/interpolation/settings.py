"""The interpolation panel's settings and endpoints as plain data (no Qt, no torch): constants, ranges, validation.

``model.InterpolationState`` holds them; sessions and presets go through ``WalkSettings.updated``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

METHODS = ("lerp", "slerp", "rho")  # genviz.backend.interpolation.METHODS (not imported: it imports torch)
METHOD_TITLES = {"lerp": "lerp", "slerp": "slerp", "rho": "z_ρ = ρ z₁ + √(1−ρ²) z₂"}
GRID_WHAT = {"rho": "Real-NVP 4 corners", "lerp": "bilinear", "slerp": "nested slerp"}
CORNERS = "ABCD"
SCRUB_TICKS = 200
PICKER_N = 12
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
SEED_MAX = 2 ** 31 - 1
FRAMES_RANGE = (2, 32)
GRID_SIDE_RANGE = (2, 12)
STEPS_RANGE = (1, 1000)
PICKER_SEED_RANGE = (0, SEED_MAX - PICKER_N)
DIGIT_PAGE_RANGE = (0, 99)  # the held-out split has 100 digits per class
PLACEHOLDER = 60  # grey level of a tile not decoded yet
NOTICE = "Load a VAE, GAN or diffusion model to walk through its latent space."


def _as_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {value!r}") from None


def _clamp(value, lo: int, hi: int, name: str) -> int:
    return max(lo, min(hi, _as_int(value, name)))


@dataclass
class WalkSettings:
    """The path and picker settings (the panel's spin boxes and combo).

    Attributes:
        method: ``lerp``, ``slerp`` or ``rho``.
        frames: frames along the strip A → B, in ``FRAMES_RANGE``.
        grid: whether to decode the 4-corner grid too.
        grid_side: frames per side of the grid, in ``GRID_SIDE_RANGE``.
        ddim_steps: deterministic DDIM steps (diffusion models only), in ``STEPS_RANGE``.
        picker_seed: the first of the ``PICKER_N`` seeds the Samples picker shows.
        digit_page: the page of held-out digits the Real digits picker shows.
    """

    method: str = "slerp"
    frames: int = 10
    grid: bool = True
    grid_side: int = 5
    ddim_steps: int = 50
    picker_seed: int = 100
    digit_page: int = 0

    @property
    def side(self) -> int:
        """Frames per side of the grid to decode (0 when the grid is off)."""
        return self.grid_side if self.grid else 0

    @property
    def n_corners(self) -> int:
        """Endpoints the walk uses: A, B, plus C, D with the grid."""
        return 4 if self.grid else 2

    def updated(self, data: dict) -> WalkSettings:
        """A copy with the keys of ``data`` (session names: ``method``, ``frames``, ``grid``, ``grid_side``,
        ``ddim_steps``, ``picker_seed``, ``digit_page``) applied; numbers are clamped to their ranges, as the
        spin boxes do. Raises ValueError: unknown method, a value that is not a number."""
        d = asdict(self)
        method = data.get("method", self.method)
        if method not in METHODS:
            raise ValueError(f"unknown interpolation method {method!r}; expected one of {', '.join(METHODS)}")
        d["method"] = method
        d["grid"] = bool(data.get("grid", self.grid))
        for key, (lo, hi) in (("frames", FRAMES_RANGE), ("grid_side", GRID_SIDE_RANGE), ("ddim_steps", STEPS_RANGE),
                              ("picker_seed", PICKER_SEED_RANGE), ("digit_page", DIGIT_PAGE_RANGE)):
            d[key] = _clamp(data.get(key, d[key]), lo, hi, key)
        return WalkSettings(**d)


def seed_endpoint(seed: int) -> dict:
    """Endpoint z_seed (``{"kind": "seed", "seed": s}``). Raises ValueError outside 0..2³¹−1."""
    s = int(seed)
    if not 0 <= s <= SEED_MAX:
        raise ValueError(f"seed must be in 0..{SEED_MAX}, got {seed}")
    return {"kind": "seed", "seed": s}


def image_endpoint(spec: str, label: str | None = None) -> dict:
    """Endpoint from a real image: a file path or ``mnist:K`` (``{"kind": "image", "spec", "label"}``)."""
    return {"kind": "image", "spec": str(spec), "label": label or Path(str(spec)).name}


def endpoint_text(e: dict) -> str:
    """What an endpoint row says: ``z_s`` for a seed, ``image: label`` otherwise."""
    return f"z_{e['seed']}" if e["kind"] == "seed" else f"image: {e['label']}"


def endpoint_value(e: dict):
    """The ``genviz.backend.walk.Endpoint`` of an endpoint: seed int, image spec str, or image tensor."""
    return {"seed": lambda: e["seed"], "image": lambda: e["spec"], "tensor": lambda: e["x"]}[e["kind"]]()


def parse_endpoints(given, current: list[dict]) -> list[dict]:
    """``current`` with the first endpoints replaced by a session's ``endpoints`` list (``{"seed": s}`` or
    ``{"image": spec, "label": ...}``, at most 4). Raises ValueError: not a list of dicts, a bad seed."""
    if not isinstance(given, list):
        raise ValueError("endpoints must be a list")
    out = list(current)
    for i, e in enumerate(given[:4]):
        if not isinstance(e, dict):
            raise ValueError(f"endpoint {CORNERS[i]} must be a dict, got {e!r}")
        if "image" in e:
            out[i] = image_endpoint(str(e["image"]), e.get("label"))
        else:
            out[i] = seed_endpoint(_as_int(e.get("seed", i), "seed"))
    return out
