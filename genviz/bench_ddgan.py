"""``genviz bench`` parts for the denoising diffusion GAN (issue 14; Xiao, Kreis & Vahdat 2022, §6.4.6).

Two figures, each measured side by side in one run so that they mean something on a shared machine:

- ``ddgan_sample_speedup``: the time ``mnist-ddpm``'s default sampler (its checkpoint's ``sampler`` entry,
  DDIM-50) takes for 16 digits divided by the time ``mnist-ddgan``'s 4-step chain (Algorithm 2) takes for the
  same 16, median of alternating repeats; the two NFEs are reported beside it (``ddgan_nfe``, ``ddpm_nfe``).
- ``ddgan_sdedit_latency_s``: a drawn digit -> 4 candidates on the canvas backend (``conditioning.sdedit`` with
  ``sampler="ddgan"``, the canvas' DDGAN settings: perturb to step k = round(t0·T) of T = 4, run the k remaining
  steps), median latency; ``ddgan_sdedit_rate_hz`` = 1 / latency, the regeneration rate live mode can reach
  while the user draws (the canvas' latency readout shows the same rate).
"""
from __future__ import annotations

import statistics
import time


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def bench_ddgan(device: str = "cpu", repeats: int = 5, n: int = 16) -> dict:
    """Sampling speed-up over DDPM's default sampler and stroke-editing latency of ``mnist-ddgan``.

    Args:
        device: a torch device string ("cpu", "cuda").
        repeats: alternating timed repeats (median taken), after one warm-up each.
        n: digits per sample call (16 in the issue's definition).
    Returns:
        dict with ``ddgan_sample_speedup`` (ratio, > 1 means DDGAN is faster), ``ddgan_nfe``, ``ddpm_nfe``,
        ``ddgan_sample_s``, ``ddpm_sample_s`` (seconds per call), ``ddgan_sdedit_latency_s`` (seconds) and
        ``ddgan_sdedit_rate_hz`` (regenerations per second).
    Raises:
        CheckpointError: a bundled checkpoint is missing or broken.
    """
    import torch

    from .backend import load_checkpoint
    from .backend.api import resolve_sampler, sample
    from .backend.conditioning import sdedit
    ddpm = load_checkpoint("mnist-ddpm", device=device)
    ddgan = load_checkpoint("mnist-ddgan", device=device)
    name, steps, params = resolve_sampler(ddpm, None, None, {})
    g_name, g_steps, g_params = resolve_sampler(ddgan, None, None, {})
    with torch.inference_mode():
        def run_ddpm(seed: int = 0):
            return sample(ddpm, name, steps=steps, n=n, seed=seed, **params)

        def run_ddgan(seed: int = 0):
            return sample(ddgan, g_name, steps=g_steps, n=n, seed=seed, **g_params)

        run_ddpm(), run_ddgan()  # warm-up (tracing, allocator)
        t_ddpm, t_ddgan = [], []
        for s in range(repeats):
            t_ddpm.append(_timed(lambda: run_ddpm(s)))
            t_ddgan.append(_timed(lambda: run_ddgan(s)))
        y = torch.full(tuple(ddgan.data_shape), -1.0)  # (C, H, W) in model space
        y[..., 6:22, 12:16] = 1.0  # a drawn "1"
        sdedit(ddgan, y, t0=0.5, n=4, sampler="ddgan", seed=0)  # warm-up
        lat = [_timed(lambda: sdedit(ddgan, y, t0=0.5, n=4, sampler="ddgan", seed=s)) for s in range(repeats)]
    md, mg, ml = statistics.median(t_ddpm), statistics.median(t_ddgan), statistics.median(lat)
    return {"ddgan_sample_speedup": md / mg, "ddgan_nfe": int(g_steps), "ddpm_nfe": int(steps),
            "ddgan_sample_s": mg, "ddpm_sample_s": md, "ddgan_sdedit_latency_s": ml, "ddgan_sdedit_rate_hz": 1.0 / ml}
