"""Nothing the user drew is lost: the autosaved drawing is kept in a history folder before a preset or a session
replaces it, and an autosave file that cannot be read is set aside (renamed), never deleted. Qt-free.

Layout of the autosave folder (``panel.autosave_dir()``)::

    drawing.png, mask.png                 the current drawing (``model.write_drawing``)
    history/drawing-YYYYmmdd-HHMMSS.png   drawings kept before a preset/session replaced them (newest HISTORY_KEEP)
    drawing.png.unreadable-YYYYmmdd-HHMMSS  an autosave file that could not be read, set aside
"""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from .model import autosave_paths

HISTORY_KEEP = 20


def _stamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")


def keep_in_history(folder: Path) -> Path | None:
    """Copy the autosaved drawing (and mask) of ``folder`` into ``folder/history/`` unless the newest kept copy
    already holds the same bytes; keep the newest ``HISTORY_KEEP``. Returns the kept drawing's path (None when
    there is no autosaved drawing). Raises OSError."""
    ink_p, mask_p = autosave_paths(folder)
    if not ink_p.is_file():
        return None
    hist = Path(folder) / "history"
    hist.mkdir(parents=True, exist_ok=True)
    kept = sorted(hist.glob("drawing-*.png"))
    data = ink_p.read_bytes()
    if kept and kept[-1].read_bytes() == data:
        return kept[-1]
    stamp = _stamp()
    target = hist / f"drawing-{stamp}.png"
    n = 1
    while target.exists():
        target = hist / f"drawing-{stamp}-{n}.png"
        n += 1
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)
    if mask_p.is_file():
        shutil.copyfile(mask_p, target.with_name(target.name.replace("drawing-", "mask-", 1)))
    for old in sorted(hist.glob("drawing-*.png"))[:-HISTORY_KEEP]:
        old.unlink(missing_ok=True)
        old.with_name(old.name.replace("drawing-", "mask-", 1)).unlink(missing_ok=True)
    return target


def set_aside(folder: Path) -> list[Path]:
    """Rename the autosave files of ``folder`` to ``NAME.unreadable-STAMP`` (kept, no longer read at start-up);
    returns the new paths. Raises OSError."""
    out = []
    stamp = _stamp()
    for p in autosave_paths(folder):
        if p.exists() or p.is_symlink():
            target = p.with_name(f"{p.name}.unreadable-{stamp}")
            os.replace(p, target)
            out.append(target)
    return out
