"""SDEdit (Meng et al. 2022, "SDEdit: guided image synthesis and editing with stochastic differential equations",
Alg. 1) with any diffusers scheduler of ``samplers.schedulers``: the drawing y is noised to the chain's level at t0
and the scheduler's own steps run from there, as diffusers' img2img pipelines do (``set_timesteps`` for the whole
chain, the first (1 − t0)·N steps skipped, ``set_begin_index``, ``add_noise`` in the scheduler's own sample space).

With a mask (1 = regenerate, 0 = keep), after each step the kept pixels are replaced by y noised afresh to the
next level (``add_noise``; RePaint-style replacement, Lugmayr et al. 2022), and by y itself at the end, so the
output's kept pixels equal the drawing exactly. ILVR, classifier guidance and SDEdit's repeats run with the
``ddim``/``ddpm`` samplers only (``conditioning.sdedit`` says so in one line).
"""
from __future__ import annotations

import math
import time
from typing import Callable

import torch


def scheduler_sdedit(model, y: torch.Tensor, *, sampler: str, t0: float, n: int, steps: int, seed: int = 0,
                     mask: torch.Tensor | None = None,
                     callback: Callable[[int, int, torch.Tensor, torch.Tensor | None], bool | None] | None = None,
                     start: float | None = None):
    """SDEdit of drawing ``y`` with the diffusers scheduler ``sampler``; K = ``n`` candidates.

    Args:
        model: a discrete-time ``DiffusionModel`` of images (its betas and prediction type drive the scheduler).
        y: (C, H, W) drawing in model space (CPU).
        sampler: a name of ``samplers.schedulers.BY_NAME`` (its parameters take their defaults).
        t0: start level as a fraction of the chain in (0, 1]; 1 = pure noise x_T ~ N(0, I)·init_noise_sigma.
        n: candidates (>= 1); steps: the scheduler steps run from t0 down (>= 1; the whole chain has
            ceil(steps / t0) of them, at most T); seed: fixes ε and every noise draw (results replay exactly).
        mask: None or (1, H, W) in [0, 1] (1 = regenerate); kept pixels of the output equal ``y``.
        callback: ``callback(i, total, x, x0_hat)`` after each network call; False cancels.
        start: ``time.perf_counter()`` of the call (for ``seconds``).
    Returns:
        ``conditioning.SDEditResult``: samples (K, C, H, W) model space on the CPU, x_t0, y, mask, t_start (the
        first timestep, or T for pure noise), timesteps, seconds.
    Raises:
        ValueError: unknown sampler, diffusers missing or refusing the configuration, t0 = 0 is handled by the
            caller. InterruptedError: the callback cancelled.
    """
    from .conditioning import SDEditResult
    from .samplers.schedulers import BY_NAME, STEP_KWARGS, make_scheduler, set_timesteps
    start = time.perf_counter() if start is None else start
    if sampler not in BY_NAME:
        raise ValueError(f"{sampler!r} is not a diffusers scheduler sampler")
    entry = BY_NAME[sampler]
    settings = {p.name: p.default for p in entry.params}
    step_kw: dict = {k: settings[k] for k in STEP_KWARGS if k in settings}
    T, shape, dev = int(model.num_train_timesteps), tuple(model.data_shape), model.device
    t0, n, steps = float(t0), int(n), int(steps)
    total = min(T, max(steps, math.ceil(steps / max(t0, 1e-6))))
    sched = make_scheduler(entry, model, settings)
    set_timesteps(sched, model, total, settings)
    init = min(max(int(round(total * t0)), 1), total)
    k = (total - init) * int(getattr(sched, "order", 1))
    if hasattr(sched, "set_begin_index"):
        sched.set_begin_index(k)
    ts = sched.timesteps[k:]
    if "generator" in __import__("inspect").signature(sched.step).parameters:
        step_kw["generator"] = torch.Generator().manual_seed(int(seed) + 1)  # ancestral / SDE noise, CPU, seeded
    g = torch.Generator().manual_seed(int(seed))
    yb = y.unsqueeze(0).expand(n, *shape).contiguous().to(dev)
    eps = torch.randn((n, *shape), generator=g).to(dev)
    pure = t0 >= 1.0
    sample = eps * sched.init_noise_sigma if pure else sched.add_noise(yb, eps, ts[:1])
    x_t0 = sample.detach().cpu().clone()
    m = mask.to(dev) if mask is not None else None
    with torch.inference_mode():
        for j, t in enumerate(ts):
            out = model._eps_net(sched.scale_model_input(sample, t), t)
            res = sched.step(out, t, sample, **step_kw)
            sample = res.prev_sample
            if m is not None:
                if j + 1 < len(ts):
                    z = torch.randn((n, *shape), generator=g).to(dev)
                    sample = m * sample + (1 - m) * sched.add_noise(yb, z, ts[j + 1:j + 2])
                else:
                    sample = m * sample + (1 - m) * yb
            if callback is not None and callback(j + 1, len(ts), sample, getattr(res, "pred_original_sample", None)) is False:
                raise InterruptedError("SDEdit cancelled")
    return SDEditResult(sample.detach().float().cpu(), x_t0, y, None if mask is None else mask.cpu(),
                        T if pure else int(ts[0]), [int(t) for t in ts], time.perf_counter() - start)
