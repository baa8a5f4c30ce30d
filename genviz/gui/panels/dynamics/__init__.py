"""The "GAN dynamics" panel: the Dirac-GAN's phase portrait, gradient steps and their stability."""
from .panel import DynamicsPanel

__all__ = ["DynamicsPanel"]
