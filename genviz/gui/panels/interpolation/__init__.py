"""The interpolation panel (``InterpolationPanel``): walk a line or a 4-corner grid through a model's latent.

Modules: ``settings`` and ``model`` (the Qt-free state: settings, endpoints, session, the numbers and texts
shown, validation), ``controls`` / ``views`` / ``norm_plot`` (widgets), ``jobs`` (the engine work), ``exports``
(strip PNG, walk GIF) and ``panel`` (the wiring). The walk itself is ``genviz.backend.walk``.

The Qt classes are imported on first use, so that ``model`` and ``settings`` import without PySide6.
"""
from .model import InterpolationState
from .settings import CORNERS, IMAGE_SUFFIXES, METHOD_TITLES, METHODS, PICKER_N, SCRUB_TICKS, WalkSettings

_QT = {"InterpolationPanel": "panel", "NormPlot": "norm_plot", "METHOD_COLORS": "norm_plot", "EndpointRow": "controls",
       "TileView": "controls"}


def __getattr__(name: str):
    if name in _QT:
        import importlib
        return getattr(importlib.import_module(f"{__name__}.{_QT[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["CORNERS", "IMAGE_SUFFIXES", "METHODS", "METHOD_COLORS", "METHOD_TITLES", "PICKER_N", "SCRUB_TICKS",
           "EndpointRow", "InterpolationPanel", "InterpolationState", "NormPlot", "TileView", "WalkSettings"]
