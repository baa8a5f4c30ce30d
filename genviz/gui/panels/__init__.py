"""Panels of the main window: the checkpoint browser and the panels listed in ``genviz.panels.PANELS``."""
