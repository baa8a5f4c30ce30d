"""One-click demos: presets are JSON data files in ``resources/presets/`` (no code), read here without Qt.

A preset is a complete setup: the checkpoint, the panel, that panel's state in the same form as a saved
session (``panel.session_state()``: controls, seeds, branches...) and whether to run it on opening::

    {"name": "noise-to-digit", "title": "Watch noise become a digit", "description": "...",
     "checkpoint": "mnist-ddpm", "panel": "chain",
     "state": {"settings": {"sampler": "ddpm", "steps": 100, "seed": 3, "n": 16}, "speed": 1}, "run": true}
"""
from __future__ import annotations

import json
from pathlib import Path

from .panels import panel_keys

PRESET_DIR = Path(__file__).resolve().parents[1] / "resources" / "presets"
PRESENTATION_CONFIG = Path(__file__).resolve().parents[1] / "resources" / "presentation.json"
REQUIRED = ("name", "title", "description", "checkpoint", "panel", "state")


class PresetError(ValueError):
    """A preset file that is missing, unreadable or malformed (the message names the file)."""


def _check(data, path: Path) -> dict:
    if not isinstance(data, dict):
        raise PresetError(f"{path.name}: a preset is a JSON object")
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise PresetError(f"{path.name}: missing {', '.join(missing)}")
    if data["panel"] not in panel_keys():
        raise PresetError(f"{path.name}: unknown panel {data['panel']!r} (expected one of {', '.join(panel_keys())})")
    from .sessions import check_preset
    try:  # the one schema of sessions and presets (genviz.sessions): types, ranges, the panel's state
        return check_preset(data, path.name)
    except ValueError as e:
        raise PresetError(str(e)) from None


def load_preset_file(path: str | Path) -> dict:
    """Read and check one preset file (bounded: ``sessions.MAX_PRESET_BYTES``, nesting depth). Raises ``PresetError``."""
    from .backend.safe_io import read_json
    from .sessions import MAX_PRESET_BYTES
    path = Path(path)
    try:
        data = read_json(path, "preset", MAX_PRESET_BYTES)
    except ValueError as e:
        raise PresetError(f"cannot read preset {e}") from None
    return _check(data, path)


def list_presets(folder: str | Path | None = None) -> list[dict]:
    """Every valid preset in ``folder`` (default ``resources/presets``), sorted by their ``order`` field, then
    by file name."""
    folder = Path(folder) if folder else PRESET_DIR
    out = []
    for p in sorted(folder.glob("*.json")):
        try:
            out.append(load_preset_file(p))
        except PresetError:
            continue
    return sorted(out, key=lambda p: float(p.get("order", 1e9)))


def get_preset(name: str, folder: str | Path | None = None) -> dict:
    """The preset called ``name``. Raises ``PresetError`` listing the known names."""
    presets = list_presets(folder)
    for p in presets:
        if p["name"] == name:
            return p
    raise PresetError(f"unknown preset {name!r}; available: {', '.join(p['name'] for p in presets) or 'none'}")


def presentation_config(path: str | Path | None = None) -> dict:
    """Presentation mode's settings: ``font_pt``, ``speed`` (index into the chain speeds) and ``hide`` (names of
    controls to hide: ``"checkpoints"`` or ``"PANEL.CONTROL"``, see each panel's ``advanced_controls()``)."""
    defaults = {"font_pt": 15, "speed": 1, "hide": ["checkpoints"]}
    try:
        data = json.loads(Path(path or PRESENTATION_CONFIG).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return defaults
    return {**defaults, **{k: v for k, v in data.items() if k in defaults}}
