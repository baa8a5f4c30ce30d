"""Plain words for the autoregressive and RBM families: the chain panel's caption for their chains (one pixel or
one Gibbs sweep per step) and the canvas's caption for clamped completion. No Qt, no torch."""
from __future__ import annotations

import numpy as np

KINDS = ("autoregressive", "gibbs")


def sampler_kind(sampler: str) -> str:
    """The registered kind of ``sampler`` ("" for names no sampler registers)."""
    from ..backend.samplers import SAMPLERS
    spec = SAMPLERS.get(sampler)
    return spec.kind if spec is not None else ""


def _selected(v, selected: int):
    a = np.asarray(v, float).reshape(-1) if v is not None else None
    return None if a is None or selected >= len(a) or not np.isfinite(a[selected]) else float(a[selected])


def chain_words(rec, branch, selected: int = 0) -> str | None:
    """The chain caption for a ``pixelcnn`` or ``gibbs`` chain's shown record, or None for other samplers.

    ``rec.extra`` holds the per-sample stats the chain runner kept (``p_next``, ``nll``).
    """
    kind = sampler_kind(branch.sampler)
    if kind not in KINDS:
        return None
    total, k = branch.total_steps, rec.index
    extra = getattr(rec, "extra", None) or {}
    if kind == "autoregressive":
        unit = "row" if branch.params.get("unit") == "row" else "pixel"
        p = _selected(extra.get("p_next"), selected)
        nll = _selected(extra.get("nll"), selected)
        if k == 0:
            text = (f"Step 0 of {total}: a blank image. The model draws it one {unit} at a time, left to right and "
                    "top to bottom; each pixel is a coin flip whose odds depend only on the pixels above and to its "
                    "left.")
        elif k >= total:
            text = (f"Finished: {total} {unit}s drawn. Scrub back to see where the digit was decided, or branch from "
                    f"an earlier step: everything after it is drawn again.")
        else:
            text = f"Step {k} of {total}: the model drew {unit} {k} of {total}."
        if p is not None:
            text += f" For sample #{selected} the next pixel is white with probability {p:.2f}."
        if nll is not None and k > 0:
            text += f" The pixels drawn so far cost it {nll:.1f} nats (−log p)."
        return text + " The right grid shows the probability each drawn pixel had."
    if k == 0:
        return (f"Step 0 of {total}: the chains start (from digits, or from random pixels). Each step is one Gibbs "
                "sweep: every hidden unit is redrawn given the image, then every pixel given the hidden units.")
    text = (f"Sweep {k} of {total}: left, the binary sample; right, the mean-field image p(v | h) it was drawn from. "
            "A chain stays near one digit for long stretches and only now and then drifts to another (slow mixing).")
    return text + (" Finished." if k >= total else "")


def grid_titles(rec, branch) -> tuple[str, str] | None:
    """(left, right) grid titles (HTML) for a ``pixelcnn`` or ``gibbs`` chain's record, or None for other samplers."""
    if rec is None or branch is None:
        return None
    kind = sampler_kind(branch.sampler)
    if kind == "autoregressive":
        nxt = rec.t_next if rec.t_next is not None else 0
        return (f"<b>x</b> &nbsp;step {rec.index} · {nxt} pixels drawn",
                "<b>p(x<sub>i</sub> = 1 | x<sub>&lt;i</sub>)</b> &nbsp;of each pixel drawn, and the next")
    if kind == "gibbs":
        return (f"<b>v</b> &nbsp;sweep {rec.index} · binary sample", "<b>p(v | h)</b> &nbsp;mean-field image")
    return None


def fill_caption(fill: str, t0: float, busy: bool, n_candidates: int, current: int, blank: bool) -> str:
    """The canvas caption for clamped completion (``fill`` "causal": autoregressive, "gibbs": RBM)."""
    if blank:
        return ("Draw part of a digit, paint the mask over the pixels to fill (or leave no mask: the last "
                f"{t0:.0%} of the pixels are filled), then press Generate.")
    if fill == "causal":
        how = ("The model fills the unknown pixels (blue) one at a time in reading order, keeping your pixels exactly. "
               "It sees only the pixels above and to the left of each one: your pixels after the first unknown one "
               "(orange) cannot shape what it draws before them. The heat map shows how surprising each of your "
               "pixels is to the model (−log p, black 0 to yellow 4 nats).")
    else:
        how = ("The RBM fills the unknown pixels (blue) by Gibbs sampling with your pixels clamped: every sweep redraws "
               "the hidden units and then the unknown pixels, so every known pixel counts.")
    if busy:
        return how + " Generating…"
    if n_candidates:
        return how + (f" The staging area shows candidate {current + 1} of {n_candidates}: Accept puts it on the canvas "
                      "(Undo brings your drawing back).")
    return how
