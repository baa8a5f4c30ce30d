"""The density panel (``DensityPanel``): a 2-D toy model's data, samples, live particles, energy / log-density,
normalised density, score field and readouts; toy models trained live.

Modules: ``model`` (the Qt-free state: settings, session, texts), ``controls`` / ``latent`` (control groups),
``plot`` / ``figure`` (the plot and the four-column figure), ``jobs`` (engine jobs), ``panel`` (the wiring),
``bench`` (the particle redraw benchmark). The computing lives in ``genviz.backend.toy.views`` and ``.live``.
The Qt classes are imported on first use, so ``model`` imports without Qt.
"""
from .model import ARROWS, DATASETS, IMAGE_VIEWS, MAX_DOTS, TRAIL, TRAIL_MAX, DensityState, supports

_LAZY = {"DensityPanel": ".panel", "bench_particles_fps": ".bench"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    if name == "FAMILIES":  # from the training recipes (``model.trainable_families``)
        from .model import trainable_families
        return trainable_families()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["ARROWS", "DATASETS", "IMAGE_VIEWS", "MAX_DOTS", "TRAIL", "TRAIL_MAX", "DensityPanel", "DensityState",
           "bench_particles_fps", "supports"]
