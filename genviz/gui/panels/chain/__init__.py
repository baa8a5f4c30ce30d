"""The chain panel: watch a model turn noise into samples, step by step (``ChainPanel``).

View only: the state lives in a ``ChainState`` (plain Python, ``genviz.gui.chain_state``), the torch work in a
``ChainRunner`` run by the window's ``Engine`` thread. ``panel.py`` holds the actions, ``layout.py`` the
widgets, ``drawing.py`` the timer-driven redraw.
"""
from .layout import SPEEDS
from .panel import ChainPanel

__all__ = ["ChainPanel", "SPEEDS"]
