"""Headless commands of the autoregressive and RBM families: ``genviz complete`` (fill a mask's white pixels with
the known pixels clamped, ``backend.completion``) and ``genviz filters`` (an RBM's hidden-unit filters as a PNG).

``genviz.cli`` builds the parsers and dispatches here; failures raise ``CLIError`` or a backend ValueError /
``CheckpointError``, printed as one ``genviz: error:`` line.
"""
from __future__ import annotations

from .commands import CLIError, _check_out


class _UnitSpace:
    """Stands in for ``model`` in ``conditioning.image_to_model`` so the image comes back in [0, 1] exactly (the
    model's convention decides the inversion; no mapping to the data range)."""

    def __init__(self, model):
        self.name, self.metadata, self.data_shape = model.name, model.metadata, tuple(model.data_shape)

    @staticmethod
    def from_unit(u):
        return u


def cmd_complete(a) -> int:
    """``genviz complete CKPT --image IMG --mask MASK [--n K] [--seed S] [--steps N] [--temperature T] --out F``.

    Writes ``samples`` (K, 1, H, W) float32 in [0, 1] (unknown pixels 0 or 1, known pixels the image's own values
    bit for bit), ``image`` (1, H, W), ``unknown`` (H, W) bool and ``visibility`` (H, W) uint8
    (``completion.visibility``: 2 = a known pixel the autoregressive model could not see) to an .npz, or a PNG grid.
    """
    out = _check_out(a.out, (".png", ".npz"))
    from .backend.conditioning import load_image
    try:
        img = load_image(a.image)
    except ValueError as e:
        raise CLIError(f"--image {e}") from None
    try:
        mask_img = load_image(a.mask)
    except ValueError as e:
        raise CLIError(f"--mask {e}") from None
    import numpy as np
    import torch

    from .backend import load_checkpoint
    from .backend.completion import complete, is_causal, supports, unknown_from_mask, visibility
    from .backend.conditioning import image_to_model, mask_to_model
    model = load_checkpoint(a.checkpoint, device=a.device)
    if not supports(model):
        raise CLIError(f"{model.name}: complete needs an autoregressive model or an RBM of images "
                       f"(this is a {model.family} model; diffusion models use genviz sdedit --mask)")
    u = image_to_model(img, _UnitSpace(model))  # (C, H, W) in [0, 1]
    unknown = unknown_from_mask(mask_to_model(mask_img, model), model.data_shape)
    if not bool(unknown.any()):
        raise CLIError(f"--mask {a.mask}: no white pixel at {model.data_shape[2]}x{model.data_shape[1]}: nothing to fill")
    x = complete(model, model.from_unit(u), unknown, n=a.n, seed=a.seed, steps=a.steps, temperature=a.temperature)
    unit = torch.where(unknown, model.to_unit(x), u).numpy().astype(np.float32)
    try:
        if out.suffix.lower() == ".png":
            from .backend.imaging import make_grid, save_png
            save_png(out, make_grid(np.concatenate([u[None].numpy(), unit]), nrow=len(unit) + 1, scale=4))
        else:
            np.savez(out, samples=unit, image=u.numpy().astype(np.float32), unknown=unknown.numpy(),
                     visibility=visibility(unknown, is_causal(model)))
    except OSError as e:
        raise CLIError(f"--out {a.out}: could not write ({e.strerror or e})") from None
    unseen = int((visibility(unknown, is_causal(model)) == 2).sum())
    print(f"wrote {out} ({len(unit)} completions of {int(unknown.sum())} unknown pixels, seed {a.seed}"
          + (f"; {unseen} known pixels come after the first unknown one: the model could not see them" if unseen
             else "") + ")")
    return 0


def cmd_mixing(a) -> int:
    """``genviz mixing CKPT [--chains 16] [--sweeps 1000] [--init data|uniform] [--seed S] [--json PATH]``: the
    RBM's class switches per 1,000 Gibbs sweeps (``rbm.class_switches``, judged by the bundled mnist-classifier),
    printed as JSON."""
    import json
    from pathlib import Path

    from .backend import load_checkpoint
    from .backend.rbm import class_switches
    model = load_checkpoint(a.checkpoint, device=a.device)
    if not hasattr(model, "sweep"):
        raise CLIError(f"{model.name}: mixing counts Gibbs sweeps of an RBM (this is a {model.family} model)")
    clf = load_checkpoint("mnist-classifier", device=a.device)
    if tuple(clf.data_shape) != tuple(model.data_shape):
        raise CLIError(f"{model.name}: mnist-classifier judges {clf.data_shape} images, the model makes {model.data_shape}")
    rep = class_switches(model, clf, chains=a.chains, sweeps=a.sweeps, seed=a.seed, init=a.init)
    rep["checkpoint"] = model.name
    print(json.dumps(rep, indent=2))
    if a.json:
        Path(a.json).write_text(json.dumps(rep, indent=2))
    return 0


def cmd_filters(a) -> int:
    """``genviz filters CKPT --out PNG``: the hidden units' weight images of an RBM as a grid (grey = 0)."""
    out = _check_out(a.out, (".png",))
    from .backend import load_checkpoint
    model = load_checkpoint(a.checkpoint, device="cpu")
    if not hasattr(model, "filters"):
        raise CLIError(f"{model.name}: filters are shown for RBMs (this is a {model.family} model)")
    from .backend.imaging import make_grid, save_png
    f = model.filters()[: a.n].numpy()
    import math
    try:
        save_png(out, make_grid(f, nrow=int(math.ceil(math.sqrt(len(f)))), scale=a.scale))
    except OSError as e:
        raise CLIError(f"--out {a.out}: could not write ({e.strerror or e})") from None
    print(f"wrote {out} ({len(f)} of {model.hidden} hidden-unit filters)")
    return 0
