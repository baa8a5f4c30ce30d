"""The ``genviz`` command line: the app (``genviz`` / ``genviz gui``) and headless commands.

Every failure exits non-zero with one line on stderr starting ``genviz: error:`` (no traceback).
Heavy imports (torch, Qt) happen inside the commands, so ``genviz --help`` is instant.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from .commands import LIMITS, MAX_SEED, CLIError, _check_out, cmd_eval, cmd_interpolate, cmd_sample, cmd_sdedit
from .panels import panel_keys
from .remote.commands import add_serve_parser, add_server_options, cmd_serve

RECIPES = {
    "mnist-ddpm": "genviz.backend.training.mnist_ddpm",
    "mnist-ddgan": "genviz.backend.training.mnist_ddgan",
    "mnist-classifier": "genviz.backend.training.digit_classifier",
    "mnist-ebm": "genviz.backend.training.mnist_ebm",
    "mnist-vae": "genviz.backend.training.mnist_vae",
    "mnist-gan": "genviz.backend.training.mnist_gan",
    "mnist-glf": "genviz.backend.training.mnist_glf",
    "mnist-vaebm": "genviz.backend.training.mnist_vaebm",
    "mnist-realism": "genviz.backend.training.realism_classifier",
    "mnist-guide": "genviz.backend.training.guide_classifier",
    "emoji-classifier": "genviz.backend.training.emoji_classifier",
    "emoji-realism": "genviz.backend.training.emoji_realism",
    "emoji-ddpm": "genviz.backend.training.emoji_ddpm",
    "mnist-pixelcnn": "genviz.backend.training.mnist_pixelcnn",
    "mnist-rbm": "genviz.backend.training.mnist_rbm",
    "toy": "genviz.backend.training.toy",
    "toy-ddgan": "genviz.backend.training.toy_ddgan",
    "toy-vaebm": "genviz.backend.training.toy_vaebm",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage dump
        sys.stderr.write(f"genviz: error: {message}\n")
        sys.exit(2)


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
    add_server_options(g)
    g.add_argument("--session", metavar="FILE", help="open a saved .genviz session")

    pr = sub.add_parser("presets", help="list the demo presets")
    pr.add_argument("--json", action="store_true", help="print a JSON list")
    pr.add_argument("--thumbnails", action="store_true",
                    help="render each preset's Start-page thumbnail into resources/presets/ (runs every preset)")

    sm = sub.add_parser("samplers", help="list every sampler: name, label, kind, families, parameters")
    sm.add_argument("--json", action="store_true", help="print a JSON list")

    ls = sub.add_parser("list", help="list the bundled checkpoints")
    ls.add_argument("--json", action="store_true", help="print a JSON list")
    add_server_options(ls)

    inf = sub.add_parser("info", help="print a checkpoint's metadata as JSON and whether it is usable")
    inf.add_argument("checkpoint")

    s = sub.add_parser("sample", help="sample a checkpoint headless")
    s.add_argument("checkpoint")
    s.add_argument("--sampler", help="sampler name (default: the checkpoint's default sampler)")
    s.add_argument("--steps", type=bounded_int(1, LIMITS["steps"]), help="number of chain steps")
    s.add_argument("--n", type=bounded_int(1, LIMITS["n"]), default=16, help="number of samples (default 16)")
    s.add_argument("--seed", type=SEED, default=0)
    add_server_options(s)
    if with_flags:
        _sampler_options(s)
    s.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="any other sampler parameter, e.g. --param clip_sample=false (repeatable)")
    s.add_argument("--device", default="auto")
    s.add_argument("--trajectory", action="store_true", help="also store every step (npz only)")
    s.add_argument("--out", required=True, help="PATH.png (grid) or PATH.npz (arrays)")

    ev = sub.add_parser("eval", help="judge a digit model's samples with the digit classifier")
    ev.add_argument("checkpoint")
    ev.add_argument("--n", type=bounded_int(2, LIMITS["eval_n"]), default=500,
                    help="number of samples (at least 2: the Fréchet distance needs a covariance; default 500)")
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
                    "with ILVR + guidance; plain: the model's measured t0, else the t0 keeping the signal 0.6 keeps on "
                    "mnist-ddpm)")
    sd.add_argument("--n", type=bounded_int(1, LIMITS["candidates"]), default=4, help="number of candidates K (default 4)")
    sd.add_argument("--steps", type=bounded_int(1, LIMITS["steps"]), default=25, help="reverse-chain steps from t0 to 0 (default 25)")
    sd.add_argument("--sampler", default=None, metavar="NAME",
                    help="ddim (default for diffusion models), ddpm, any diffusers scheduler of `genviz samplers` "
                    "(plain SDEdit: no ILVR or guidance), or ddgan (a denoising diffusion GAN: round(t0·T) steps)")
    sd.add_argument("--eta", type=bounded_float(0.0, 10.0), default=0.0, help="DDIM eta (>= 0)")
    sd.add_argument("--ilvr", type=bounded_int(0, 64), default=None, metavar="N", help="ILVR low-pass factor (0 = off; default 4 "
                    "when a guide classifier fits the model, else 0)")
    sd.add_argument("--guidance", type=bounded_float(0.0, 1000.0), default=None, metavar="S",
                    help="classifier guidance toward the drawn digit with the mnist-guide classifier (0 = off; "
                    "default 2 when mnist-guide fits the model, else 0)")
    sd.add_argument("--plain", action="store_true", help="plain SDEdit: no ILVR, no guidance (default t0: see --t0)")
    sd.add_argument("--guide-class", type=bounded_int(0, 9999), default=None, metavar="C", help="digit to guide toward (default: "
                    "the class mnist-guide sees in the drawing)")
    sd.add_argument("--repeats", type=bounded_int(1, LIMITS["repeats"]), default=1, help="SDEdit repeats (default 1)")
    sd.add_argument("--seed", type=SEED, default=0)
    sd.add_argument("--device", default="auto")
    sd.add_argument("--out", required=True, help="PATH.png (grid) or PATH.npz (samples (K, C, H, W) in [0, 1])")

    cp = sub.add_parser("complete", help="fill a mask's white pixels (autoregressive model or RBM; known pixels kept)")
    cp.add_argument("checkpoint")
    cp.add_argument("--image", required=True, metavar="IMG", help="the image: any size and mode (binarised at 0.5)")
    cp.add_argument("--mask", required=True, metavar="MASK", help="white = unknown (the model draws it), black = known")
    cp.add_argument("--n", type=bounded_int(1, LIMITS["candidates"]), default=4, help="number of completions K (default 4)")
    cp.add_argument("--seed", type=SEED, default=0)
    cp.add_argument("--steps", type=bounded_int(1, LIMITS["steps"]), default=200, help="Gibbs sweeps (RBM; default 200)")
    cp.add_argument("--temperature", type=bounded_float(0.05, 10.0), default=1.0, help="logit temperature (autoregressive)")
    cp.add_argument("--device", default="auto")
    cp.add_argument("--out", required=True, help="PATH.npz (samples (K, 1, H, W) in [0, 1]) or PATH.png (grid)")

    mx = sub.add_parser("mixing", help="an RBM's class switches per 1,000 Gibbs sweeps (mnist-classifier judges)")
    mx.add_argument("checkpoint")
    mx.add_argument("--chains", type=bounded_int(1, 1024), default=16)
    mx.add_argument("--sweeps", type=bounded_int(1, LIMITS["steps"]), default=1000)
    mx.add_argument("--init", choices=("data", "uniform"), default="data", help="chains start from training digits or noise")
    mx.add_argument("--seed", type=SEED, default=0)
    mx.add_argument("--device", default="auto")
    mx.add_argument("--json", metavar="PATH", help="also write the report as JSON")

    fl = sub.add_parser("filters", help="save an RBM's hidden-unit filters as a PNG grid")
    fl.add_argument("checkpoint")
    fl.add_argument("--n", type=bounded_int(1, 4096), default=100, help="how many filters (default 100)")
    fl.add_argument("--scale", type=bounded_int(1, 16), default=2)
    fl.add_argument("--out", required=True, help="PATH.png")

    ex = sub.add_parser("export", help="write a diffusion checkpoint as a diffusers DDPMPipeline folder")
    ex.add_argument("checkpoint")
    ex.add_argument("out_dir", metavar="OUT_DIR", help="the folder to create (must not exist or be empty)")
    ex.add_argument("--format", choices=("diffusers",), default="diffusers", help="the folder format (diffusers)")
    ex.add_argument("--overwrite", action="store_true", help="replace an existing folder")

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

    dy = sub.add_parser("dynamics", help="GAN training dynamics headless: a Dirac-GAN trajectory (genviz.backend.dynamics)")
    dy.add_argument("game", choices=("dirac",))
    dy.add_argument("--method", choices=("simultaneous", "alternating"), default="simultaneous")
    dy.add_argument("--steps", type=bounded_int(1, 100_000), default=500, help="gradient steps (default 500)")
    dy.add_argument("--h", type=bounded_float(1e-4, 10.0), default=0.2, help="step size (default 0.2)")
    dy.add_argument("--start", default="1,0", metavar="THETA,PHI", help="start (θ, φ) (default 1,0)")
    dy.add_argument("--c", type=bounded_float(-10.0, 10.0), default=0.0, help="the data point c (default 0)")
    dy.add_argument("--r1", type=bounded_float(0.0, 10.0), default=0.0, metavar="GAMMA", help="R1 weight γ (default 0)")
    dy.add_argument("--clc", type=bounded_float(0.0, 10.0), default=0.0, metavar="LAMBDA", help="CLC gain λ (default 0)")
    dy.add_argument("--out", required=True, help="PATH.npz: trajectory (steps + 1, 2) with columns (θ, φ)")

    add_serve_parser(sub)
    t = sub.add_parser("train", help="train a bundled model by its recipe", add_help=False)
    t.add_argument("recipe", choices=sorted(RECIPES))
    t.add_argument("args", nargs=argparse.REMAINDER)
    return p


def _fill(name: str):
    """A handler from ``genviz.commands_fill`` (imported when the command runs)."""
    def run(a) -> int:
        from . import commands_fill
        return getattr(commands_fill, name)(a)
    return run


def cmd_list(a) -> int:
    if a.server:
        from .remote.commands import remote_list
        return remote_list(a)
    from .backend.checkpoints import list_checkpoints
    infos = list_checkpoints()
    if a.json:
        print(json.dumps([i.to_dict() for i in infos], indent=2))
    else:
        w = max([len(i.name) for i in infos] + [4]) + 2
        fw = max([len(i.family or "") for i in infos if not i.error] + [10]) + 2  # "autoregressive" is 14
        print(f"{'name':<{w}}{'family':<{fw}}{'dataset':<14}{'shape':<14}{'size':>9}")
        for i in infos:
            if i.error:
                print(f"{i.name:<{w}}broken: {i.error}")
                continue
            shape = "x".join(map(str, i.data_shape))
            print(f"{i.name:<{w}}{i.family:<{fw}}{i.dataset:<14}{shape:<14}{i.size_bytes / 1e6:>7.2f}MB")
    return 0


def cmd_info(a) -> int:
    """The metadata as JSON on stdout, then the verdict of the same checks ``load_checkpoint`` makes (schema,
    network plan, weights, memory): ``usable`` on stderr, or one ``genviz: error: not usable: ...`` line, exit 1."""
    from .backend.checkpoints import CheckpointError, load_checkpoint, read_metadata
    from .backend.validate import unknown_keys
    meta = read_metadata(a.checkpoint)
    print(json.dumps(meta, indent=2))
    sys.stdout.flush()
    try:
        load_checkpoint(a.checkpoint, device="cpu")
    except (CheckpointError, ValueError) as e:
        raise CLIError(f"not usable: {str(e).strip().splitlines()[0]}") from None
    extra = unknown_keys(meta)
    sys.stderr.write(f"usable ({meta['family']} model" + (f"; keys genviz ignores: {', '.join(extra)}" if extra else "")
                     + ")\n")
    return 0


def cmd_bench(a) -> int:
    if a.json:
        _check_out(a.json, (".json",), "--json")
    from .bench import run_bench
    res = run_bench(quick=a.quick, device=a.device, json_path=a.json, smoke=a.smoke)
    return 0 if not res.get("errors") else 1


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
    if a.preset:  # unknown or malformed: one error line before any window opens
        from .presets import get_preset
        from .sessions import check_preset
        check_preset(get_preset(a.preset), a.preset, with_checkpoint=True)
    if a.session:  # the whole file against the one schema (genviz.sessions), before any window opens
        from .sessions import read_session_file
        try:
            read_session_file(a.session)
        except ValueError as e:
            raise CLIError(f"--session {e}") from None
    from .gui.app import run_gui
    return run_gui(checkpoint=a.checkpoint, panel=a.panel, device=a.device, screenshot=a.screenshot,
                   preset=a.preset, session=a.session, server=a.server, token=a.token)


def cmd_samplers(a) -> int:
    from .backend.samplers import SAMPLERS
    rows = [{"name": s.name, "label": s.title, "kind": s.kind, "families": list(s.families()),
             "stochastic": s.stochastic, "description": s.description,
             "params": [{"name": p.name, "kind": p.kind, "default": p.default, "help": p.help,
                         **({"minimum": p.minimum} if p.minimum is not None else {}),
                         **({"maximum": p.maximum} if p.maximum is not None else {}),
                         **({"choices": list(p.choices)} if p.choices else {})} for p in s.params], **s.info}
            for s in SAMPLERS.values()]
    if a.json:
        print(json.dumps(rows, indent=2))
    else:
        w = {k: max(len(str(r[k])) for r in rows) + 2 for k in ("name", "label", "kind")}  # columns fit the longest
        for r in rows:
            print(f"{r['name']:<{w['name']}}{r['label']:<{w['label']}}{r['kind']:<{w['kind']}}{', '.join(r['families'])}")
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
                "train": cmd_train, "bench": cmd_bench, "serve": cmd_serve,
                "presets": cmd_presets, "samplers": cmd_samplers, "interpolate": cmd_interpolate, "sdedit": cmd_sdedit}
    handlers.update(complete=_fill("cmd_complete"), filters=_fill("cmd_filters"), mixing=_fill("cmd_mixing"))
    handlers["export"] = lambda a: __import__("genviz.commands_export", fromlist=["cmd_export"]).cmd_export(a)
    handlers["dynamics"] = lambda a: __import__("genviz.backend.dynamics", fromlist=["cli_main"]).cli_main(a)
    from .cli_io import quiet
    try:
        with quiet():  # library warnings are not the user's business: stderr keeps to genviz's own lines
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
