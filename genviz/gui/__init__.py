"""genviz.gui: the PySide6 + pyqtgraph desktop explorer.

The GUI talks to ``genviz.backend`` only, and never imports torch at module import time: the window
shows first, then a background ``Engine`` thread imports torch, loads the model and runs chains.
Entry point: :func:`genviz.gui.app.run_gui`.
"""
