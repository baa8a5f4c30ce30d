"""The canvas's generation as a generator job for ``Engine.submit_job`` (runs on the engine thread). No Qt.

``sdedit_job`` converts the drawing with ``conditioning.image_to_model`` / ``mask_to_model``, loads the guide
classifier through ``conditioning.recommended_settings`` when guidance is on, runs ``conditioning.sdedit`` and
returns the candidates in [0, 1] with the noised drawing x_t0 as a ready tile strip (``imaging.make_grid``).
It yields a ``Progress`` between these stages (a device switch or a load submitted meanwhile runs between two);
cancelling the job (``Job.cancel``) stops the sampler at its next step.
"""
from __future__ import annotations

from typing import Callable, Iterator

import numpy as np

from .model import Progress


def guide_classifier(model, cached=None):
    """The guide classifier for ``model``'s images, on its device: ``cached`` when it fits, else the one
    ``conditioning.recommended_settings`` loads. Engine thread.

    Raises:
        ValueError: there is no guide classifier for these images (the message names the checkpoint).
    """
    from ....backend.conditioning import GUIDE_CHECKPOINT, recommended_settings
    if cached is not None and tuple(cached.data_shape) == tuple(model.data_shape):
        return cached.to(model.device)
    clf = recommended_settings(model).get("guide_classifier")
    if clf is None:
        shape = "×".join(map(str, model.data_shape))
        raise ValueError(f"guidance needs the {GUIDE_CHECKPOINT} checkpoint, a classifier of {shape} images "
                         "(none is installed for these images)")
    return clf


def sdedit_job(model, ink: np.ndarray, mask: np.ndarray | None, params: dict, guide=None,
               cancelled: Callable[[], bool] = lambda: False) -> Iterator[Progress]:
    """SDEdit on the drawing, one stage per ``next()``.

    Args:
        model: the loaded diffusion model of images.
        ink: the (S, S, 3) uint8 canvas (already in the model's convention: not inverted).
        mask: the (S, S) uint8 mask (255 = regenerate) or None.
        params: ``CanvasSettings.as_dict()`` (``sdedit`` keyword arguments).
        guide: a guide classifier loaded earlier (reused when it fits the model).
        cancelled: polled after every sampler step; True stops the chain (``InterruptedError``).
    Yields:
        ``Progress`` before each stage.
    Returns:
        dict: ``samples`` and ``x_t0`` (K, C, H, W) float32 in [0, 1], ``x_t0_grid`` (uint8 strip of x_t0, 2x),
        ``seconds``, ``t_start``, ``params`` (with ``guided_to`` when guided), ``model`` (its name) and ``guide``
        (the classifier used, for the next job).
    """
    yield Progress("preparing the drawing", 0.0)
    from ....backend.conditioning import image_to_model, mask_to_model, model_to_unit, sdedit
    from ....backend.imaging import make_grid
    params = dict(params)
    y = image_to_model(ink, model, invert=False)
    m = mask_to_model(mask, model) if mask is not None else None
    kw = dict(params)
    if kw.get("guidance", 0) > 0:
        guide = guide_classifier(model, guide)
        kw["guide_classifier"] = guide
        yield Progress("guide classifier ready", 0.0)
    else:
        kw.pop("guide_class", None)
    yield Progress(f"sampling: {params['sampler']}, {params['steps']} steps", None)
    res = sdedit(model, y, mask=m, callback=lambda *_: not cancelled(), **kw)
    if res.guide_class is not None:
        params["guided_to"] = res.guide_class
    x_t0 = model_to_unit(res.x_t0, model)
    from ....backend import completion
    grid = (completion.canvas_strip(model, y, m, params["t0"]) if completion.supports(model)  # given pixels, NLL map
            else make_grid(x_t0, nrow=len(x_t0), pad=1, scale=2, pad_value=64))
    samples = model_to_unit(res.samples, model)
    if m is not None:  # kept pixels exactly as drawn: model space -> [0, 1] would round grey levels by an ulp
        import numpy as np

        from .model import model_view
        keep = m.detach().cpu().numpy() < 0.5  # (1, H, W), 1 = regenerate
        samples = np.where(keep[None], model_view(ink, tuple(model.data_shape))[None], samples).astype(np.float32)
    return {"samples": samples, "x_t0": x_t0, "x_t0_grid": grid,
            "seconds": res.seconds, "t_start": res.t_start, "params": params, "model": str(model.name),
            "guide": guide}
