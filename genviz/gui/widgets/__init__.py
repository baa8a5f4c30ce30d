"""Reusable widgets: image grids and sampler-parameter forms."""
