"""The VAEBM before/after panel (``VAEBMPanel``): ``model`` is the Qt-free state, ``panel`` the widgets."""
from .model import BeforeAfterState, Settings, frames_job

__all__ = ["BeforeAfterState", "Settings", "frames_job"]
