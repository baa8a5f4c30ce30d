"""Panels of the main window: checkpoint browser, chain, and the later-release placeholders."""
