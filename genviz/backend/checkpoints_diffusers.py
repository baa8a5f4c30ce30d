"""The diffusers-folder part of the checkpoint loader (``checkpoints.load_checkpoint`` format 2).

A diffusers ``UNet2DModel`` folder (``config.json`` + ``diffusion_pytorch_model.safetensors``, optionally
``scheduler/scheduler_config.json``), or a pipeline folder holding ``unet/`` and ``scheduler/``; genviz's own
export (``genviz export --format diffusers``) too. diffusers is imported only when such a folder is opened;
``.bin`` weights are refused, since unpickling can run code.
"""
from __future__ import annotations

from pathlib import Path

from .checkpoints import FORMAT, FORMAT_VERSION, CheckpointError, _check_file, _check_meta, _read_json, _short


def diffusers_metadata(folder: Path) -> tuple[dict, Path]:
    """Metadata synthesised from a diffusers folder (a ``UNet2DModel`` folder, a pipeline folder with ``unet/`` and
    ``scheduler/``, or genviz's own export); returns (metadata, unet folder).

    Raises:
        CheckpointError: not a diffusers model folder, another model class, ``.bin`` weights only (never unpickled),
            or a config outside ``validate.check_diffusers_config``'s schema (one line naming the folder).
    """
    unet_dir = folder / "unet" if (folder / "unet" / "config.json").exists() else folder
    cfg_path = unet_dir / "config.json"
    if not cfg_path.exists():
        raise CheckpointError(f"{folder}: not a diffusers model folder (no config.json or unet/config.json)")
    cfg = _read_json(cfg_path)
    from .diffusers_export import CLASS_NAME, exported_metadata
    if cfg.get("_class_name") == CLASS_NAME:  # genviz's own export (genviz export --format diffusers)
        meta = exported_metadata(cfg_path, cfg)
        _check_meta(cfg_path, meta)
        return meta, unet_dir
    if cfg.get("_class_name") != "UNet2DModel":
        raise CheckpointError(f"{folder}: unsupported diffusers model {cfg.get('_class_name')!r} "
                              f"(genviz reads UNet2DModel and its own {CLASS_NAME})")
    weights = unet_dir / "diffusion_pytorch_model.safetensors"
    if weights.exists():
        _check_file(weights, "weights file")
    else:
        raise CheckpointError(f"{unet_dir}: no diffusion_pytorch_model.safetensors (genviz does not unpickle "
                              ".bin weights, since unpickling can run code)")
    sched = {}
    for cand in (folder / "scheduler" / "scheduler_config.json", unet_dir / "scheduler_config.json"):
        if cand.exists():
            sched = _read_json(cand)
            break
    from .validate import check_diffusers_config
    try:  # the one schema: sample_size, channels, schedule numbers, clip_sample a boolean, ...
        size = check_diffusers_config(cfg, sched)  # "sample_size": null (diffusers' default config) -> 32
    except ValueError as e:
        raise CheckpointError(f"{folder}: {e}") from None
    meta = {
        "format": FORMAT, "format_version": FORMAT_VERSION,
        "name": folder.name, "family": "diffusion",
        "description": (f"diffusers pipeline folder {folder} (its unet/ and scheduler/)" if unet_dir != folder
                        else f"diffusers UNet2DModel folder {folder}"),
        "network": {"class": "diffusers.UNet2DModel", "config": {k: v for k, v in cfg.items() if not k.startswith("_")}},
        "data": {"shape": [cfg.get("in_channels", 3), *size], "range": [-1.0, 1.0], "dataset": "unknown",
                 "kind": "image"},
        "schedule": {
            "beta_schedule": sched.get("beta_schedule", "linear"),
            "num_train_timesteps": sched.get("num_train_timesteps", 1000),
            "beta_start": sched.get("beta_start", 1e-4), "beta_end": sched.get("beta_end", 0.02),
            "trained_betas": sched.get("trained_betas"),
            "prediction_type": sched.get("prediction_type", "epsilon"),
            "clip_sample": sched.get("clip_sample", True),
        },
        "sampler": {"name": "ddim", "steps": 50, "eta": 0.0},
        "training": {"recipe": "external (diffusers format)", "data_source": "unknown"},
    }
    return meta, unet_dir


def load_diffusers_folder(folder: Path, device):
    from .families import DiffusionModel
    """The ``DiffusionModel`` of a diffusers folder on ``device`` (genviz's own export loads without diffusers).

    Raises:
        CheckpointError: as ``diffusers_metadata``; diffusers missing; a network too large for free memory; weights
            diffusers cannot read.
    """
    meta, unet_dir = diffusers_metadata(folder)
    if meta["network"]["class"] == "UNet":  # genviz's own export: its U-Net, no diffusers import, no folder code
        from .diffusers_export import load_exported
        return load_exported(unet_dir, meta, device)
    try:
        from diffusers import UNet2DModel  # lazy: ~4 s import
    except ImportError:
        raise CheckpointError(f"{folder}: opening diffusers folders needs the 'diffusers' package "
                              "(pip install diffusers)") from None
    import inspect
    import warnings

    from diffusers.utils import logging as dlogging

    from .validate import check_memory, plan_network
    known = set(inspect.signature(UNet2DModel.__init__).parameters)
    config = {k: v for k, v in meta["network"]["config"].items() if k in known}  # extra keys: ignored, as diffusers does
    try:
        plan = plan_network(UNet2DModel, config)
        if plan is not None:
            check_memory(plan.bytes, "the network (UNet2DModel)")
    except ValueError as e:
        raise CheckpointError(f"{folder}: {e}") from None
    level = dlogging.get_verbosity()
    try:
        dlogging.set_verbosity_error()  # its notices (unexpected config keys, accelerate) are not the user's business
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # low_cpu_mem_usage=False: without `accelerate` installed, diffusers otherwise warns on every load
            net = UNet2DModel.from_pretrained(str(unet_dir), use_safetensors=True, local_files_only=True,
                                              low_cpu_mem_usage=False)
    except Exception as e:
        raise CheckpointError(f"{folder}: diffusers could not load the UNet ({_short(e)})") from None
    finally:
        dlogging.set_verbosity(level)
    try:
        return DiffusionModel(net, meta, device, forward=lambda n, x, t: n(x, t).sample)
    except (ValueError, TypeError) as e:
        raise CheckpointError(f"{folder}: {_short(e)}") from None
