"""Plain-language captions: what is on screen and what the current step means, in everyday words.

Pure functions of the shown state (no Qt, no torch), so they are unit-tested and the same words appear in
the app, in presentation mode and in screenshots. Technical names follow in brackets where they help.
"""
from __future__ import annotations

import numpy as np


def _moves_by_drift(sampler: str) -> bool:
    """Langevin-type (drift + noise) rather than denoising-type; by grid for names no sampler registers."""
    from ..backend.samplers import SAMPLERS
    spec = SAMPLERS.get(sampler)
    return spec.moves_by_drift if spec is not None else sampler not in ("ddpm", "ddim")


def _words(sampler: str, fallback: str) -> str:
    """What one step of ``sampler`` does, in everyday words: its ``SamplerSpec.caption`` (the one place)."""
    from ..backend.samplers import SAMPLERS
    spec = SAMPLERS.get(sampler)
    return spec.caption if spec is not None and spec.caption else fallback


EARLY_SHARE = 0.25  # before this share of the chain, the judged image is still mostly noise


def _guess(probs, selected: int, index: int = 1, total: int = 1, classes=None) -> str:
    """The classifier's belief about sample ``selected``, worded no stronger than it can support: a
    classifier's confidence on an image that is still mostly noise (record 0, or the first ``EARLY_SHARE`` of
    the chain) says nothing about the class, so it is reported as a guess with that caveat. ``classes``: the
    class names (None: the ten digits); other names than digits are worded as categories ("Food & Drink")."""
    if probs is None or selected >= len(probs) or index <= 0:
        return ""
    p = np.asarray(probs[selected], float)
    k = int(np.argmax(p))
    digits = classes is None or list(classes) == [str(i) for i in range(10)]
    name, what = (k, "digit") if digits else (f"“{classes[k]}”", "category")
    if index < EARLY_SHARE * total:
        return (f" The {what} classifier's top guess for sample #{selected} is {name}, but on an image this noisy "
                "its confidence means little.")
    if p[k] >= 0.9:
        return f" Sample #{selected} already looks like {'a ' if digits else ''}{name} to the {what} classifier ({p[k]:.0%} sure)."
    if p[k] >= 0.5:
        return f" Sample #{selected} might become {'a ' if digits else ''}{name} ({p[k]:.0%})."
    return f" The classifier cannot yet tell which {what} sample #{selected} will be."


def chain_caption(rec, branch, family: str = "diffusion", selected: int = 0, classes=None,
                  noun: str = "a digit") -> str:
    """One or two sentences about the chain panel's shown record.

    Args:
        rec: the shown ``Record`` (None: no chain yet).
        branch: the shown ``Branch`` (sampler, total_steps, done, parent, start).
        family: the model family ("diffusion", "ebm", "score").
        selected: the selected sample, whose digit belief is described.
        classes: the chain classifier's class names (None: digits); ``noun``: what a chain ends as ("a digit",
            "an emoji", "an image").
    """
    if rec is None or branch is None:
        return "No chain yet: press Run to watch the model make samples, or Step to go one step at a time."
    total = branch.total_steps
    k = rec.index
    branch_note = (f" This is branch {branch.number}, which left branch {branch.parent} at step {branch.start}."
                   if branch.parent is not None else "")
    from .captions_fill import chain_words  # one pixel / one Gibbs sweep per step: their own words
    own = chain_words(rec, branch, selected)
    if own is not None:
        return own + branch_note
    if not _moves_by_drift(branch.sampler):  # denoising-type: each step predicts the clean sample
        if k == 0:
            return (f"Step 0 of {total}: pure random noise. At every step the model removes a little of it; "
                    f"after {total} steps {noun} remains." + branch_note)
        what = _words(branch.sampler, "removed a little noise")
        if k >= total:
            return (f"Finished: {total} steps turned noise into images. Scrub back to see when each one took "
                    f"shape, or branch from an earlier step to try another path." + _guess(rec.probs, selected, k, total, classes)
                    + branch_note)
        return (f"Step {k} of {total}: the model {what}. The right image is its current guess of the final "
                f"result (x̂₀)." + _guess(rec.probs, selected, k, total, classes) + branch_note)
    # Langevin-type
    if k == 0:
        return (f"Step 0 of {total}: the samples start as random noise. At every step each one moves downhill "
                f"on the model's energy landscape, plus a little random jitter." + branch_note)
    parts = [f"Step {k} of {total}:"]
    if rec.noise_norms is None or not any(float(v) > 0 for v in rec.noise_norms):  # a noise-free chain
        parts.append(f"each sample {_words(branch.sampler, 'moved downhill on the energy landscape')}.")
    else:
        ratio = ""
        if rec.drift_norms is not None and rec.noise_norms is not None and selected < len(rec.drift_norms):
            d, n = float(rec.drift_norms[selected]), float(rec.noise_norms[selected])
            if n > 0:
                ratio = (f" For sample #{selected} the push is {d / n:.2g}× the jitter"
                         + (": the model is in charge." if d > n else ": mostly random wandering.") )
        parts.append("each sample " + _words(branch.sampler, "took a push from the model toward more likely images "
                                                      "(the drift) and a random jitter (the noise)") + "." + ratio)
    if rec.accept is not None:
        parts.append(f"{rec.accept:.0%} of the proposed moves were accepted (MALA).")
    if rec.level is not None:
        parts.append(f"Noise level {rec.level + 1} (σ = {rec.sigma:.3g}).")
    if k >= total:
        parts.append("Finished.")
    return " ".join(parts) + _guess(rec.probs, selected, k, total, classes) + branch_note


INTERP_WORDS = {
    "lerp": "a straight line between the two codes (lerp): halfway, the code is shorter than any typical one, "
            "so the middle images can look washed out or generic",
    "slerp": "an arc over the sphere where typical codes live (slerp): every code on the way has a typical length",
    "rho": "the variance-preserving path z_ρ = ρ z₁ + √(1−ρ²) z₂: it keeps the codes' spread, like slerp",
}


def interpolation_caption(status: str, method: str, t: float, frames: int, grid: bool = False) -> str:
    """Plain words for the interpolation panel: what the strip, slider and norm plot show."""
    if status == "running":
        return "Decoding the path: each frame is the model's picture of one point between the two endpoints…"
    if status != "done":
        return ("Pick two endpoints (a seed, a sample or a real digit), then Interpolate: the model draws the "
                "pictures it makes for the points in between.")
    how = INTERP_WORDS.get(method, method)
    where = ("at the start (image A)" if t <= 0.001 else "at the end (image B)" if t >= 0.999
             else f"{t:.0%} of the way from A to B")
    text = (f"{frames} frames along {how}. The big image is the point {where}. The plot shows the code's length "
            f"along each path: a dip means atypical codes.")
    if grid:
        text += " The grid blends four endpoints, one in each corner."
    return text


def canvas_caption(t0: float, busy: bool, n_candidates: int, current: int, blank: bool, guided: bool = False,
                   colour: bool = False) -> str:
    """Plain words for the canvas: what generation does at this t0 and what the staging area holds (``colour``:
    a colour model, painted with the palette)."""
    if blank and colour:
        return ("Paint with the mouse in colour (the palette, Fill, Pick), then press Generate: the model turns your "
                "strokes into a picture like the ones it learned from.")
    if blank:
        return "Draw a digit with the mouse (white on black), then press Generate: the model turns it into handwriting."
    keep = ("keeps most of your strokes" if t0 < 0.5 else "keeps the rough shape of your drawing" if t0 < 0.85
            else "keeps only the layout of your drawing")
    how = (f"Your drawing is covered with noise up to {t0:.0%} of the way to pure noise, then the model removes the "
           f"noise again (SDEdit): at this level it {keep}.")
    if guided:
        how += " A digit classifier nudges each step toward the digit you drew."
    if busy:
        return how + " Generating…"
    if n_candidates:
        return (how + f" The staging area shows candidate {current + 1} of {n_candidates}: Accept puts it on the "
                "canvas (Undo brings your drawing back), Discard drops it.")
    return how


DENSITY_IMAGES = {
    "none": "",
    "logp": {"ebm": "The colours show the model's energy landscape (−E): bright valleys are where it puts data.",
             "flow": "The colours show the flow's exact log-density: bright where data is likely.",
             "diffusion": "The colours show the diffusion model's log-density, computed by following its noise-free "
                          "path (probability-flow ODE).",
             "vae": "The colours show the VAE's lower bound on log-density (ELBO).",
             "gan": "The colours show the GAN discriminator's opinion — a GAN has no density of its own."},
    "density": "The colours show the model's density, scaled so it adds up to 1 over the picture.",
    "data": "The colours show the true density of the data.",
}


def density_caption(family, dataset: str, image: str, running: bool, step, steps, training: bool = False,
                    shown: dict | None = None) -> str:
    """Plain words for the density panel: what the dots, colours and moving particles are.

    ``shown``: which layers are on (``data``, ``samples``, ``particles``; default all)."""
    shown = {"data": True, "samples": True, "particles": True, **(shown or {})}
    if training:
        return (f"Training a model on the '{dataset}' points: watch the loss fall. The picture redraws the model "
                "being trained about every second, so you see it learn; its readouts come when it finishes.")
    text = f"Blue dots: real '{dataset}' data. " if shown["data"] else ""
    if family is None:
        return text + "Load a 2-D model (or train one live) to see what it learned."
    if shown["samples"]:
        text += "Orange dots: samples the model made. "
    img = DENSITY_IMAGES.get(image, "")
    text += img.get(family, "") if isinstance(img, dict) else img
    if shown["particles"] and step is not None:
        move = {"ebm": "rolled downhill on the energy with a little random jitter (Langevin)",
                "diffusion": "were denoised step by step",
                "flow": "were pushed through the flow's layers"}.get(family, "move")
        when = f"step {step} of {steps}" if running else f"they stopped after {step} steps"
        text += f" White particles started as noise and {move}: {when}."
    return text.strip()
