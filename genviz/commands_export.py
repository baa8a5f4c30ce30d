"""``genviz export CKPT --format diffusers OUT_DIR`` (``genviz.cli`` parses, this runs; ``backend.diffusers_export``)."""
from __future__ import annotations


def cmd_export(a) -> int:
    """Write the checkpoint as a diffusers DDPMPipeline folder and say how to load it; errors are one line."""
    from .backend import load_checkpoint
    from .backend.diffusers_export import MODULE, export_diffusers
    model = load_checkpoint(a.checkpoint, device="cpu")
    out = export_diffusers(model, a.out_dir, overwrite=a.overwrite)
    print(f"wrote {out} (DDPMPipeline: genviz's U-Net + DDPMScheduler). Load it with diffusers after "
          f"`import {MODULE}`: DDPMPipeline.from_pretrained({str(out)!r}); genviz opens it as it is.")
    return 0
