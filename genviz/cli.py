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

from .panels import panel_keys

RECIPES = {
    "mnist-ddpm": "genviz.backend.training.mnist_ddpm",
    "mnist-classifier": "genviz.backend.training.digit_classifier",
    "mnist-ebm": "genviz.backend.training.mnist_ebm",
    "mnist-vae": "genviz.backend.training.mnist_vae",
    "mnist-gan": "genviz.backend.training.mnist_gan",
    "mnist-realism": "genviz.backend.training.realism_classifier",
    "mnist-guide": "genviz.backend.training.guide_classifier",
    "toy": "genviz.backend.training.toy",
}


class CLIError(Exception):
    """A user-facing error: printed as one ``genviz: error:`` line, exit status 1."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage dump
        sys.stderr.write(f"genviz: error: {message}\n")
        sys.exit(2)


MAX_SEED = 2**63 - 1
LIMITS = {  # explicit bounds on every size the CLI accepts (the memory a run needs grows with them)
    "n": 4096, "eval_n": 20000, "steps": 100_000, "frames": 512, "grid_frames": 32, "candidates": 64, "repeats": 16,
}


def bounded_int(lo: int, hi: int):
    """An argparse type: an int in lo..hi, else a one-line error naming the range."""
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number in {lo}..{hi}, got {text!r}") from None
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"must be in {lo}..{hi}, got {v}")
        return v
    return parse


def bounded_float(lo: float, hi: float):
    """An argparse type: a finite float in [lo, hi], else a one-line error naming the range."""
    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number in [{lo:g}, {hi:g}], got {text!r}") from None
        if not (v == v and lo <= v <= hi):  # v == v: NaN is refused
            raise argparse.ArgumentTypeError(f"must be a finite number in [{lo:g}, {hi:g}], got {text}")
        return v
    return parse


SEED = bounded_int(0, MAX_SEED)
SAMPLER_COMMANDS = ("sample", "eval")  # commands whose parser gets a flag for every sampler parameter


def sampler_flags() -> list[tuple[str, str, type, str]]:
    """``(flag, param name, type, help)`` for every parameter of every registered sampler, generated from the
    samplers' ``Param`` declarations (the one place): ``step_size`` -> ``--step-size``. A parameter that several
    samplers share gets one flag; its help names them. Imports the samplers (and torch)."""
    from .backend.samplers import SAMPLERS
    seen: dict[str, list] = {}
    for spec in SAMPLERS.values():
        for prm in spec.params:
            entry = seen.setdefault(prm.name, [prm, []])
            entry[1].append(spec.name)
    types = {"int": int, "float": float}
    out = []
    for name, (prm, users) in seen.items():
        choices = f" ({'/'.join(map(str, prm.choices))})" if prm.kind == "choice" else ""
        out.append((f"--{name.replace('_', '-')}", name, types.get(prm.kind, str),
                    f"{prm.help}{choices} [{', '.join(users)}]"))
    return out


def _sampler_options(p) -> None:
    for flag, name, typ, help_ in sampler_flags():
        p.add_argument(flag, dest=f"sampler_param_{name}", metavar=name.upper(), type=typ, help=help_)


def _flag_params(a) -> dict:
    """The sampler parameters given by their own flags (``--step-size 0.1`` -> ``{"step_size": 0.1}``)."""
    prefix = "sampler_param_"
    return {k[len(prefix):]: v for k, v in vars(a).items() if k.startswith(prefix) and v is not None}


def _parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser. Sampler flags (``sampler_flags``) are added only for ``command`` in
    ``SAMPLER_COMMANDS``, so other commands (and ``genviz --help``) do not import torch."""
    with_flags = command in SAMPLER_COMMANDS
    p = _Parser(prog="genviz", description="Desktop explorer for deep generative models. "
                "With no command (or only gui options), opens the app on the bundled default model (mnist-ddpm).")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    g = sub.add_parser("gui", help="open the app")
    g.add_argument("checkpoint", nargs="?", default=None, help="bundled name or path (default: mnist-ddpm)")
    g.add_argument("--panel", choices=panel_keys(), default=None,
                   help="the panel shown first, running its default action (default: the Start page with the demos; "
                   "chain when a checkpoint or --screenshot is given)")
    g.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    g.add_argument("--screenshot", metavar="PNG", help="run the panel's default action, save a PNG of the window, exit")
    g.add_argument("--preset", metavar="NAME", help="open a demo preset (see `genviz presets`)")
    g.add_argument("--session", metavar="FILE", help="open a saved .genviz session")

    pr = sub.add_parser("presets", help="list the demo presets")
    pr.add_argument("--json", action="store_true", help="print a JSON list")
    pr.add_argument("--thumbnails", action="store_true",
                    help="render each preset's Start-page thumbnail into resources/presets/ (runs every preset)")

    sm = sub.add_parser("samplers", help="list every sampler: name, label, kind, families, parameters")
    sm.add_argument("--json", action="store_true", help="print a JSON list")

    ls = sub.add_parser("list", help="list the bundled checkpoints")
    ls.add_argument("--json", action="store_true", help="print a JSON list")

    inf = sub.add_parser("info", help="print a checkpoint's metadata as JSON")
    inf.add_argument("checkpoint")

    s = sub.add_parser("sample", help="sample a checkpoint headless")
    s.add_argument("checkpoint")
    s.add_argument("--sampler", help="sampler name (default: the checkpoint's default sampler)")
    s.add_argument("--steps", type=bounded_int(1, LIMITS["steps"]), help="number of chain steps")
    s.add_argument("--n", type=bounded_int(1, LIMITS["n"]), default=16, help="number of samples (default 16)")
    s.add_argument("--seed", type=SEED, default=0)
    if with_flags:
        _sampler_options(s)
    s.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="any other sampler parameter, e.g. --param clip_sample=false (repeatable)")
    s.add_argument("--device", default="auto")
    s.add_argument("--trajectory", action="store_true", help="also store every step (npz only)")
    s.add_argument("--out", required=True, help="PATH.png (grid) or PATH.npz (arrays)")

    ev = sub.add_parser("eval", help="judge a digit model's samples with the digit classifier")
    ev.add_argument("checkpoint")
    ev.add_argument("--n", type=bounded_int(1, LIMITS["eval_n"]), default=500)
    ev.add_argument("--sampler", help="sampler name (default: the checkpoint's default sampler)")
    ev.add_argument("--steps", type=bounded_int(1, LIMITS["steps"]), help="number of chain steps (default: the checkpoint's)")
    ev.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                    help="any other sampler parameter (repeatable)")
    if with_flags:
        _sampler_options(ev)
    ev.add_argument("--seed", type=SEED, default=0)
    ev.add_argument("--device", default="auto")
    ev.add_argument("--json", metavar="PATH", help="also write the report as JSON")

    sd = sub.add_parser("sdedit", help="turn a drawing into images (SDEdit; masked editing with --mask)")
    sd.add_argument("checkpoint")
    sd.add_argument("--strokes", required=True, metavar="IMG", help="the drawing: an image of any size and mode")
    sd.add_argument("--mask", metavar="IMG", help="white = regenerate, black = keep the drawing")
    sd.add_argument("--t0", type=bounded_float(0.0, 1.0), default=None, help="start level as a fraction of T in [0, 1] (default: 0.9 "
                    "with ILVR + guidance, 0.6 plain)")
    sd.add_argument("--n", type=bounded_int(1, LIMITS["candidates"]), default=4, help="number of candidates K (default 4)")
    sd.add_argument("--steps", type=bounded_int(1, LIMITS["steps"]), default=25, help="reverse-chain steps from t0 to 0 (default 25)")
    sd.add_argument("--sampler", choices=("ddim", "ddpm"), default="ddim")
    sd.add_argument("--eta", type=bounded_float(0.0, 10.0), default=0.0, help="DDIM eta (>= 0)")
    sd.add_argument("--ilvr", type=bounded_int(0, 64), default=None, metavar="N", help="ILVR low-pass factor (0 = off; default 4 "
                    "when a guide classifier fits the model, else 0)")
    sd.add_argument("--guidance", type=bounded_float(0.0, 1000.0), default=None, metavar="S",
                    help="classifier guidance toward the drawn digit with the mnist-guide classifier (0 = off; "
                    "default 2 when mnist-guide fits the model, else 0)")
    sd.add_argument("--plain", action="store_true", help="plain SDEdit: no ILVR, no guidance (default t0 0.6)")
    sd.add_argument("--guide-class", type=bounded_int(0, 9999), default=None, metavar="C", help="digit to guide toward (default: "
                    "the class mnist-guide sees in the drawing)")
    sd.add_argument("--repeats", type=bounded_int(1, LIMITS["repeats"]), default=1, help="SDEdit repeats (default 1)")
    sd.add_argument("--seed", type=SEED, default=0)
    sd.add_argument("--device", default="auto")
    sd.add_argument("--out", required=True, help="PATH.png (grid) or PATH.npz (samples (K, C, H, W) in [0, 1])")

    b = sub.add_parser("bench", help="measure the performance budget (see README, Performance)")
    b.add_argument("--quick", action="store_true", help="fewer repeats: under 5 minutes on 2 CPU cores")
    b.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto (default cpu)")
    b.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    b.add_argument("--smoke", action="store_true", help=argparse.SUPPRESS)  # token workloads, for the tests

    ip = sub.add_parser("interpolate", help="decode a latent path (or 4-corner grid) between endpoints")
    ip.add_argument("checkpoint")
    ip.add_argument("--method", choices=("lerp", "slerp", "rho"), default="slerp")
    ip.add_argument("--frames", type=bounded_int(1, LIMITS["frames"]), default=8, help="frames along the path (grid: per side)")
    for c in "abcd":
        ip.add_argument(f"--seed-{c}", type=SEED, help=f"endpoint {c.upper()} from a seed (z = randn with that seed)")
        ip.add_argument(f"--image-{c}", metavar="IMG", help=f"endpoint {c.upper()} from a real image (PNG path or "
                        "mnist:K, a held-out digit) via the encoder / DDIM inversion")
    ip.add_argument("--grid", action="store_true", help="a frames x frames grid between A, B (top) and C, D (bottom)")
    ip.add_argument("--steps", type=bounded_int(1, LIMITS["steps"]), help="DDIM steps for diffusion models (default: the checkpoint's)")
    ip.add_argument("--device", default="auto")
    ip.add_argument("--out", required=True, help="PATH.png (strip or grid) or PATH.npz (samples (N, C, H, W) in [0, 1])")

    t = sub.add_parser("train", help="train a bundled model by its recipe", add_help=False)
    t.add_argument("recipe", choices=sorted(RECIPES))
    t.add_argument("args", nargs=argparse.REMAINDER)
    return p


def _check_out(path: str, suffixes: tuple, flag: str = "--out") -> Path:
    out = Path(path)
    if out.suffix.lower() not in suffixes:
        raise CLIError(f"{flag} {path}: extension must be one of {', '.join(suffixes)}")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise CLIError(f"{flag} {path}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise CLIError(f"{flag} {path}: not writable")
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
        w = max([len(i.name) for i in infos] + [4]) + 2
        print(f"{'name':<{w}}{'family':<12}{'dataset':<14}{'shape':<14}{'size':>9}")
        for i in infos:
            if i.error:
                print(f"{i.name:<{w}}broken: {i.error}")
                continue
            shape = "x".join(map(str, i.data_shape))
            print(f"{i.name:<{w}}{i.family:<12}{i.dataset:<14}{shape:<14}{i.size_bytes / 1e6:>7.2f}MB")
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
    params = {**_parse_params(a.param), **_flag_params(a)}
    import numpy as np
    import torch

    from .backend import chain, load_checkpoint
    from .backend.api import resolve_sampler, sampler_settings
    model = load_checkpoint(a.checkpoint, device=a.device)
    sampler, steps, params = resolve_sampler(model, a.sampler, a.steps, params)
    steps = 50 if steps is None else steps
    traj = []
    last = None
    from .backend.samplers.denoising import divergence
    clip = sampler_settings(sampler, params).get("clip_sample")  # as the chain uses it (typed, or the default)
    for rec in chain(model, sampler, steps=steps, n=a.n, seed=a.seed, **params):
        if model.family == "diffusion":
            problem = divergence(rec.x, model.data_range, rec.index, clip)
        else:
            problem = None if torch.isfinite(rec.x).all() else f"chain diverged at step {rec.index} (non-finite values)"
        if problem:
            raise CLIError(problem)
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
    if a.n < 1:
        raise CLIError(f"--n must be >= 1, got {a.n}")
    params = {**_parse_params(a.param), **_flag_params(a)}
    import torch

    from .backend import load_checkpoint, sample
    from .backend.api import resolve_sampler
    from .backend.metrics import digit_report
    model = load_checkpoint(a.checkpoint, device=a.device)
    if not (model.is_image and tuple(model.data_shape) == (1, 28, 28)):
        raise CLIError(f"{model.name}: eval judges 28x28 digit models (data shape {model.data_shape})")
    clf = load_checkpoint("mnist-classifier", device=a.device)
    sampler, steps, params = resolve_sampler(model, a.sampler, a.steps, params)
    steps = 50 if steps is None else steps
    xs = [sample(model, sampler, steps=steps, n=min(100, a.n - i), seed=a.seed + i, **params).cpu()
          for i in range(0, a.n, 100)]
    rep = digit_report(torch.cat(xs), clf)
    rep.update(checkpoint=model.name, sampler=sampler, steps=steps, params=params, seed=a.seed)
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
    from .backend.conditioning import DEFAULT_T0, load_image, model_to_unit, recommended_settings, sdedit, t0_to_timestep
    if a.t0 is not None:
        try:
            t0_to_timestep(a.t0, 1000)
        except ValueError as e:
            raise CLIError(f"--t0: {e}") from None
    if a.guidance is not None and a.guidance < 0:
        raise CLIError(f"--guidance must be >= 0, got {a.guidance}")
    if a.ilvr is not None and a.ilvr < 0:
        raise CLIError(f"--ilvr must be >= 0, got {a.ilvr}")
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
    rec = dict(t0=DEFAULT_T0, ilvr=0, guidance=0.0) if a.plain else recommended_settings(model)
    t0 = a.t0 if a.t0 is not None else rec["t0"]
    ilvr = a.ilvr if a.ilvr is not None else rec["ilvr"]
    guidance = a.guidance if a.guidance is not None else rec["guidance"]
    guide = rec.get("guide_classifier")
    if guidance > 0 and guide is None:
        guide = load_checkpoint("mnist-guide", device=a.device)
        if tuple(guide.data_shape) != tuple(model.data_shape):
            raise CLIError(f"--guidance: mnist-guide works on {guide.data_shape} images, {model.name} on "
                           f"{model.data_shape}")
    res = sdedit(model, strokes, t0=t0, n=a.n, steps=a.steps, sampler=a.sampler, seed=a.seed, mask=mask,
                 eta=a.eta, ilvr=ilvr, repeats=a.repeats, guidance=guidance, guide_classifier=guide,
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
          f"{a.sampler}, {len(res.timesteps)} steps, seed {a.seed}" + (f", ILVR {ilvr}" if ilvr > 1 else "")
          + (f", guided to {res.guide_class}" if res.guide_class is not None else "") + ")")
    return 0


def cmd_bench(a) -> int:
    if a.json:
        _check_out(a.json, (".json",), "--json")
    from .bench import run_bench
    res = run_bench(quick=a.quick, device=a.device, json_path=a.json, smoke=a.smoke)
    return 0 if not res.get("errors") else 1


def cmd_interpolate(a) -> int:
    out = _check_out(a.out, (".png", ".npz"))
    if a.frames < 2:
        raise CLIError(f"--frames must be >= 2, got {a.frames}")
    if a.grid and a.frames > LIMITS["grid_frames"]:
        raise CLIError(f"--frames with --grid is per side: must be in 2..{LIMITS['grid_frames']}, got {a.frames}")
    if a.steps is not None and a.steps < 1:
        raise CLIError(f"--steps must be >= 1, got {a.steps}")
    names = "abcd" if a.grid else "ab"
    for c in "abcd":
        seed, img = getattr(a, f"seed_{c}"), getattr(a, f"image_{c}")
        if c in names and (seed is None) == (img is None):
            raise CLIError(f"endpoint {c.upper()}: give exactly one of --seed-{c} or --image-{c}"
                           + (" (--grid needs A, B, C and D)" if a.grid and c in "cd" else ""))
        if c not in names and (seed is not None or img is not None):
            raise CLIError(f"--seed-{c}/--image-{c} need --grid")
    import numpy as np

    from .backend import load_checkpoint
    from .backend.interpolation import endpoint_latent, interpolate, latent_space, load_image
    model = load_checkpoint(a.checkpoint, device=a.device)
    if a.steps is not None and model.family != "diffusion":
        raise CLIError(f"--steps applies to diffusion models (DDIM latents); {model.name} is a {model.family} model")
    space = latent_space(model, steps=a.steps)
    corners = []
    for c in names:
        seed, img = getattr(a, f"seed_{c}"), getattr(a, f"image_{c}")
        image = load_image(img, model.data_shape, model.data_range, model=model) if img is not None else None
        corners.append(endpoint_latent(space, seed=seed, image=image))
    res = interpolate(space, corners, a.method, a.frames)
    unit = res["unit"]
    try:
        if out.suffix.lower() == ".png":
            if not model.is_image:
                raise CLIError(f"{model.name}: .png output needs an image model; use .npz")
            from .backend.imaging import make_grid, save_png
            save_png(out, make_grid(unit, nrow=a.frames, scale=2))
        else:
            np.savez(out, samples=unit, latents=res["latents"].numpy().astype(np.float32),
                     latent_norm=res["norms"], t=res["t"], method=np.array(a.method),
                     grid_shape=np.array(res["grid_shape"] or (1, a.frames)))
    except OSError as e:
        raise CLIError(f"--out {a.out}: could not write ({e.strerror or e})") from None
    what = f"{a.frames}x{a.frames} grid" if a.grid else f"{a.frames} frames"
    print(f"wrote {out} ({what}, {a.method}, {space.describe()})")
    return 0


def cmd_train(a) -> int:
    import importlib
    mod = importlib.import_module(RECIPES[a.recipe])
    mod.main(a.args)
    return 0


def cmd_gui(a) -> int:
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
                                                 or os.environ.get("QT_QPA_PLATFORM")):
        if not a.screenshot:
            raise CLIError("no display found (DISPLAY is not set): run genviz on a desktop, or use --screenshot, "
                           "which renders offscreen")
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # a screenshot needs no screen
    from .gui.app import run_gui
    if a.preset:
        from .presets import get_preset
        get_preset(a.preset)  # unknown name: one error line before any window opens
    if a.session and not Path(a.session).is_file():
        raise CLIError(f"--session {a.session}: no such file")
    return run_gui(checkpoint=a.checkpoint, panel=a.panel, device=a.device, screenshot=a.screenshot,
                   preset=a.preset, session=a.session)


def cmd_samplers(a) -> int:
    from .backend.samplers import SAMPLERS
    rows = [{"name": s.name, "label": s.title, "kind": s.kind, "families": list(s.families()),
             "stochastic": s.stochastic, "description": s.description,
             "params": [{"name": p.name, "kind": p.kind, "default": p.default, "help": p.help,
                         **({"minimum": p.minimum} if p.minimum is not None else {}),
                         **({"maximum": p.maximum} if p.maximum is not None else {}),
                         **({"choices": list(p.choices)} if p.choices else {})} for p in s.params]}
            for s in SAMPLERS.values()]
    if a.json:
        print(json.dumps(rows, indent=2))
    else:
        for r in rows:
            print(f"{r['name']:<15}{r['label']:<38}{r['kind']:<11}{', '.join(r['families'])}")
    return 0


def cmd_presets(a) -> int:
    from .presets import list_presets
    if a.thumbnails:
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from .gui.thumbnails import render_thumbnails
        written = render_thumbnails(log=lambda m: print(m, file=sys.stderr))
        if not written:
            raise CLIError("no thumbnail could be rendered")
        return 0
    presets = list_presets()
    if a.json:
        print(json.dumps([{k: p[k] for k in ("name", "title", "description", "checkpoint", "panel")}
                          for p in presets], indent=2))
    else:
        for p in presets:
            print(f"{p['name']:<22}{p['title']}  [{p['checkpoint']}, {p['panel']}]")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["gui", *argv]  # `genviz [--panel P] [--screenshot PNG] ...` is `genviz gui ...`
    a = _parser(argv[0] if argv else None).parse_args(argv)
    handlers = {"gui": cmd_gui, "list": cmd_list, "info": cmd_info, "sample": cmd_sample, "eval": cmd_eval,
                "train": cmd_train, "bench": cmd_bench,
                "presets": cmd_presets, "samplers": cmd_samplers, "interpolate": cmd_interpolate, "sdedit": cmd_sdedit}
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
