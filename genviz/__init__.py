"""genviz: a desktop explorer for deep generative models."""
__version__ = "0.1.0"
