"""The headless commands that run a model: ``genviz sample``, ``eval``, ``sdedit`` and ``interpolate``.

``genviz.cli`` builds the parser and dispatches here; every failure raises ``CLIError`` (or a ValueError /
``CheckpointError`` from the backend), which ``cli.main`` prints as one ``genviz: error:`` line.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

MAX_SEED = 2**63 - 1
LIMITS = {  # explicit bounds on every size the CLI accepts (the memory a run needs grows with them)
    "n": 4096, "eval_n": 20000, "steps": 100_000, "frames": 512, "grid_frames": 32, "candidates": 64, "repeats": 16,
}


class CLIError(Exception):
    """A user-facing error: printed as one ``genviz: error:`` line, exit status 1."""


def _flag_params(a) -> dict:
    """The sampler parameters given by their own flags (``--step-size 0.1`` -> ``{"step_size": 0.1}``)."""
    prefix = "sampler_param_"
    return {k[len(prefix):]: v for k, v in vars(a).items() if k.startswith(prefix) and v is not None}


def _check_out(path: str, suffixes: tuple, flag: str = "--out") -> Path:
    out = Path(path)
    if out.suffix.lower() not in suffixes:
        raise CLIError(f"{flag} {path}: extension must be one of {', '.join(suffixes)}")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise CLIError(f"{flag} {path}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise CLIError(f"{flag} {path}: not writable")
    import tempfile
    try:  # a real probe (root passes os.access everywhere; /proc refuses new files): before any long work runs
        with tempfile.NamedTemporaryFile(dir=parent, prefix=f".{out.stem}.probe-"):
            pass
    except OSError as e:
        raise CLIError(f"{flag} {path}: not writable ({e.strerror or e})") from None
    return out


def _parse_params(items: list[str]) -> dict:
    params = {}
    for item in items:
        if "=" not in item:
            raise CLIError(f"--param {item!r}: expected NAME=VALUE")
        k, v = item.split("=", 1)
        params[k.strip().replace("-", "_")] = v.strip()
    return params


def cmd_sample(a) -> int:
    out = _check_out(a.out, (".png", ".npz"))
    if a.trajectory and out.suffix.lower() != ".npz":
        raise CLIError("--trajectory needs an .npz output")
    if a.n < 1:
        raise CLIError(f"--n must be >= 1, got {a.n}")
    params = {**_parse_params(a.param), **_flag_params(a)}
    if getattr(a, "server", None):  # the chain runs on a genviz server (genviz.remote)
        from .remote.commands import remote_sample
        return remote_sample(a, out, params)
    import numpy as np
    import torch

    from .backend import chain, load_checkpoint
    from .backend.api import resolve_sampler, sampler_settings
    from .backend.validate import check_run_memory
    from .cli_io import Progress, atomic_output
    model = load_checkpoint(a.checkpoint, device=a.device)
    sampler, steps, params = resolve_sampler(model, a.sampler, a.steps, params)
    steps = 50 if steps is None else steps
    check_run_memory(model, a.n, f"--n {a.n}" + (f" with --trajectory over {steps} steps" if a.trajectory else ""),
                     kept=a.n * (steps + 1) if a.trajectory else 0)
    traj = []
    last = None
    from .backend.samplers.denoising import divergence
    clip = sampler_settings(sampler, params).get("clip_sample")  # as the chain uses it (typed, or the default)
    bar = Progress(steps, f"{sampler}")
    for rec in chain(model, sampler, steps=steps, n=a.n, seed=a.seed, **params):
        if model.family == "diffusion":
            problem = divergence(rec.x, model.data_range, rec.index, clip)
        else:
            problem = None if torch.isfinite(rec.x).all() else f"chain diverged at step {rec.index} (non-finite values)"
        if problem:
            bar.close()
            raise CLIError(problem)
        if a.trajectory:
            traj.append(rec.x.float().cpu())
        last = rec
        bar.update(rec.index)
    bar.close()
    x = last.x.float().cpu()
    unit = model.to_unit(x).numpy().astype(np.float32) if model.is_image else x.numpy().astype(np.float32)
    try:
        if out.suffix.lower() == ".png":
            if not model.is_image:
                raise CLIError(f"{model.name}: .png output needs an image model; use .npz")
            from .backend.imaging import make_grid, save_png
            with atomic_output(out) as tmp:
                save_png(tmp, make_grid(unit, scale=2))
        else:
            arrays = {"samples": unit}
            if a.trajectory:
                tr = torch.stack(traj)
                if model.is_image:
                    lo, hi = model.data_range
                    tr = (tr - lo) / (hi - lo)  # linear map to the [0, 1] convention, not clipped
                arrays["trajectory"] = tr.numpy().astype(np.float32)
            with atomic_output(out) as tmp:
                np.savez(tmp, **arrays)
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
    from .backend.judges import judges_for
    from .backend.metrics import digit_report
    model = load_checkpoint(a.checkpoint, device=a.device)
    if not model.is_image:
        raise CLIError(f"{model.name}: eval judges image models (this is a {model.family} model on points)")
    try:
        judges = judges_for(model)
    except ValueError as e:
        raise CLIError(f"eval: {e}") from None
    clf = load_checkpoint(judges.classifier, device=a.device)
    sampler, steps, params = resolve_sampler(model, a.sampler, a.steps, params)
    steps = 50 if steps is None else steps
    from .backend.validate import check_run_memory
    from .cli_io import Progress, atomic_output
    if a.json:
        _check_out(a.json, (".json",), "--json")
    check_run_memory(model, min(100, a.n), f"--n {a.n}", kept=a.n)
    bar = Progress(a.n, f"eval {sampler}")
    xs = []
    for i in range(0, a.n, 100):
        xs.append(sample(model, sampler, steps=steps, n=min(100, a.n - i), seed=a.seed + i, **params).cpu())
        bar.update(i + len(xs[-1]))
    bar.close()
    x = torch.cat(xs)
    bad = int((~torch.isfinite(x.flatten(1)).all(1)).sum())
    if bad:  # a diverging sampler is a failure, not a report
        raise CLIError(f"{sampler} diverged: {bad} of {len(x)} samples hold non-finite values (try fewer steps "
                       "or a smaller step size)")
    rep = digit_report(x, clf)
    rep.update(checkpoint=model.name, judge=judges.classifier, classes=clf.classes, sampler=sampler, steps=steps,
               params=params, seed=a.seed)
    print(json.dumps(rep, indent=2))
    if a.json:
        with atomic_output(a.json) as tmp:
            tmp.write_text(json.dumps(rep, indent=2))
    return 0


def cmd_sdedit(a) -> int:
    out = _check_out(a.out, (".png", ".npz"))
    if a.n < 1:
        raise CLIError(f"--n must be >= 1, got {a.n}")
    if a.steps < 1:
        raise CLIError(f"--steps must be >= 1, got {a.steps}")
    from .backend.conditioning import load_image, model_to_unit, recommended_settings, sdedit, t0_to_timestep
    from .backend.sdedit_defaults import default_t0
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
    from .backend.conditioning import SDEDIT_SAMPLERS, edit_samplers
    if not model.is_image or model.family not in ("diffusion", "ddgan"):
        raise CLIError(f"{model.name}: sdedit needs a diffusion model or a denoising diffusion GAN on images (this "
                       f"is a {model.family} model" + ("; genviz complete fills its drawings)" if model.family in
                                                       ("autoregressive", "rbm") else ")"))
    samplers = edit_samplers(model)
    a.sampler = a.sampler or samplers[0]
    if a.sampler not in samplers:
        raise CLIError(f"--sampler {a.sampler}: {model.name} edits with {', '.join(samplers)}")
    from .backend.validate import check_run_memory
    from .cli_io import atomic_output
    check_run_memory(model, a.n, f"--n {a.n}")
    plain = a.plain or a.sampler not in SDEDIT_SAMPLERS  # ILVR + guidance defaults: the ddim/ddpm chain only
    rec = dict(t0=default_t0(model)[0], ilvr=0, guidance=0.0) if plain else recommended_settings(model)
    t0 = a.t0 if a.t0 is not None else rec["t0"]
    ilvr = a.ilvr if a.ilvr is not None else rec["ilvr"]
    guidance = a.guidance if a.guidance is not None else rec["guidance"]
    guide = rec.get("guide_classifier")
    if guidance > 0 and guide is None:
        guide = load_checkpoint("mnist-guide", device=a.device)
        if tuple(guide.data_shape) != tuple(model.data_shape):
            raise CLIError(f"--guidance: mnist-guide works on {guide.data_shape} images, {model.name} on "
                           f"{model.data_shape}")
    try:
        res = sdedit(model, strokes, t0=t0, n=a.n, steps=a.steps, sampler=a.sampler, seed=a.seed, mask=mask,
                     eta=a.eta, ilvr=ilvr, repeats=a.repeats, guidance=guidance, guide_classifier=guide,
                     guide_class=a.guide_class)
    except ValueError as e:
        if a.sampler in SDEDIT_SAMPLERS:
            raise
        raise CLIError(str(e)) from None
    unit = model_to_unit(res.samples, model)
    try:
        if out.suffix.lower() == ".png":
            from .backend.imaging import make_grid, save_png
            with atomic_output(out) as tmp:
                save_png(tmp, make_grid(unit, nrow=len(unit), scale=4 if unit.shape[-1] <= 64 else 1))
        else:
            with atomic_output(out) as tmp:
                np.savez(tmp, samples=unit, drawing=model_to_unit(res.y, model), t0=np.float32(t0),
                         t_start=np.int64(res.t_start))
    except OSError as e:
        raise CLIError(f"--out {a.out}: could not write ({e.strerror or e})") from None
    if a.sampler == "ddgan":  # the paper's step k = round(t0·T) of T (ddgan_edit.t0_to_steps)
        from .backend.ddgan_edit import t0_to_steps
        where = f"step {t0_to_steps(t0, model.num_timesteps)} of {model.num_timesteps}"
    else:
        where = f"step {res.t_start} of {model.num_train_timesteps}"
    print(f"wrote {out} ({len(unit)} candidates, t0 {t0:g} = {where}, "
          f"{a.sampler}, {len(res.timesteps)} steps, seed {a.seed}" + (f", ILVR {ilvr}" if ilvr > 1 else "")
          + (f", guided to {res.guide_class}" if res.guide_class is not None else "") + ")")
    return 0


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
    from .backend.validate import check_run_memory
    from .cli_io import atomic_output
    frames = a.frames * a.frames if a.grid else a.frames
    check_run_memory(model, frames, f"--frames {a.frames}" + (" with --grid" if a.grid else ""), kept=frames)
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
            with atomic_output(out) as tmp:
                save_png(tmp, make_grid(unit, nrow=a.frames, scale=2))
        else:
            with atomic_output(out) as tmp:
                np.savez(tmp, samples=unit, latents=res["latents"].numpy().astype(np.float32),
                         latent_norm=res["norms"], t=res["t"], method=np.array(a.method),
                         grid_shape=np.array(res["grid_shape"] or (1, a.frames)))
    except OSError as e:
        raise CLIError(f"--out {a.out}: could not write ({e.strerror or e})") from None
    what = f"{a.frames}x{a.frames} grid" if a.grid else f"{a.frames} frames"
    print(f"wrote {out} ({what}, {a.method}, {space.describe()})")
    return 0
