"""The "Samplers" panel: samplers × step counts from one seed, each chain's curves overlaid, click to open a chain."""
from .panel import ComparePanel

__all__ = ["ComparePanel"]
