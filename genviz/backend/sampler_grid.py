"""The sampler comparison grid: samplers × step counts from one seed (AUTOMATIC1111's X/Y plot, with curves).

``run_grid`` runs every cell's chain (``api.chain``) from the same x_T and records, per cell, the final images,
the per-record curves (mean ‖x_t‖, the change of x̂₀ from one record to the next, the digit classifier's mean
confidence in x̂₀) and, once its reference exists, a convergence readout: the share of samples whose final class
equals the reference's, and the RMS distance of the final x₀ to it. The reference is either the same sampler's
chain with the most steps in the grid (``"most-steps"``), or a 1000-step DDPM chain from the same x_T
(``"ddpm-1000"``). Pure torch/numpy: the GUI runs it on the engine thread (``gui.panels.compare``).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterator

import numpy as np

if TYPE_CHECKING:  # torch is imported where it runs: the Samplers panel's module must not import it
    import torch

REFERENCES = ("most-steps", "ddpm-1000")
DEFAULT_STEPS = (5, 10, 20, 50)
DEFAULT_SAMPLERS = ("diffusers-ddim", "euler", "euler-a", "heun", "dpmpp-2m", "unipc")


@dataclass
class Cell:
    """One chain of the grid.

    Attributes:
        sampler, label, steps: the sampler's name and label, the chain's ``steps`` (num_inference_steps).
        nfe: network evaluations of the chain (records − 1: Heun/DPM2 make 2·steps − 1).
        images: (n, C, H, W) uint8 final samples (x of the last record, mapped to [0, 255]).
        x_norm: (nfe + 1,) mean over the batch of ‖x_t‖ per record.
        x0_change: (nfe,) mean ‖x̂₀ − previous x̂₀‖ per record (the first: NaN, nothing to compare).
        confidence: (nfe,) the classifier's mean max probability of x̂₀ per record, or None without a classifier.
        classes: (n,) final classes by the classifier, or None.
        agree: share in [0, 1] of samples whose final class equals the reference's (None until known).
        distance: RMS distance per pixel (model space) of the final x₀ to the reference's (None until known).
        seconds: wall time of the chain. error: why the chain failed ("" when it ran).
    """

    sampler: str
    label: str
    steps: int
    nfe: int = 0
    images: np.ndarray | None = None
    x_norm: np.ndarray = field(default_factory=lambda: np.zeros(0))
    x0_change: np.ndarray = field(default_factory=lambda: np.zeros(0))
    confidence: np.ndarray | None = None
    classes: np.ndarray | None = None
    agree: float | None = None
    distance: float | None = None
    seconds: float = 0.0
    error: str = ""
    final: torch.Tensor | None = field(default=None, repr=False)  # (n, *data_shape) CPU float32, for readouts


def _probs(classifier, x):
    return classifier.probs(x.float().to(classifier.device)).float().cpu()


def run_cell(model, sampler: str, steps: int, x_T: torch.Tensor, seed: int, classifier=None,
             params: dict | None = None) -> Cell:
    """One cell: the chain of ``sampler`` with ``steps`` from ``x_T`` (N, *data_shape), its curves and images.
    A failing chain (a scheduler refusing the step count, a diverging state) gives a cell with ``error`` set."""
    import torch

    from . import chain, get_sampler
    spec = get_sampler(sampler)
    cell = Cell(sampler, spec.title, int(steps))
    t0 = time.perf_counter()
    xn, dx, conf = [], [], []
    prev = last = None
    try:
        for rec in chain(model, sampler, steps=int(steps), x_init=x_T, seed=seed, **(params or {})):
            xn.append(float(rec.x.flatten(1).norm(dim=1).mean()))
            if rec.x0_hat is not None:
                x0 = rec.x0_hat.float()
                dx.append(float((x0 - prev).flatten(1).norm(dim=1).mean()) if prev is not None else math.nan)
                prev = x0
                if classifier is not None:
                    conf.append(float(_probs(classifier, x0).max(1).values.mean()))
            last = rec
    except (ValueError, RuntimeError, IndexError) as e:
        cell.error = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        cell.seconds = time.perf_counter() - t0
        return cell
    assert last is not None
    final = last.x.detach().float().cpu()
    if not torch.isfinite(final).all():
        cell.error = "the chain diverged (non-finite values)"
    cell.final = final
    cell.nfe = len(xn) - 1
    cell.x_norm, cell.x0_change = np.array(xn), np.array(dx)
    from .imaging import to_uint8
    cell.images = to_uint8(model.to_unit(final.clamp(*model.data_range)).numpy())
    if classifier is not None and not cell.error:
        cell.confidence = np.array(conf)
        cell.classes = _probs(classifier, final).argmax(1).numpy()
    cell.seconds = time.perf_counter() - t0
    return cell


def readout(cell: Cell, ref_final: torch.Tensor | None, ref_classes: np.ndarray | None) -> None:
    """Fill ``cell.agree`` and ``cell.distance`` against a reference's final states (n, *data_shape) and classes."""
    if cell.final is None or ref_final is None or cell.error:
        return
    cell.distance = float(((cell.final - ref_final) ** 2).mean().sqrt())
    if cell.classes is not None and ref_classes is not None:
        cell.agree = float((cell.classes == ref_classes).mean())


def run_grid(model, samplers, steps=DEFAULT_STEPS, *, n: int = 16, seed: int = 0, classifier=None,
             reference: str = "most-steps", params: dict | None = None) -> Iterator[dict]:
    """Run the grid cell by cell (rows = ``samplers``, columns = ``steps``), all from x_T = randn of ``seed``.

    Args:
        model: a diffusion model (``chain`` checks that each sampler fits it).
        samplers: sampler names; steps: step counts (each >= 1).
        n: samples per cell. classifier: the digit classifier (confidence curves, classes, agreement) or None.
        reference: ``"most-steps"`` or ``"ddpm-1000"`` (see the module docstring).
        params: per-sampler parameters, {name: {param: value}} (defaults where missing).
    Yields:
        after every cell, ``{"cells": [[Cell or None per step] per sampler], "done": k, "total": m,
        "reference": ...}`` (the same growing object; the GUI keeps the newest).
    Raises:
        ValueError: no samplers or steps, a step count below 1, an unknown reference.
    """
    samplers, steps = list(samplers), [int(s) for s in steps]
    if not samplers or not steps or min(steps) < 1:
        raise ValueError("the grid needs at least one sampler and step counts >= 1")
    if reference not in REFERENCES:
        raise ValueError(f"reference must be one of {', '.join(REFERENCES)}, got {reference!r}")
    import torch
    params = params or {}
    x_T = torch.randn((int(n), *model.data_shape), generator=torch.Generator().manual_seed(int(seed)))
    cells: list[list[Cell | None]] = [[None] * len(steps) for _ in samplers]
    total = len(samplers) * len(steps) + (reference == "ddpm-1000")
    state: dict = {"cells": cells, "done": 0, "total": total, "reference": reference, "ref_cell": None}
    ref = None
    if reference == "ddpm-1000":
        ref = run_cell(model, "ddpm", min(1000, model.num_train_timesteps), x_T, seed, classifier)
        state["ref_cell"], state["done"] = ref, 1
        yield state
    most = steps.index(max(steps))
    order = [most] + [j for j in range(len(steps)) if j != most]  # the row's reference first
    for i, s in enumerate(samplers):
        for j in order:
            c = run_cell(model, s, steps[j], x_T, seed, classifier, params.get(s))
            cells[i][j] = c
            r = ref if ref is not None else cells[i][most]
            if r is not None:
                readout(c, r.final, r.classes)
            state["done"] += 1
            yield state
