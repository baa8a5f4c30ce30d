"""What long CLI work needs: outputs written whole or not at all, a progress bar on a terminal, quiet libraries.

- ``atomic_output(path)``: write to a hidden temp file beside ``path`` and rename it into place when the block
  ends normally; on an error or Ctrl-C the temp file is removed, so nothing half-written is left.
- ``Progress(total, label)``: a one-line bar on stderr, redrawn at most 10 times a second, only when stderr is a
  terminal (pipes and tests see nothing).
- ``quiet()``: library warnings (numpy RuntimeWarnings, torch UserWarnings, diffusers notices) silenced for a
  command, so a failing command's stderr is its one ``genviz: error:`` line (``GENVIZ_DEBUG=1`` shows them).
"""
from __future__ import annotations

import contextlib
import os
import sys
import time
import warnings
from pathlib import Path


@contextlib.contextmanager
def atomic_output(path):
    """Yield a temp path (same folder and suffix as ``path``) to write; rename it to ``path`` on success,
    remove it on any exception (KeyboardInterrupt included), which is re-raised."""
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.partial-{os.getpid()}{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


class Progress:
    """``update(done)`` draws ``label [#####-----] done/total`` on stderr when it is a terminal; ``close()``
    ends the line. Never raises for output problems."""

    def __init__(self, total: int, label: str, stream=None):
        self.total = max(int(total), 1)
        self.label = label
        self.stream = stream or sys.stderr
        self.on = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last = 0.0
        self._drawn = False

    def update(self, done: int) -> None:
        if not self.on:
            return
        now = time.monotonic()
        if now - self._last < 0.1 and done < self.total:
            return
        self._last = now
        frac = min(max(done / self.total, 0.0), 1.0)
        bar = "#" * int(frac * 30)
        try:
            self.stream.write(f"\r{self.label} [{bar:<30}] {done}/{self.total}")
            self.stream.flush()
            self._drawn = True
        except (OSError, ValueError):
            self.on = False

    def close(self) -> None:
        if self._drawn:
            with contextlib.suppress(OSError, ValueError):
                self.stream.write("\r" + " " * (len(self.label) + 45) + "\r")
                self.stream.flush()
        self._drawn = False


@contextlib.contextmanager
def quiet():
    """Silence library warnings (and numpy floating-point notices) for the block, unless ``GENVIZ_DEBUG`` is set."""
    if os.environ.get("GENVIZ_DEBUG"):
        yield
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            import numpy as np
        except ImportError:  # pragma: no cover
            yield
            return
        with np.errstate(all="ignore"):
            yield
