"""The "Few steps" panel: true denoising densities vs the DDPM Gaussian for 1000, 100, 8 and 4 steps."""
from .panel import FewStepsPanel

__all__ = ["FewStepsPanel"]
