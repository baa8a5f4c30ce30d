"""The ``genviz`` command line: the app (``genviz`` / ``genviz gui``) and headless commands.

Every failure exits non-zero with one line on stderr starting ``genviz: error:`` (no traceback).
Heavy imports (torch, Qt) happen inside the commands, so ``genviz --help`` is instant.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

PANELS = ("chain", "interpolation", "density", "canvas")
RECIPES = {
    "mnist-ddpm": "genviz.backend.training.mnist_ddpm",
    "mnist-classifier": "genviz.backend.training.digit_classifier",
    "mnist-ebm": "genviz.backend.training.mnist_ebm",
    "mnist-realism": "genviz.backend.training.realism_classifier",
    "mnist-guide": "genviz.backend.training.guide_classifier",
}


class CLIError(Exception):
    """A user-facing error: printed as one ``genviz: error:`` line, exit status 1."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage dump
        sys.stderr.write(f"genviz: error: {message}\n")
        sys.exit(2)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="genviz", description="Desktop explorer for deep generative models. "
                "With no command, opens the app on the bundled default model (mnist-ddpm).")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    g = sub.add_parser("gui", help="open the app")
    g.add_argument("checkpoint", nargs="?", default=None, help="bundled name or path (default: mnist-ddpm)")
    g.add_argument("--panel", choices=PANELS, default="chain")
    g.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    g.add_argument("--screenshot", metavar="PNG", help="run the panel's default action, save a PNG of the window, exit")

    ls = sub.add_parser("list", help="list the bundled checkpoints")
    ls.add_argument("--json", action="store_true", help="print a JSON list")

    inf = sub.add_parser("info", help="print a checkpoint's metadata as JSON")
    inf.add_argument("checkpoint")

    s = sub.add_parser("sample", help="sample a checkpoint headless")
    s.add_argument("checkpoint")
    s.add_argument("--sampler", help="sampler name (default: the checkpoint's default sampler)")
    s.add_argument("--steps", type=int, help="number of chain steps")
    s.add_argument("--n", type=int, default=16, help="number of samples (default 16)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--eta", type=float, help="DDIM eta (>= 0)")
    s.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="any other sampler parameter, e.g. --param clip_sample=false (repeatable)")
    s.add_argument("--device", default="auto")
    s.add_argument("--trajectory", action="store_true", help="also store every step (npz only)")
    s.add_argument("--out", required=True, help="PATH.png (grid) or PATH.npz (arrays)")

    ev = sub.add_parser("eval", help="judge a digit model's samples with the digit classifier")
    ev.add_argument("checkpoint")
    ev.add_argument("--n", type=int, default=500)
    ev.add_argument("--sampler", default="ddim")
    ev.add_argument("--steps", type=int, default=50)
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument("--device", default="auto")
    ev.add_argument("--json", metavar="PATH", help="also write the report as JSON")

    sd = sub.add_parser("sdedit", help="turn a drawing into images (SDEdit; masked editing with --mask)")
    sd.add_argument("checkpoint")
    sd.add_argument("--strokes", required=True, metavar="IMG", help="the drawing: an image of any size and mode")
    sd.add_argument("--mask", metavar="IMG", help="white = regenerate, black = keep the drawing")
    sd.add_argument("--t0", type=float, default=None, help="start level as a fraction of T in [0, 1] (default 0.6)")
    sd.add_argument("--n", type=int, default=4, help="number of candidates K (default 4)")
    sd.add_argument("--steps", type=int, default=25, help="reverse-chain steps from t0 to 0 (default 25)")
    sd.add_argument("--sampler", choices=("ddim", "ddpm"), default="ddim")
    sd.add_argument("--eta", type=float, default=0.0, help="DDIM eta (>= 0)")
    sd.add_argument("--ilvr", type=int, default=0, metavar="N", help="ILVR low-pass factor (0 = off, e.g. 4)")
    sd.add_argument("--guidance", type=float, default=0.0, metavar="S",
                    help="classifier guidance toward the drawn digit with the mnist-guide classifier (0 = off, e.g. 2)")
    sd.add_argument("--guide-class", type=int, default=None, metavar="C", help="digit to guide toward (default: "
                    "the class mnist-guide sees in the drawing)")
    sd.add_argument("--repeats", type=int, default=1, help="SDEdit repeats (default 1)")
    sd.add_argument("--seed", type=int, default=0)
    sd.add_argument("--device", default="auto")
    sd.add_argument("--out", required=True, help="PATH.png (grid) or PATH.npz (samples (K, C, H, W) in [0, 1])")

    t = sub.add_parser("train", help="train a bundled model by its recipe", add_help=False)
    t.add_argument("recipe", choices=sorted(RECIPES))
    t.add_argument("args", nargs=argparse.REMAINDER)
    return p


def _check_out(path: str, suffixes: tuple) -> Path:
    out = Path(path)
    if out.suffix.lower() not in suffixes:
        raise CLIError(f"--out {path}: extension must be one of {', '.join(suffixes)}")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise CLIError(f"--out {path}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise CLIError(f"--out {path}: not writable")
    return out


def _parse_params(items: list[str]) -> dict:
    params = {}
    for item in items:
        if "=" not in item:
            raise CLIError(f"--param {item!r}: expected NAME=VALUE")
        k, v = item.split("=", 1)
        params[k.strip().replace("-", "_")] = v.strip()
    return params


def cmd_list(a) -> int:
    from .backend.checkpoints import list_checkpoints
    infos = list_checkpoints()
    if a.json:
        print(json.dumps([i.to_dict() for i in infos], indent=2))
    else:
        print(f"{'name':<22}{'family':<12}{'dataset':<14}{'shape':<14}{'size':>9}")
        for i in infos:
            shape = "x".join(map(str, i.data_shape))
            print(f"{i.name:<22}{i.family:<12}{i.dataset:<14}{shape:<14}{i.size_bytes / 1e6:>7.2f}MB")
    return 0


def cmd_info(a) -> int:
    from .backend.checkpoints import read_metadata
    print(json.dumps(read_metadata(a.checkpoint), indent=2))
    return 0


def cmd_sample(a) -> int:
    out = _check_out(a.out, (".png", ".npz"))
    if a.trajectory and out.suffix.lower() != ".npz":
        raise CLIError("--trajectory needs an .npz output")
    if a.n < 1:
        raise CLIError(f"--n must be >= 1, got {a.n}")
    params = _parse_params(a.param)
    if a.eta is not None:
        params["eta"] = a.eta
    import numpy as np
    import torch
    from .backend import chain, load_checkpoint
    model = load_checkpoint(a.checkpoint, device=a.device)
    sampler, steps = a.sampler, a.steps
    if sampler is None:
        d = dict(getattr(model, "default_sampler", {}))
        sampler = d.pop("name")
        default_steps = d.pop("steps", 50)
        params = {**d, **params}
        steps = steps if steps is not None else default_steps
    if steps is None:
        steps = 50
    traj = []
    last = None
    for rec in chain(model, sampler, steps=steps, n=a.n, seed=a.seed, **params):
        if not torch.isfinite(rec.x).all():
            raise CLIError(f"chain diverged at step {rec.index} (non-finite values)")
        if a.trajectory:
            traj.append(rec.x.float().cpu())
        last = rec
    x = last.x.float().cpu()
    unit = model.to_unit(x).numpy().astype(np.float32) if model.is_image else x.numpy().astype(np.float32)
    try:
        if out.suffix.lower() == ".png":
            if not model.is_image:
                raise CLIError(f"{model.name}: .png output needs an image model; use .npz")
            from .backend.imaging import make_grid, save_png
            save_png(out, make_grid(unit, scale=2))
        else:
            arrays = {"samples": unit}
            if a.trajectory:
                tr = torch.stack(traj)
                if model.is_image:
                    lo, hi = model.data_range
                    tr = (tr - lo) / (hi - lo)  # linear map to the [0, 1] convention, not clipped
                arrays["trajectory"] = tr.numpy().astype(np.float32)
            np.savez(out, **arrays)
    except OSError as e:
        raise CLIError(f"--out {a.out}: could not write ({e.strerror or e})") from None
    print(f"wrote {out} ({len(unit)} samples, {sampler}, {steps} steps, seed {a.seed})")
    return 0


def cmd_eval(a) -> int:
    import torch
    from .backend import load_checkpoint, sample
    from .backend.metrics import digit_report
    model = load_checkpoint(a.checkpoint, device=a.device)
    clf = load_checkpoint("mnist-classifier", device=a.device)
    xs = [sample(model, a.sampler, steps=a.steps, n=min(100, a.n - i), seed=a.seed + i).cpu()
          for i in range(0, a.n, 100)]
    rep = digit_report(torch.cat(xs), clf)
    rep.update(checkpoint=model.name, sampler=a.sampler, steps=a.steps, seed=a.seed)
    print(json.dumps(rep, indent=2))
    if a.json:
        Path(a.json).write_text(json.dumps(rep, indent=2))
    return 0


def cmd_sdedit(a) -> int:
    out = _check_out(a.out, (".png", ".npz"))
    if a.n < 1:
        raise CLIError(f"--n must be >= 1, got {a.n}")
    if a.steps < 1:
        raise CLIError(f"--steps must be >= 1, got {a.steps}")
    from .backend.conditioning import DEFAULT_T0, load_image, model_to_unit, sdedit, t0_to_timestep
    t0 = DEFAULT_T0 if a.t0 is None else a.t0
    try:
        t0_to_timestep(t0, 1000)
    except ValueError as e:
        raise CLIError(f"--t0: {e}") from None
    try:
        strokes = load_image(a.strokes)
    except ValueError as e:
        raise CLIError(f"--strokes {e}") from None
    try:
        mask = load_image(a.mask) if a.mask else None
    except ValueError as e:
        raise CLIError(f"--mask {e}") from None
    import numpy as np
    from .backend import load_checkpoint
    model = load_checkpoint(a.checkpoint, device=a.device)
    if model.family != "diffusion" or not model.is_image:
        raise CLIError(f"{model.name}: sdedit needs a diffusion model on images (this is a {model.family} model)")
    guide = None
    if a.guidance < 0:
        raise CLIError(f"--guidance must be >= 0, got {a.guidance}")
    if a.guidance > 0 or a.guide_class is not None:
        guide = load_checkpoint("mnist-guide", device=a.device)
        if tuple(guide.data_shape) != tuple(model.data_shape):
            raise CLIError(f"--guidance: mnist-guide works on {guide.data_shape} images, {model.name} on "
                           f"{model.data_shape}")
    res = sdedit(model, strokes, t0=t0, n=a.n, steps=a.steps, sampler=a.sampler, seed=a.seed, mask=mask,
                 eta=a.eta, ilvr=a.ilvr, repeats=a.repeats, guidance=a.guidance, guide_classifier=guide,
                 guide_class=a.guide_class)
    unit = model_to_unit(res.samples, model)
    try:
        if out.suffix.lower() == ".png":
            from .backend.imaging import make_grid, save_png
            save_png(out, make_grid(unit, nrow=len(unit), scale=4 if unit.shape[-1] <= 64 else 1))
        else:
            np.savez(out, samples=unit, drawing=model_to_unit(res.y, model), t0=np.float32(t0),
                     t_start=np.int64(res.t_start))
    except OSError as e:
        raise CLIError(f"--out {a.out}: could not write ({e.strerror or e})") from None
    print(f"wrote {out} ({len(unit)} candidates, t0 {t0:g} = step {res.t_start} of {model.num_train_timesteps}, "
          f"{a.sampler}, {len(res.timesteps)} steps, seed {a.seed}"
          + (f", guided to {res.guide_class}" if res.guide_class is not None else "") + ")")
    return 0


def cmd_train(a) -> int:
    import importlib
    mod = importlib.import_module(RECIPES[a.recipe])
    mod.main(a.args)
    return 0


def cmd_gui(a) -> int:
    from .gui.app import run_gui
    return run_gui(checkpoint=a.checkpoint, panel=a.panel, device=a.device, screenshot=a.screenshot)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    a = _parser().parse_args(argv)
    if a.command is None:
        a = _parser().parse_args(["gui"])
    handlers = {"gui": cmd_gui, "list": cmd_list, "info": cmd_info, "sample": cmd_sample, "eval": cmd_eval,
                "train": cmd_train, "sdedit": cmd_sdedit}
    try:
        return handlers[a.command](a)
    except KeyboardInterrupt:
        sys.stderr.write("genviz: error: interrupted\n")
        return 130
    except Exception as e:  # every user-facing failure: one line, no traceback
        from .backend.checkpoints import CheckpointError
        if not isinstance(e, (CLIError, CheckpointError, ValueError, OSError)) and os.environ.get("GENVIZ_DEBUG"):
            raise
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        sys.stderr.write(f"genviz: error: {msg}\n")
        return 1
