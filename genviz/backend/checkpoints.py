"""One loader for every checkpoint format genviz reads, and the registry of bundled checkpoints.
(The diffusers-folder reader lives in ``checkpoints_diffusers``.)

Formats (``load_checkpoint``):

1. genviz's own: one ``.safetensors`` file; its header's metadata key ``"genviz"`` holds JSON with
   ``format``/``format_version``, ``family``, ``network`` (``class`` + ``config``), ``data`` (shape,
   range, dataset), ``schedule``, default ``sampler`` and ``training`` (recipe and data source).
2. A diffusers ``UNet2DModel`` folder (``config.json`` + ``diffusion_pytorch_model.safetensors``,
   optionally ``scheduler/scheduler_config.json``), or a pipeline folder holding ``unet/`` and
   ``scheduler/``. diffusers is imported only when such a folder is opened.
3. ``.pt`` / ``.pth`` / ``.ckpt`` state dicts, read only with ``torch.load(weights_only=True)``,
   with a genviz metadata JSON beside them (``model.json`` or ``model.pt.json``). A file that would
   need full unpickling is refused: nothing in a checkpoint ever runs code.

Every broken or unsupported input raises ``CheckpointError`` naming the file and the reason.
"""
from __future__ import annotations

import json
import os
import pickle
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

FORMAT = "genviz-checkpoint"
FORMAT_VERSION = 1
METADATA_KEY = "genviz"
CHECKPOINT_DIR = Path(os.environ.get("GENVIZ_CHECKPOINTS", Path(__file__).resolve().parents[2] / "checkpoints"))


class CheckpointError(Exception):
    """A checkpoint could not be loaded: unknown name, missing/broken/unsupported/hostile file.

    The message names the file (or name) and the reason, in one line.
    """


@dataclass(frozen=True)
class CheckpointInfo:
    """A bundled checkpoint as listed by ``list_checkpoints``."""

    name: str
    family: str
    dataset: str
    data_shape: tuple
    size_bytes: int
    path: str
    description: str = ""
    error: str = ""  # why the entry cannot be used ("" when it can)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["data_shape"] = list(self.data_shape)
        return d


def save_checkpoint(path, state_dict: dict, metadata: dict) -> Path:
    """Write one genviz ``.safetensors`` file: the tensors plus ``metadata`` as JSON in its header.

    Args:
        path: destination; parent folders are created. Written atomically (temp file + rename).
        state_dict: name -> tensor (moved to CPU, made contiguous).
        metadata: JSON-serialisable dict (``family``, ``network``, ``data``, ...); ``format`` and
            ``format_version`` are added.
    """
    from safetensors.torch import save_file
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, **metadata}
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in state_dict.items()}
    tmp = path.with_suffix(path.suffix + ".tmp")
    save_file(tensors, str(tmp), metadata={METADATA_KEY: json.dumps(meta)})
    tmp.replace(path)
    return path


def read_metadata(path) -> dict:
    """Return the genviz metadata of a checkpoint without loading its weights.

    Accepts a genviz ``.safetensors`` file, a diffusers folder or a ``.pt``/``.pth``/``.ckpt`` file
    with its JSON beside it. Raises ``CheckpointError``.
    """
    path = _resolve(path)
    if path.is_dir():
        from .checkpoints_diffusers import diffusers_metadata
        return diffusers_metadata(path)[0]
    if path.suffix == ".safetensors":
        return _safetensors_metadata(path)
    if path.suffix in (".pt", ".pth", ".ckpt"):
        return _sidecar_metadata(path)
    raise CheckpointError(f"{path}: unsupported file type {path.suffix!r} "
                          "(expected .safetensors, .pt/.pth/.ckpt with a metadata .json, or a diffusers folder)")


MAX_JSON_BYTES = 4 * 2**20         # a metadata sidecar or a diffusers config larger than this is refused
MAX_UNZIPPED_BYTES = 2 * 2**30     # a .pt archive whose members unpack to more than this is refused (zip bomb)


def _check_file(path: Path, what: str = "file") -> None:
    """Refuse anything but a regular file (a FIFO or a device would block or never end a read; a symlink loop
    cannot be opened), in one line."""
    import stat as st
    try:
        mode = path.stat().st_mode
    except OSError as e:  # ELOOP, EACCES, ...
        raise CheckpointError(f"{path}: cannot open the {what} ({_short(e)})") from None
    if not st.S_ISREG(mode):
        kind = ("a FIFO" if st.S_ISFIFO(mode) else "a socket" if st.S_ISSOCK(mode)
                else "a device" if st.S_ISCHR(mode) or st.S_ISBLK(mode) else "not a regular file")
        raise CheckpointError(f"{path}: the {what} is {kind}, not a regular file")


def _resolve(name_or_path) -> Path:
    s = str(name_or_path)
    p = Path(s).expanduser()
    try:
        exists = p.exists()
    except OSError as e:  # a symlink loop, a name too long
        raise CheckpointError(f"{s}: cannot open ({_short(e)})") from None
    if exists:
        if not p.is_dir():
            _check_file(p)
        return p
    if p.is_symlink():  # a symlink loop or a dangling link: exists() is False, and the reason is not "no such file"
        _check_file(p)
    for cand in (CHECKPOINT_DIR / f"{s}.safetensors", CHECKPOINT_DIR / s):
        if cand.exists():
            return cand
    if os.sep in s or s.endswith((".safetensors", ".pt", ".pth", ".ckpt", ".json")):
        raise CheckpointError(f"{s}: no such file or folder")
    names = ", ".join(i.name for i in list_checkpoints()) or "none"
    raise CheckpointError(f"{s}: not a bundled checkpoint or an existing path (bundled: {names})")


def _safetensors_metadata(path: Path) -> dict:
    from safetensors import safe_open
    _check_file(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            raw = (f.metadata() or {}).get(METADATA_KEY)
    except Exception as e:  # safetensors raises its own SafetensorError and OSError variants
        raise CheckpointError(f"{path}: not a readable safetensors file ({_short(e)})") from None
    if raw is None:
        raise CheckpointError(f"{path}: safetensors file has no genviz metadata (header key {METADATA_KEY!r})")
    try:
        meta = json.loads(raw)
    except json.JSONDecodeError as e:
        raise CheckpointError(f"{path}: genviz metadata is not valid JSON ({e.msg})") from None
    _check_meta(path, meta)
    return meta


def _sidecar_metadata(path: Path) -> dict:
    for side in (path.with_suffix(".json"), Path(str(path) + ".json")):
        if side.exists():
            try:
                meta = json.loads(_read_bounded(side))
            except (json.JSONDecodeError, UnicodeDecodeError) as e:
                raise CheckpointError(f"{side}: metadata is not valid JSON ({_short(e)})") from None
            _check_meta(side, meta)
            return meta
    raise CheckpointError(f"{path}: a {path.suffix} state dict needs a genviz metadata JSON beside it "
                          f"({path.with_suffix('.json').name})")


def _check_meta(path: Path, meta) -> None:
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path}: metadata must be a JSON object")
    if meta.get("format", FORMAT) != FORMAT:
        raise CheckpointError(f"{path}: unknown format {meta.get('format')!r}")
    if not isinstance(meta.get("format_version", FORMAT_VERSION), int):
        raise CheckpointError(f"{path}: format_version must be an integer, got {meta.get('format_version')!r}")
    if meta.get("format_version", FORMAT_VERSION) > FORMAT_VERSION:
        raise CheckpointError(f"{path}: format version {meta.get('format_version')} is newer than this genviz "
                              f"reads ({FORMAT_VERSION})")
    fam = meta.get("family")
    from .registry import family_names
    if not isinstance(fam, str) or fam not in family_names():
        raise CheckpointError(f"{path}: unknown or missing family {fam!r} (known: {', '.join(family_names())})")
    if not isinstance(meta.get("network"), dict) or "class" not in meta["network"]:
        raise CheckpointError(f"{path}: metadata lacks network.class")
    if not isinstance(meta.get("data"), dict) or "shape" not in meta["data"]:
        raise CheckpointError(f"{path}: metadata lacks data.shape")
    shape = meta["data"]["shape"]
    if not isinstance(shape, list) or not all(isinstance(s, int) and s > 0 for s in shape):
        raise CheckpointError(f"{path}: data.shape must be a list of positive integers, got {shape!r}")
    _network_class(path, meta)
    from .validate import check_metadata
    try:  # the one schema (genviz.backend.validate): types, ranges, finite numbers, names, sampler
        check_metadata(meta)
    except ValueError as e:
        raise CheckpointError(f"{path}: {e}") from None


def _network_class(path: Path, meta: dict):
    """(family spec, network class) named by the metadata. Raises CheckpointError."""
    from .registry import get_family
    spec = get_family(meta["family"])
    net_name = meta["network"]["class"]
    try:
        return spec, spec.network_class(net_name)
    except (KeyError, TypeError):
        raise CheckpointError(f"{path}: unknown network class {net_name!r} for a {spec.name} model "
                              f"(known: {', '.join(spec.networks) or 'none'})") from None


def _short(e: Exception) -> str:
    return str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__


def _build(path: Path, meta: dict, state_dict, device, header: dict | None = None):
    """Build the network: first on the meta device (``validate.plan_network``: shapes, dtypes and bytes checked
    against the file's tensors and the free memory, nothing allocated), then for real. ``state_dict`` is a dict
    or a function returning one (called only once the plan passed); ``header`` the file's name -> (shape, dtype)
    when known before loading."""
    from .validate import check_memory, check_weights, plan_network
    spec, net_cls = _network_class(path, meta)
    net_name = meta["network"]["class"]
    try:
        plan = plan_network(net_cls, meta["network"].get("config", {}))
        if plan is not None:
            check_memory(plan.bytes, f"the network ({net_name})")
            if header is not None:
                check_weights(plan, header)
        if callable(state_dict):
            state_dict = state_dict()
        if plan is not None and header is None:
            check_weights(plan, {k: (tuple(v.shape), v.dtype) for k, v in state_dict.items()})
    except ValueError as e:
        raise CheckpointError(f"{path}: {e}") from None
    try:
        net = net_cls(**meta["network"].get("config", {}))
    except (TypeError, ValueError, ArithmeticError, AssertionError) as e:
        raise CheckpointError(f"{path}: network config does not fit {net_cls.__name__} ({_short(e)})") from None
    try:
        net.load_state_dict(state_dict, strict=True)
    except RuntimeError as e:
        raise CheckpointError(f"{path}: weights do not match the network ({_short(e)})") from None
    family_cls = spec.model_class_for(net_name)
    try:
        return family_cls(net, meta, device)
    except (ValueError, TypeError) as e:  # TypeError: null where a number belongs (data.shape, range, schedule)
        raise CheckpointError(f"{path}: {_short(e)}") from None


def load_checkpoint(name_or_path, device: str = "auto"):
    """Load a model from a bundled name or a path.

    Args:
        name_or_path: a bundled name (see ``list_checkpoints``), a genviz ``.safetensors`` file, a
            diffusers ``UNet2DModel`` or pipeline folder, or a ``.pt``/``.pth``/``.ckpt`` state dict
            with its metadata JSON beside it.
        device: ``"auto"`` (CUDA, then MPS, then CPU), ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``.
    Returns:
        A family object (``DiffusionModel``, ``ClassifierModel``, ...) on ``device``, with
        ``metadata`` and ``path`` attributes.
    Raises:
        CheckpointError: unknown name, missing, broken, unsupported or hostile file (one line,
            naming the file and the reason). ValueError: unknown or unavailable device.
    """
    from .families import resolve_device
    dev = resolve_device(device)
    path = _resolve(name_or_path)
    if path.is_dir():
        from .checkpoints_diffusers import load_diffusers_folder
        model = load_diffusers_folder(path, dev)
    elif path.suffix == ".safetensors":
        meta = _safetensors_metadata(path)
        from safetensors.torch import load_file

        def read() -> dict:
            try:
                return load_file(str(path))
            except Exception as e:
                raise CheckpointError(f"{path}: weights could not be read ({_short(e)})") from None
        from .safe_io import safetensors_tensors
        try:
            header = safetensors_tensors(path)
        except ValueError as e:
            raise CheckpointError(f"{path}: {e}") from None
        model = _build(path, meta, read, dev, header=header)
    elif path.suffix in (".pt", ".pth", ".ckpt"):
        meta = _sidecar_metadata(path)
        sd = _torch_load_safe(path)
        model = _build(path, meta, sd, dev)
    else:
        raise CheckpointError(f"{path}: unsupported file type {path.suffix or '(none)'!r} "
                              "(expected .safetensors, .pt/.pth/.ckpt with a metadata .json, or a diffusers folder)")
    model.path = str(path)
    return model


def _torch_load_safe(path: Path) -> dict:
    import warnings
    _check_zip(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(e))
        what = f" (it asks for {found.group(1)})" if found else ""
        raise CheckpointError(f"{path}: refused: the file holds Python objects that only full unpickling could "
                              f"create{what}, and unpickling can run arbitrary code") from None
    except Exception as e:
        raise CheckpointError(f"{path}: not a readable torch file ({_short(e)})") from None
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointError(f"{path}: expected a state dict (name -> tensor)")
    return obj


def _read_bounded(p: Path, limit: int | None = None) -> str:
    """The text of the regular file ``p``, refused when larger than ``limit`` bytes (default ``MAX_JSON_BYTES``)."""
    limit = MAX_JSON_BYTES if limit is None else limit
    _check_file(p, "JSON file")
    if p.stat().st_size > limit:
        raise CheckpointError(f"{p}: {p.stat().st_size / 2**20:.1f} MB is too large for a JSON config "
                              f"(limit {limit / 2**20:.0f} MB)")
    try:
        return p.read_text(encoding="utf-8")
    except OSError as e:
        raise CheckpointError(f"{p}: cannot read ({_short(e)})") from None


def _read_json(p: Path) -> dict:
    try:
        data = json.loads(_read_bounded(p))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{p}: not valid JSON ({_short(e)})") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{p}: expected a JSON object, got a {type(data).__name__}")
    return data


def _check_zip(path: Path) -> None:
    """Refuse a torch zip archive whose members would unpack beyond ``MAX_UNZIPPED_BYTES`` (read from the zip
    directory, before anything is decompressed); legacy non-zip files pass through to torch's own checks."""
    import zipfile
    if not zipfile.is_zipfile(path):
        return
    try:
        with zipfile.ZipFile(path) as z:
            total = sum(i.file_size for i in z.infolist())
    except (zipfile.BadZipFile, OSError) as e:
        raise CheckpointError(f"{path}: not a readable torch file ({_short(e)})") from None
    if total > MAX_UNZIPPED_BYTES:
        raise CheckpointError(f"{path}: refused: it unpacks to {total / 2**30:.1f} GB "
                              f"(limit {MAX_UNZIPPED_BYTES / 2**30:.0f} GB)")


def list_checkpoints(folder=None) -> list[CheckpointInfo]:
    """The bundled checkpoints in ``checkpoints/`` (or in ``folder``; sorted by name), read from headers only.

    A broken entry (unreadable header, bad metadata, a FIFO, a config that is not an object, ...) is listed with
    family ``"broken"`` and the reason in ``error``; it never hides the others.
    """
    out: list[CheckpointInfo] = []
    root = CHECKPOINT_DIR if folder is None else Path(folder)
    if not root.is_dir():
        return out
    for p in sorted(root.iterdir()):
        try:
            if p.suffix == ".safetensors":
                meta = _safetensors_metadata(p)
                size = p.stat().st_size
            elif p.is_dir() and ((p / "config.json").exists() or (p / "unet" / "config.json").exists()):
                from .checkpoints_diffusers import diffusers_metadata
                meta, _ = diffusers_metadata(p)
                size = sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
            else:
                continue
        except Exception as e:  # any failure of one entry: listed as broken, the others still listed
            msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            msg = msg.replace(f"{p}: ", "", 1)
            name = p.stem if p.suffix == ".safetensors" else p.name
            out.append(CheckpointInfo(name=name, family="broken", dataset="", data_shape=(), size_bytes=0,
                                      path=str(p), description=f"broken: {msg}", error=msg))
            continue
        name = p.stem if p.suffix == ".safetensors" else p.name
        out.append(CheckpointInfo(name=name, family=meta["family"], dataset=meta["data"].get("dataset", "unknown"),
                                  data_shape=tuple(meta["data"]["shape"]), size_bytes=size, path=str(p),
                                  description=meta.get("description", "")))
    return out
