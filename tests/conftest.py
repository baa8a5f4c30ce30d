"""Suite-wide settings: Qt renders offscreen; torch uses one thread (the suite's models are tiny, and
one thread avoids oversubscribing CI's 2 cores)."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "1")
# the canvas panel autosaves the drawing: never into the user's app-data folder during tests
os.environ["GENVIZ_AUTOSAVE_DIR"] = __import__("tempfile").mkdtemp(prefix="genviz-autosave-")

import torch  # noqa: E402  (imported after the thread settings it reads)

torch.set_num_threads(1)
