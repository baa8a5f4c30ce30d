"""``genviz export CKPT --format diffusers OUT_DIR``: a genviz diffusion checkpoint as a diffusers pipeline folder.

The folder (written without importing diffusers)::

    OUT_DIR/model_index.json                      DDPMPipeline: unet + scheduler
    OUT_DIR/scheduler/scheduler_config.json       DDPMScheduler on the model's own schedule
    OUT_DIR/unet/config.json                      GenvizUNet2DModel: the U-Net config + the genviz metadata
    OUT_DIR/unet/diffusion_pytorch_model.safetensors   the weights, under "net."

genviz's U-Net cannot be written as a ``UNet2DModel`` (``nets.diffusers_unet`` says why), so the unet is genviz's
own network behind diffusers' model interface; a diffusers user imports ``genviz.backend.nets.diffusers_unet``
before ``DDPMPipeline.from_pretrained(OUT_DIR)``. genviz opens the folder itself (``load_checkpoint(OUT_DIR)``)
with no diffusers import and no code from the folder: the weights go into its own ``UNet`` (``load_exported``).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

CLASS_NAME = "GenvizUNet2DModel"
MODULE = "genviz.backend.nets.diffusers_unet"
PREFIX = "net."
DIFFUSERS_VERSION = "0.42.1"  # the version the folder layout was checked against (diffusers reads older/newer)


class ExportError(ValueError):
    """The checkpoint cannot be exported (not a genviz U-Net diffusion model) or the folder cannot be written."""


def _schedule_config(meta: dict) -> dict:
    s = meta.get("schedule", {})
    cfg = {"_class_name": "DDPMScheduler", "_diffusers_version": DIFFUSERS_VERSION,
           "num_train_timesteps": int(s.get("num_train_timesteps", 1000)),
           "beta_schedule": s.get("beta_schedule", "linear"), "beta_start": float(s.get("beta_start", 1e-4)),
           "beta_end": float(s.get("beta_end", 0.02)), "trained_betas": s.get("trained_betas"),
           "prediction_type": s.get("prediction_type", "epsilon"), "clip_sample": bool(s.get("clip_sample", True)),
           "variance_type": "fixed_small", "timestep_spacing": "leading", "steps_offset": 0}
    lo, hi = meta["data"].get("range", [-1.0, 1.0])
    cfg["clip_sample_range"] = float(max(abs(lo), abs(hi)))
    return cfg


def export_diffusers(model, out_dir, overwrite: bool = False) -> Path:
    """Write ``model`` (a ``DiffusionModel`` on genviz's ``UNet``) as a diffusers ``DDPMPipeline`` folder.

    Args:
        model: a loaded genviz diffusion model whose network is ``nets.unet.UNet``.
        out_dir: the folder to create; an existing non-empty folder is refused unless ``overwrite``.
    Returns:
        the folder's path.
    Raises:
        ExportError: another family or network, an existing folder, or a write failure (one line).
    """
    from safetensors.torch import save_file

    from .nets.unet import UNet
    if model.family != "diffusion" or type(model.net) is not UNet:
        raise ExportError(f"{model.name}: only genviz U-Net diffusion models export to diffusers "
                          f"(this is a {model.family} model with a {type(model.net).__name__})")
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        if not overwrite or not out.is_dir():
            raise ExportError(f"{out}: exists and is not an empty folder")
        shutil.rmtree(out)
    meta = {k: v for k, v in model.metadata.items() if k not in ("format", "format_version")}
    shape = list(model.data_shape)
    unet_cfg = {"_class_name": CLASS_NAME, "_diffusers_version": DIFFUSERS_VERSION, **model.net.config,
                "sample_size": shape[1] if shape[1] == shape[2] else shape[1:], "genviz_metadata": meta}
    index = {"_class_name": "DDPMPipeline", "_diffusers_version": DIFFUSERS_VERSION,
             "scheduler": ["diffusers", "DDPMScheduler"], "unet": [MODULE, CLASS_NAME]}
    try:
        (out / "unet").mkdir(parents=True, exist_ok=True)
        (out / "scheduler").mkdir(exist_ok=True)
        (out / "model_index.json").write_text(json.dumps(index, indent=2))
        (out / "scheduler" / "scheduler_config.json").write_text(json.dumps(_schedule_config(meta), indent=2))
        (out / "unet" / "config.json").write_text(json.dumps(unet_cfg, indent=2))
        tensors = {PREFIX + k: v.detach().to("cpu").contiguous() for k, v in model.net.state_dict().items()}
        save_file(tensors, str(out / "unet" / "diffusion_pytorch_model.safetensors"), metadata={"format": "pt"})
    except OSError as e:
        raise ExportError(f"{out}: could not write ({e.strerror or e})") from None
    return out


def exported_metadata(cfg_path: Path, cfg: dict) -> dict:
    """The genviz metadata of an export's ``unet/config.json`` (``cfg``), network = genviz's ``UNet`` with the
    config's U-Net keys. Raises ``CheckpointError`` when the embedded metadata is missing or not an object."""
    from .checkpoints import FORMAT, FORMAT_VERSION, CheckpointError
    meta = cfg.get("genviz_metadata")
    if not isinstance(meta, dict):
        raise CheckpointError(f"{cfg_path}: a {CLASS_NAME} config needs its genviz_metadata object")
    net_keys = ("in_channels", "base", "mults", "blocks", "attn_lowest", "dropout")
    meta = {**meta, "format": FORMAT, "format_version": FORMAT_VERSION,
            "network": {"class": "UNet", "config": {k: cfg[k] for k in net_keys if k in cfg}}}
    return meta


def load_exported(unet_dir: Path, meta: dict, device):
    """Open genviz's own export: its weights (without the ``net.`` prefix) into genviz's ``UNet``, through the
    checkpoint loader's checks. Raises ``CheckpointError``."""
    from safetensors.torch import load_file

    from .checkpoints import CheckpointError, _build, _short
    weights = unet_dir / "diffusion_pytorch_model.safetensors"
    try:
        sd = load_file(str(weights))
    except Exception as e:
        raise CheckpointError(f"{weights}: weights could not be read ({_short(e)})") from None
    if not all(k.startswith(PREFIX) for k in sd):
        raise CheckpointError(f"{weights}: a {CLASS_NAME} file's tensors are all under {PREFIX!r}")
    return _build(weights, meta, {k[len(PREFIX):]: v for k, v in sd.items()}, device)
