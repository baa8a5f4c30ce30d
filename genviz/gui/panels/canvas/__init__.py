"""The canvas panel: draw a digit, get images (SDEdit, masked editing), stage, accept, live mode (``CanvasPanel``).

``model.py`` holds the Qt-free state (settings, staging, latency, texts, session data), ``generation.py`` the
engine-thread job, ``drawing.py`` / ``controls.py`` / ``staging_view.py`` the three columns' widgets,
``actions.py`` and ``panel.py`` the panel that wires them. All torch work runs on the window's ``Engine`` thread.
"""
from ...widgets.pixmaps import unit_to_pixmap
from .model import DEFAULT_DRAWING, RESOURCES, CanvasSettings, CanvasState, model_view
from .panel import CanvasPanel, autosave_dir

__all__ = ["CanvasPanel", "CanvasSettings", "CanvasState", "DEFAULT_DRAWING", "RESOURCES", "autosave_dir",
           "model_view", "unit_to_pixmap"]
