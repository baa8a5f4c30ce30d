"""SDEdit's default t0 for any model: the checkpoint's own measured value, else the same kept signal as the
value measured on ``mnist-ddpm``.

SDEdit (Meng et al. 2022, Alg. 1) starts from x_{t0} = √ᾱ_{t0} y + √(1 − ᾱ_{t0}) ε. What a drawing keeps is
√ᾱ_{t0}, not t0: the same fraction t0 = 0.6 keeps ᾱ ≈ 0.34 on ``mnist-ddpm``'s cosine schedule
(``squaredcos_cap_v2``, Nichol & Dhariwal 2021 Eq. 17) but ᾱ ≈ 0.026 on the linear schedule of Ho et al. 2020
(β 1e-4 … 0.02 over T = 1000), where almost nothing of the drawing survives. So, in this order:

1. the checkpoint's metadata ``canvas.t0`` (a value measured for that model, ``canvas.source`` naming the
   measurement; e.g. ``emoji-ddpm``'s, README "Colour");
2. for a model with ᾱ (``alphas_cumprod``): the t0 whose ᾱ is closest to ``REFERENCE_ALPHA_BAR`` (ᾱ of
   ``mnist-ddpm``'s schedule at ``DEFAULT_T0``, the value measured there: README "Stroke canvas");
3. ``DEFAULT_T0`` for anything else.

``recommended_settings`` adds the measured guided settings (``RECOMMENDED``) where the bundled guide
classifier fits the model's images. Torch only; nothing imports Qt.
"""
from __future__ import annotations

import math
from functools import lru_cache

import torch

DEFAULT_T0 = 0.6  # plain SDEdit on mnist-ddpm, a fraction of T, chosen from resources/sdedit/measurements.json
REFERENCE_SCHEDULE = ("squaredcos_cap_v2", 1000)  # mnist-ddpm's schedule, on which DEFAULT_T0 was measured
GUIDE_CHECKPOINT = "mnist-guide"
RECOMMENDED = dict(t0=0.9, ilvr=4, guidance=2.0)  # measured with mnist-guide: README "Stroke canvas"


@lru_cache(maxsize=1)
def reference_alpha_bar() -> float:
    """ᾱ at ``DEFAULT_T0`` on the reference schedule (≈ 0.341): the signal SDEdit's default keeps."""
    from .conditioning import t0_to_timestep
    from .schedules import alphas_cumprod_from_betas, make_betas
    name, T = REFERENCE_SCHEDULE
    acp = alphas_cumprod_from_betas(make_betas(name, T, 1e-4, 0.02))
    return float(acp[t0_to_timestep(DEFAULT_T0, T)])


def matched_t0(alphas_cumprod: torch.Tensor, target: float | None = None) -> float:
    """The t0 (a fraction of T, to 0.01) whose ᾱ_{round(t0·T) − 1} is closest to ``target`` in log ᾱ.

    Args:
        alphas_cumprod: (T,) ᾱ_t for t = 0..T−1, decreasing, in (0, 1].
        target: the ᾱ to keep (default ``reference_alpha_bar()``).
    Raises:
        ValueError: an empty or non-finite ``alphas_cumprod``, or a target outside (0, 1).
    """
    from .conditioning import t0_to_timestep
    target = reference_alpha_bar() if target is None else float(target)
    if not 0.0 < target < 1.0:
        raise ValueError(f"target ᾱ must be in (0, 1), got {target}")
    acp = torch.as_tensor(alphas_cumprod, dtype=torch.float64).reshape(-1)
    if acp.numel() == 0 or not bool(torch.isfinite(acp).all()):
        raise ValueError("alphas_cumprod must be a non-empty finite (T,) tensor")
    T = acp.numel()
    best, best_err = DEFAULT_T0, math.inf
    for k in range(1, 101):
        t0 = k / 100
        a = float(acp[t0_to_timestep(t0, T)].clamp(min=1e-12))
        err = abs(math.log(a) - math.log(target))
        if err < best_err - 1e-12:
            best, best_err = t0, err
    return best


def default_t0(model) -> tuple[float, str]:
    """SDEdit's default t0 for ``model`` and where it comes from (one line, for captions and tooltips).

    ``model``: any family object (``metadata`` dict; diffusion models carry ``alphas_cumprod``).
    Returns (t0 in [0, 1], reason), by the rules of the module docstring.
    """
    canvas = (getattr(model, "metadata", None) or {}).get("canvas") or {}
    t0 = canvas.get("t0")
    if isinstance(t0, (int, float)) and not isinstance(t0, bool) and math.isfinite(t0) and 0.0 <= t0 <= 1.0:
        return float(t0), str(canvas.get("source") or "measured for this model (its metadata)")
    acp = getattr(model, "alphas_cumprod", None)
    if acp is not None and torch.is_tensor(acp) and acp.numel() > 1:
        t0 = matched_t0(acp.detach().cpu())
        return t0, (f"keeps ᾱ ≈ {reference_alpha_bar():.2f}, as t0 = {DEFAULT_T0:g} on mnist-ddpm's cosine schedule")
    return DEFAULT_T0, "the default measured on mnist-ddpm"


def recommended_settings(model) -> dict:
    """The measured defaults for ``model``: with a guide classifier for its images (the bundled
    ``mnist-guide``), ``RECOMMENDED`` (t0 0.9, ILVR factor 4, guidance scale 2) plus ``guide_classifier``;
    otherwise plain SDEdit at ``default_t0(model)`` (0.6 on mnist-ddpm). ``t0_source`` says why."""
    from .checkpoints import CheckpointError, load_checkpoint, read_metadata
    try:
        meta = read_metadata(GUIDE_CHECKPOINT)
        fits = tuple(meta.get("data", {}).get("shape", ())) == tuple(model.data_shape)
    except CheckpointError:
        fits = False
    if not fits:
        t0, why = default_t0(model)
        return dict(t0=t0, ilvr=0, guidance=0.0, t0_source=why)
    return dict(RECOMMENDED, t0_source="measured with ILVR and mnist-guide (README \"Stroke canvas\")",
                guide_classifier=load_checkpoint(GUIDE_CHECKPOINT, device=model.device))
