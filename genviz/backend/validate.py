"""One validation layer for what genviz reads from files and users, applied before any tensor is built.

Small frozen dataclasses describe a value (``Int``, ``Float``, ``Bool``, ``Text``, ``Shape``, ``Interval``,
``ListOf``, ``Obj``); ``check(value, spec, where)`` raises ``ValueError("where: reason")`` in one line, naming
the field and its allowed range. On top of these:

- ``check_metadata(meta)``: a genviz checkpoint's metadata (``METADATA``): types, ranges, finite numbers,
  names without newlines or path separators, data shape and range, schedule, default sampler (known and fit
  for the family), plus a walk over the whole document (depth <= ``MAX_DEPTH``, every number finite).
- ``check_diffusers_config(cfg, sched)``: a diffusers ``UNet2DModel`` config and scheduler config.
- ``plan_network(cls, config)``: the network built on PyTorch's ``meta`` device (no memory): its state-dict
  shapes and dtypes and its size in bytes, so a metadata-only width of 6,000 is refused before allocation;
  ``check_weights(plan, file_tensors)`` then compares a file's tensors (names, shapes, dtypes: int8 or int64
  where the network has floats is refused) before the real network is built.
- ``estimate_bytes`` / ``check_memory``: the memory a batch needs (network + activations + kept records),
  refused in one line when it exceeds ``available_bytes()`` (``MemAvailable``; ``GENVIZ_MEMORY_LIMIT``
  overrides, in bytes).

Code outside this module (new families, commands, services) validates its own inputs with the same
dataclasses: ``check(value, Obj({"steps": Int(1, 1000)}), "my-section")``.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

MAX_DEPTH = 16                  # nesting depth of any JSON document genviz reads
MAX_STEPS = 100_000             # chain steps / training timesteps
MAX_SIDE = 2048                 # image side in a checkpoint's data shape
MAX_ELEMENTS = 2**22            # elements of one sample (4 M: 2048 x 2048 x 1)
MAX_CONFIG_INT = 2**20          # any number in a network config (widths, depths, channels): bounds the meta build
ACTIVATION_FACTOR = 24          # bytes of activations per (sample element x widest layer), see estimate_bytes


@dataclass(frozen=True)
class Int:
    """A whole number (never a bool or a float) in ``lo..hi``."""
    lo: int
    hi: int


@dataclass(frozen=True)
class Float:
    """A finite real number (int accepted, bool refused) in ``[lo, hi]``; ``open_lo``: ``lo`` excluded."""
    lo: float
    hi: float
    open_lo: bool = False


@dataclass(frozen=True)
class Bool:
    """``true`` or ``false`` (not the string "false", not 0/1)."""


@dataclass(frozen=True)
class Text:
    """A string of at most ``max_len`` characters; ``name``: one line, no path separators or control
    characters; ``choices``: one of these."""
    max_len: int = 200
    name: bool = False
    choices: tuple = ()


@dataclass(frozen=True)
class Shape:
    """A per-sample shape: a list of positive ints whose length is in ``ranks``, sides <= ``max_side``,
    product <= ``max_elements``."""
    ranks: tuple = (1, 3)
    max_side: int = MAX_SIDE
    max_elements: int = MAX_ELEMENTS


@dataclass(frozen=True)
class Interval:
    """``[lo, hi]``: two finite numbers with lo < hi."""


@dataclass(frozen=True)
class ListOf:
    """A list of ``item`` values, ``min_len..max_len`` long."""
    item: Any
    max_len: int = 10_000
    min_len: int = 0


@dataclass(frozen=True)
class Obj:
    """A JSON object: known ``fields`` are checked, ``required`` must be present, other keys are kept (and
    listed by ``unknown_keys``) unless ``closed``; ``nulls``: a null value means "absent" (diffusers' configs)."""
    fields: dict = field(default_factory=dict)
    required: tuple = ()
    closed: bool = False
    nulls: bool = False


@dataclass(frozen=True)
class Anything:
    """Any JSON value (the document walk still bounds its depth and refuses non-finite numbers)."""


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _kind(v) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(v), "a number" if _is_num(v) else type(v).__name__)


def check(value, spec, where: str) -> None:
    """Check ``value`` against ``spec``. Raises ValueError(``"where: reason"``), one line."""
    if isinstance(spec, Anything):
        return
    if isinstance(spec, Int):
        if not _is_int(value):
            raise ValueError(f"{where} must be a whole number in {spec.lo}..{spec.hi}, got {_short(value)}")
        if not spec.lo <= value <= spec.hi:
            raise ValueError(f"{where} must be in {spec.lo}..{spec.hi}, got {_short(value)}")
    elif isinstance(spec, Float):
        if not _is_num(value) or not math.isfinite(value):
            raise ValueError(f"{where} must be a finite number in [{spec.lo:g}, {spec.hi:g}], got {_short(value)}")
        if not (spec.lo < value if spec.open_lo else spec.lo <= value) or value > spec.hi:
            lb = "(" if spec.open_lo else "["
            raise ValueError(f"{where} must be in {lb}{spec.lo:g}, {spec.hi:g}], got {value:g}")
    elif isinstance(spec, Bool):
        if not isinstance(value, bool):
            raise ValueError(f"{where} must be true or false, got {_short(value)}")
    elif isinstance(spec, Text):
        _check_text(value, spec, where)
    elif isinstance(spec, Shape):
        _check_shape(value, spec, where)
    elif isinstance(spec, Interval):
        if not (isinstance(value, list) and len(value) == 2 and all(_is_num(v) and math.isfinite(v) for v in value)):
            raise ValueError(f"{where} must be [lo, hi], two finite numbers, got {_short(value)}")
        if not value[0] < value[1]:
            raise ValueError(f"{where} must have lo < hi, got {_short(value)}")
    elif isinstance(spec, ListOf):
        if not isinstance(value, list):
            raise ValueError(f"{where} must be a list, got {_kind(value)}")
        if not spec.min_len <= len(value) <= spec.max_len:
            raise ValueError(f"{where} must hold {spec.min_len}..{spec.max_len} items, got {len(value)}")
        for i, v in enumerate(value):
            check(v, spec.item, f"{where}[{i}]")
    elif isinstance(spec, Obj):
        if not isinstance(value, dict):
            raise ValueError(f"{where} must be an object, got {_kind(value)}")
        missing = [k for k in spec.required if k not in value]
        if missing:
            raise ValueError(f"{where} lacks {', '.join(missing)}")
        for k, v in value.items():
            if v is None and spec.nulls:
                continue
            if k in spec.fields:
                check(v, spec.fields[k], f"{where}.{k}")
            elif spec.closed:
                raise ValueError(f"{where}: unknown key {_short(k)} (known: {', '.join(spec.fields)})")
    else:  # pragma: no cover - a programming error
        raise TypeError(f"unknown spec {spec!r}")


def _check_text(value, spec: Text, where: str) -> None:
    if not isinstance(value, str):
        raise ValueError(f"{where} must be a string, got {_kind(value)}")
    if len(value) > spec.max_len:
        raise ValueError(f"{where} is {len(value)} characters long (limit {spec.max_len})")
    if spec.name and (not value.strip() or any(c in value for c in "/\\") or any(ord(c) < 32 or ord(c) == 127
                                                                                for c in value)):
        raise ValueError(f"{where} must be one line without path separators or control characters, got {value!r:.80}")
    if spec.choices and value not in spec.choices:
        raise ValueError(f"{where} must be one of {', '.join(map(str, spec.choices))}, got {value!r:.80}")


def _check_shape(value, spec: Shape, where: str) -> None:
    if not isinstance(value, list) or not all(_is_int(s) and s > 0 for s in value):
        raise ValueError(f"{where} must be a list of positive integers, got {_short(value)}")
    if len(value) not in spec.ranks:
        raise ValueError(f"{where} must have {' or '.join(map(str, spec.ranks))} dimensions, got {len(value)}")
    if max(value) > spec.max_side or math.prod(value) > spec.max_elements:
        raise ValueError(f"{where} {value} is too large (sides <= {spec.max_side}, <= {spec.max_elements} elements)")


def _short(v) -> str:
    s = repr(v)
    return s if len(s) <= 60 else s[:57] + "..."


def check_document(value, where: str, max_depth: int = MAX_DEPTH) -> None:
    """Walk a parsed JSON document without recursion: depth <= ``max_depth`` and every number finite
    (Python's json accepts NaN and Infinity). Raises ValueError naming the first bad path."""
    stack = [(value, where, 0)]
    while stack:
        v, path, depth = stack.pop()
        if depth > max_depth:
            raise ValueError(f"{where}: nested deeper than {max_depth} levels (at {path[:80]})")
        if isinstance(v, dict):
            stack.extend((x, f"{path}.{k}", depth + 1) for k, x in v.items())
        elif isinstance(v, list):
            stack.extend((x, f"{path}[{i}]", depth + 1) for i, x in enumerate(v))
        elif isinstance(v, float) and not math.isfinite(v):
            raise ValueError(f"{path} must be a finite number, got {v}")


# ---- checkpoint metadata --------------------------------------------------------------------------------------

SCHEDULE = Obj({
    "num_train_timesteps": Int(1, MAX_STEPS), "num_timesteps": Int(1, 1000),
    "beta_start": Float(0.0, 1.0, open_lo=True), "beta_end": Float(0.0, 1.0, open_lo=True),
    "beta_min": Float(0.0, 1000.0), "beta_max": Float(0.0, 1000.0), "t_shift": Float(-1e3, 1e3),
    "trained_betas": ListOf(Float(0.0, 1.0, open_lo=True), max_len=MAX_STEPS, min_len=1),
    "prediction_type": Text(40), "beta_schedule": Text(60), "clip_sample": Bool(),
    "kind": Text(60),
})
METADATA = Obj({
    "format": Text(60), "format_version": Int(0, 10**6),
    "name": Text(100, name=True), "description": Text(20_000), "family": Text(60, name=True),
    "network": Obj({"class": Text(100, name=True), "config": Obj()}, required=("class",)),
    "data": Obj({"shape": Shape(), "range": Interval(), "dataset": Text(100), "kind": Text(20),
                 "convention": Text(200), "params": Obj()}, required=("shape",)),
    "schedule": SCHEDULE,
    "sampler": Obj({"name": Text(60, name=True), "steps": Int(1, MAX_STEPS)}),
    "latent": Obj({"shape": Shape(ranks=(1, 2, 3)), "prior": Text(500)}),
    "classes": ListOf(Text(100), max_len=10_000, min_len=1),
    "energy": Obj({"sign": Text(20)}),
    "canvas": Obj({"t0": Float(0.0, 1.0), "source": Text(1000)}),
    "training": Anything(),
})


def check_metadata(meta: dict) -> None:
    """Check a genviz checkpoint's metadata (``METADATA`` plus cross-field rules) before anything is built.

    Raises:
        ValueError: one line naming the field and what it must be (e.g. ``data.range must have lo < hi``).
    """
    check_document(meta, "metadata")
    check(meta, METADATA, "metadata")
    data = meta["data"]
    kind, shape = data.get("kind"), data["shape"]
    if kind in ("image", "vector") and len(shape) != {"image": 3, "vector": 1}[kind]:
        raise ValueError(f"metadata.data.shape {shape} does not fit data.kind {kind!r}")
    if len(shape) == 3 and shape[0] > 64:
        raise ValueError(f"metadata.data.shape {shape}: an image has 1..64 channels")
    _check_config_ints(meta["network"].get("config", {}), "metadata.network.config")
    sampler = meta.get("sampler", {}).get("name")
    if sampler is not None:
        from .samplers import SAMPLERS
        spec = SAMPLERS.get(sampler)
        if spec is None:
            raise ValueError(f"metadata.sampler.name {sampler!r} is not a known sampler (genviz samplers lists them)")
        if meta.get("family") not in spec.families():
            raise ValueError(f"metadata.sampler.name {sampler!r} does not run on a {meta.get('family')} model")
        for k, v in meta["sampler"].items():
            if _is_num(v) and abs(v) > 1e12:
                raise ValueError(f"metadata.sampler.{k} {v:g} is out of range")


def _check_config_ints(cfg, where: str) -> None:
    stack = [(cfg, where)]
    while stack:
        v, path = stack.pop()
        if isinstance(v, dict):
            stack.extend((x, f"{path}.{k}") for k, x in v.items())
        elif isinstance(v, list):
            stack.extend((x, f"{path}[{i}]") for i, x in enumerate(v))
        elif _is_num(v) and abs(v) > MAX_CONFIG_INT:
            raise ValueError(f"{path} = {v:g} is out of range (|value| <= {MAX_CONFIG_INT})")


def unknown_keys(meta: dict) -> list[str]:
    """Top-level metadata keys genviz does not read (kept, ignored; ``genviz info`` lists them)."""
    return sorted(k for k in meta if k not in METADATA.fields)


DIFFUSERS_UNET = Obj({
    "sample_size": Anything(), "in_channels": Int(1, 64), "out_channels": Int(1, 64),
    "block_out_channels": ListOf(Int(1, 4096), max_len=8, min_len=1), "layers_per_block": Int(1, 16),
    "norm_num_groups": Int(1, 1024), "attention_head_dim": Anything(),
}, nulls=True)
DIFFUSERS_SCHEDULER = Obj({k: SCHEDULE.fields[k] for k in ("num_train_timesteps", "beta_start", "beta_end",
                                                           "trained_betas", "prediction_type", "beta_schedule",
                                                           "clip_sample")}, nulls=True)


def check_diffusers_config(cfg: dict, sched: dict) -> list[int]:
    """Check a diffusers ``UNet2DModel`` config and its scheduler config; returns the sample size [H, W].

    ``sample_size`` must be a whole number (or a pair) in 1..``MAX_SIDE`` (null: diffusers' default 32).
    Raises ValueError (one line, naming the field)."""
    check_document(cfg, "config.json")
    check_document(sched, "scheduler_config.json")
    check(cfg, DIFFUSERS_UNET, "config.json")
    check(sched, DIFFUSERS_SCHEDULER, "scheduler_config.json")
    _check_config_ints({k: v for k, v in cfg.items() if not k.startswith("_")}, "config.json")
    size = cfg.get("sample_size")
    size = 32 if size is None else size
    size = size if isinstance(size, list) else [size, size]
    check(size, ListOf(Int(1, MAX_SIDE), max_len=2, min_len=2), "config.json sample_size")
    return size


# ---- networks, weights and memory ---------------------------------------------------------------------------

@dataclass(frozen=True)
class NetPlan:
    """A network described without allocating it: ``tensors`` name -> (shape, dtype) of its state dict,
    ``bytes`` of parameters and buffers, ``conv_width`` / ``linear_width`` the most channels of a convolution /
    features of a linear layer (``widths``)."""
    tensors: dict
    bytes: int
    conv_width: int
    linear_width: int


def plan_network(net_cls, config: dict) -> NetPlan | None:
    """Build ``net_cls(**config)`` on the ``meta`` device (shapes only, no memory) and describe it.

    Returns None when the class cannot be built on ``meta`` (then only the real build checks it).
    Raises:
        ValueError: the config does not fit the class (TypeError/ValueError of its constructor), or a layer is
            empty (a zero width: ``weight`` of shape (0, 16)).
    """
    import warnings

    import torch
    try:
        with warnings.catch_warnings(), torch.device("meta"):
            warnings.simplefilter("ignore")  # "Initializing zero-element tensors is a no-op": refused below
            net = net_cls(**config)
    except (TypeError, ValueError, ArithmeticError, AssertionError) as e:  # e.g. a width of 0: modulo by zero
        raise ValueError(f"network config does not fit {net_cls.__name__} ({_first_line(e) or type(e).__name__})") from None
    except Exception:
        return None
    sd = net.state_dict()
    tensors = {k: (tuple(v.shape), v.dtype) for k, v in sd.items()}
    empty = next((k for k, (s, _) in tensors.items() if math.prod(s) == 0), None)
    if empty is not None:
        raise ValueError(f"network config gives an empty layer ({empty} has shape {tuple(tensors[empty][0])})")
    nbytes = sum(math.prod(s) * v.element_size() for (s, _), v in zip(tensors.values(), sd.values()))
    return NetPlan(tensors, nbytes, *widths(s for s, _ in tensors.values()))


def widths(shapes) -> tuple[int, int]:
    """(most output channels of a convolution weight (3-D or 4-D), most output features of a linear weight (2-D))
    over parameter ``shapes``; 0 when there is no such layer."""
    conv = lin = 0
    for s in shapes:
        if len(s) in (3, 4, 5):
            conv = max(conv, s[0], s[1])
        elif len(s) == 2:
            lin = max(lin, s[0])
    return conv, lin


def check_weights(plan: NetPlan, file_tensors: dict) -> None:
    """Compare a file's tensors (name -> (shape, dtype)) with the network's plan, before any real build.

    A floating tensor of the network needs a floating tensor in the file (int8/int64/bool weights are refused,
    not silently cast); other tensors (bool masks, int64 counters) need the same dtype.
    Raises ValueError naming the first mismatch ("weights do not match the network (...)")."""
    import torch
    floats = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
    missing = [k for k in plan.tensors if k not in file_tensors]
    extra = [k for k in file_tensors if k not in plan.tensors]
    if missing or extra:
        what = (f"missing {missing[0]}" if missing else f"unexpected {extra[0]}") + \
            (f" and {len(missing) + len(extra) - 1} more" if len(missing) + len(extra) > 1 else "")
        raise ValueError(f"weights do not match the network ({what})")
    for k, (shape, dtype) in plan.tensors.items():
        fshape, fdtype = file_tensors[k]
        if tuple(fshape) != tuple(shape):
            raise ValueError(f"weights do not match the network ({k}: shape {tuple(fshape)} in the file, "
                             f"{tuple(shape)} in the network)")
        ok = fdtype in floats if dtype.is_floating_point else fdtype == dtype
        if not ok:
            raise ValueError(f"weights have the wrong dtype ({k} is {str(fdtype).replace('torch.', '')} where the "
                             f"network needs {str(dtype).replace('torch.', '')})")


def available_bytes() -> int | None:
    """Memory this process may still use: ``$GENVIZ_MEMORY_LIMIT`` (bytes) when set, else Linux's
    ``MemAvailable``, else None (unknown: nothing is refused for memory)."""
    env = os.environ.get("GENVIZ_MEMORY_LIMIT")
    if env:
        try:
            return int(float(env))
        except ValueError:
            pass
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def estimate_bytes(net_bytes: int, conv_width: int, linear_width: int, sample_elements: int, batch: int,
                   kept: int = 0) -> int:
    """Memory a run needs, in bytes (an upper-side rule): the network (``net_bytes``), activations for ``batch``
    samples (``ACTIVATION_FACTOR`` bytes x (``sample_elements`` x ``conv_width`` + 4 x ``linear_width``) each) and
    ``kept`` float32 samples held (trajectories, chain history). Peak RSS growth measured here for a 2-step chain,
    against the rule: mnist-ddpm at batch 256, 857 MB (rule 893 MB); mnist-ebm at 256, 106 MB (299 MB); a 2-D toy
    diffusion MLP at 20,000, 74 MB (236 MB); a toy spline flow at 20,000, 171 MB (173 MB)."""
    per_sample = ACTIVATION_FACTOR * (sample_elements * conv_width + 4 * linear_width + sample_elements)
    return int(net_bytes + batch * per_sample + kept * sample_elements * 4)


def model_plan(model) -> tuple[int, int, int]:
    """(network bytes, conv width, linear width) of a loaded model (parameters and buffers counted)."""
    net = model.net
    tensors = list(net.parameters()) + list(net.buffers())
    nbytes = sum(t.numel() * t.element_size() for t in tensors)
    return (nbytes, *widths(tuple(t.shape) for t in net.parameters()))


def check_memory(need: int, what: str) -> None:
    """Refuse ``what`` (e.g. ``"--n 4096"``) in one line when ``need`` bytes exceed ``available_bytes()``."""
    have = available_bytes()
    if have is not None and need > have:
        raise ValueError(f"{what}: needs about {_gb(need)} of memory, more than the {_gb(have)} available")


def check_run_memory(model, batch: int, what: str, kept: int = 0) -> None:
    """``check_memory`` for ``batch`` samples of ``model`` (plus ``kept`` samples held). Raises ValueError."""
    nbytes, conv, lin = model_plan(model)
    elements = math.prod(model.data_shape) if model.data_shape else 1
    check_memory(estimate_bytes(nbytes, conv, lin, elements, batch, kept), what)


def _gb(n: int) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.0f} MB"


def _first_line(e: Exception) -> str:
    s = str(e).strip()
    return s.splitlines()[0][:200] if s else type(e).__name__
