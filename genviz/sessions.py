"""One schema for session (``.genviz``) and preset files, checked before anything is applied. Qt-free.

``read_session_file(path)`` and ``check_preset(data, name)`` refuse a bad file in one ``ValueError`` line (the
app then keeps its current state): regular file, size (``MAX_SESSION_BYTES`` / ``MAX_PRESET_BYTES``, unread
when larger), nesting depth, finite numbers, known format and version, known panels, each panel's state an
object; the chain panel's state in full (``CHAIN_STATE``: sampler known and fit for the checkpoint's family,
steps, batch and seeds bounded, branches a list whose parents exist and come first) and the chain's history
bounded by the memory estimate (``backend.validate``). The other panels check their own values on restore and
change nothing when one is bad (``apply_session`` / ``parse_session``).
"""
from __future__ import annotations

from pathlib import Path

from .backend.safe_io import read_json
from .backend.validate import Anything, Bool, Float, Int, ListOf, Obj, Text, check, check_memory, estimate_bytes
from .panels import panel_keys

SESSION_FORMAT = "genviz-session"
SESSION_VERSION = 1
MAX_SESSION_BYTES = 16 * 2**20   # a session holds a few base64 PNG drawings: ~100 KB
MAX_PRESET_BYTES = 2**20
MAX_SEED = 2**31 - 1             # the chain panel's seed box (a Qt int)
CHAIN_LIMITS = {"steps": 100_000, "n": 64, "branches": 64, "speed": 2}  # the chain panel's boxes and speeds


def _params() -> Obj:
    return Obj()  # values: checked by _check_params (scalars only)


_RUN = {"sampler": Text(60, name=True), "steps": Int(1, CHAIN_LIMITS["steps"]), "seed": Int(0, MAX_SEED),
        "n": Int(1, CHAIN_LIMITS["n"]), "params": _params()}
CHAIN_STATE = Obj({
    "settings": Obj(_RUN), "chain": Obj(_RUN), "speed": Int(0, CHAIN_LIMITS["speed"]),
    "branches": ListOf(Obj({"sampler": Text(60, name=True), "params": _params(), "seed": Int(0, MAX_SEED),
                            "start": Int(0, CHAIN_LIMITS["steps"]), "parent": Anything(),
                            "length": Int(0, CHAIN_LIMITS["steps"])}), max_len=CHAIN_LIMITS["branches"]),
    "active": Int(0, CHAIN_LIMITS["branches"] - 1), "position": Int(0, CHAIN_LIMITS["steps"]),
    "selected": Int(0, CHAIN_LIMITS["n"] - 1),
})
SESSION = Obj({"format": Text(60), "version": Int(0, 10**6), "checkpoint": Text(4096), "model": Text(200),
               "device": Text(40), "panel": Text(40), "panels": Obj()}, required=("format", "checkpoint", "panels"))
PRESET = Obj({"name": Text(60, name=True), "title": Text(200), "description": Text(2000), "checkpoint": Text(4096),
              "panel": Text(40), "state": Obj(), "run": Bool(), "order": Float(-1e9, 1e9)},
             required=("name", "title", "description", "checkpoint", "panel", "state"))


def _check_params(params, where: str) -> None:
    for k, v in params.items():
        if not (isinstance(v, (bool, int, float)) or (isinstance(v, str) and len(v) <= 100)):
            raise ValueError(f"{where}.{k} must be a number, a boolean or a short string, got {type(v).__name__}")
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            check(v, Float(-1e12, 1e12), f"{where}.{k}")


def check_chain_state(state, where: str, family: str | None = None) -> None:
    """Check a chain panel state (``ChainPanel.session_state()``; a preset's ``state``). With ``family`` (the
    checkpoint's), every sampler must be registered and run on it (this imports the samplers, hence torch).
    Raises ValueError (one line)."""
    check(state, CHAIN_STATE, where)
    runs = [(f"{where}.{k}", state[k]) for k in ("settings", "chain") if k in state]
    branches = state.get("branches", [])
    runs += [(f"{where}.branches[{i}]", b) for i, b in enumerate(branches)]
    for w, run in runs:
        if "params" in run:
            _check_params(run["params"], f"{w}.params")
        if "sampler" in run and family is not None:  # the registry imports torch: only when a checkpoint is known
            _check_sampler(run["sampler"], f"{w}.sampler", family)
    for i, b in enumerate(branches):
        parent = b.get("parent")
        if i == 0:
            if parent not in (None, 0):
                raise ValueError(f"{where}.branches[0] is the chain itself: it has no parent, got {parent!r}")
            continue
        check(1 if parent is None else parent, Int(1, i), f"{where}.branches[{i}].parent (an earlier branch, 1-based)")
    if "active" in state and branches and state["active"] >= len(branches):
        raise ValueError(f"{where}.active {state['active']} names no branch (there are {len(branches)})")


def _check_sampler(name: str, where: str, family: str) -> None:
    from .backend.samplers import SAMPLERS
    spec = SAMPLERS.get(name)
    if spec is None:
        raise ValueError(f"{where} {name!r} is not a known sampler (genviz samplers lists them)")
    if family not in spec.families():
        raise ValueError(f"{where} {name!r} does not run on a {family} model")


def _chain_memory(state, meta: dict | None, where: str) -> None:
    """The chain's kept history (every record of every branch: x and x0_hat) against the free memory."""
    import math
    if meta is None:
        return
    shape = meta.get("data", {}).get("shape", [])
    elements = math.prod(shape) if shape else 1
    run = {**state.get("settings", {}), **state.get("chain", {})}
    n = run.get("n", 16)
    steps = max([run.get("steps", 50)] + [b.get("length", 0) for b in state.get("branches", [])])
    records = 2 * n * (steps + 1) * max(len(state.get("branches", [])), 1)
    check_memory(estimate_bytes(0, 0, 0, elements, 0, kept=records), f"{where}: {n} samples x {steps} steps")


def check_panel_state(panel: str, state, where: str, meta: dict | None = None) -> None:
    """One panel's state: a known panel, an object; the chain's in full (``check_chain_state``, memory)."""
    if panel not in panel_keys():
        raise ValueError(f"{where}: unknown panel {panel!r} (known: {', '.join(panel_keys())})")
    check(state, Obj(), where)
    if panel == "chain":
        check_chain_state(state, where, meta.get("family") if meta else None)
        _chain_memory(state, meta, where)


def _checkpoint_metadata(name: str, where: str) -> dict | None:
    from .backend.checkpoints import CheckpointError, read_metadata
    try:
        return read_metadata(name)
    except CheckpointError as e:
        raise ValueError(f"{where}: checkpoint {e}") from None


def check_session(data, name: str = "session") -> dict:
    """Check a parsed session (``DemoController.session_dict``). Returns it. Raises ValueError (one line)."""
    if not isinstance(data, dict) or data.get("format") != SESSION_FORMAT:
        fmt = data.get("format") if isinstance(data, dict) else None
        raise ValueError(f"{name}: not a genviz session (format {fmt!r})")
    check(data, SESSION, name)
    if data.get("version", 0) > SESSION_VERSION:
        raise ValueError(f"{name}: session version {data['version']} is newer than this genviz reads ({SESSION_VERSION})")
    if "panel" in data and data["panel"] not in (*panel_keys(), "start"):
        raise ValueError(f"{name}: unknown panel {data['panel']!r} (known: {', '.join(panel_keys())})")
    meta = _checkpoint_metadata(data["checkpoint"], name) if "chain" in data["panels"] else None
    for panel, state in data["panels"].items():
        check_panel_state(panel, state, f"{name}: panels.{panel}", meta)
    return data


def read_session_file(path) -> dict:
    """Read and check a ``.genviz`` session file (bounded read, ``check_session``). Raises ValueError naming it."""
    data = read_json(path, "session file", MAX_SESSION_BYTES)
    return check_session(data, Path(path).name)


def check_preset(data, name: str, with_checkpoint: bool = False) -> dict:
    """Check a parsed preset (``genviz.presets``). ``with_checkpoint``: also read the checkpoint's metadata (the
    chain's samplers must fit its family). Returns it. Raises ValueError (one line)."""
    check(data, PRESET, name)
    if data["panel"] not in panel_keys():
        raise ValueError(f"{name}: unknown panel {data['panel']!r} (expected one of {', '.join(panel_keys())})")
    meta = _checkpoint_metadata(data["checkpoint"], name) if with_checkpoint and data["panel"] == "chain" else None
    check_panel_state(data["panel"], data["state"], f"{name}: state", meta)
    return data
