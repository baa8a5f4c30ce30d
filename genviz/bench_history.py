"""``genviz bench``'s bounded-history part (``gui.history``): memory of a 1000-step chain history at batch 64 for
1 x 28 x 28 (mnist-ddpm) and 3 x 64 x 64 images, the latency of branching from a step that must be replayed, and
the time to fetch a scrubbed record's previews and tile them.

The 3 x 64 x 64 figures use a tiny random genviz UNet (the history's size does not depend on the network; the
replay latency does, so ``history_branch_latency_3x64x64_s`` is a lower bound for a real 64 px model). Memory is
measured over whole keyframe periods (the mean bytes of the records of ``2 k`` steps), times 1000.
"""
from __future__ import annotations

import statistics
import time


def _nbytes(rec) -> int:
    import numpy as np
    import torch
    total = 0
    for v in vars(rec).values():
        if torch.is_tensor(v):
            total += v.numel() * v.element_size()
        elif isinstance(v, np.ndarray):
            total += v.nbytes
    return total


def _tiny_colour_model(shape=(3, 64, 64)):
    import torch

    from .backend import DiffusionModel
    from .backend.nets.unet import UNet
    cfg = {"in_channels": shape[0], "base": 8, "mults": [1, 2], "blocks": 1, "attn_lowest": False, "dropout": 0.0}
    torch.manual_seed(0)
    meta = {"name": "bench-tiny-3x64x64", "family": "diffusion", "network": {"class": "UNet", "config": cfg},
            "data": {"shape": list(shape), "range": [-1.0, 1.0], "dataset": "none", "kind": "image"},
            "schedule": {"beta_schedule": "squaredcos_cap_v2", "num_train_timesteps": 1000,
                         "prediction_type": "epsilon"}, "training": {"recipe": "bench (random weights)"}}
    return DiffusionModel(UNet(**cfg).eval(), meta, "cpu")


def _measure(loaded, n: int, periods: int) -> tuple[float, float, float, int]:
    """(MB per 1000 steps, branch-from-replayed-step seconds, scrub ms, keyframe period k)."""
    from .backend.imaging import make_grid
    from .gui.chain_runner import ChainRunner
    from .gui.chain_state import ChainState
    runner = ChainRunner(ChainState())
    runner.set_model(loaded)
    b = runner.new_chain("ddpm", 1000, n, 0, {})
    runner.step()
    k = runner.policy(b.grid, type("R", (), {"x": b.records[0].x, "state": None})())[0]
    for _ in range(periods * k):
        runner.step()
    recs = b.history()[1:1 + periods * k]
    per = statistics.mean(_nbytes(r) for r in recs)
    pos = k - 1 if k > 1 else 1  # the farthest step from its keyframe: k - 1 steps of replay
    t = time.perf_counter()
    runner.branch_from(b, pos, "ddpm", {}, seed=1)
    branch_s = time.perf_counter() - t
    t = time.perf_counter()
    for i in range(20):
        r = b.history()[i % len(b.history())]
        make_grid(r.x_u8)
        if r.x0_u8 is not None:
            make_grid(r.x0_u8)
    scrub_ms = (time.perf_counter() - t) / 20 * 1000
    return per * 1000 / 2**20, branch_s, scrub_ms, k


def bench_history_sizes(device: str = "cpu", n: int = 64, smoke: bool = False) -> dict:
    """The bounded history's figures (keys ``history_mb_1000x64_3x64x64``, ``history_branch_latency_s`` (mnist-ddpm,
    1 x 28 x 28), ``history_branch_latency_3x64x64_s``, ``history_scrub_ms`` (the worse of the two sizes) and
    ``history_keyframe_every_3x64x64``). ``smoke``: batch 2, one period."""
    from .backend.samplers import samplers_for
    from .gui.chain_runner import LoadedModel, load_model
    n = 2 if smoke else n
    periods = 1 if smoke else 2
    mnist = load_model("mnist-ddpm", device)
    _, lat28, scrub28, _ = _measure(mnist, n, 1)
    model = _tiny_colour_model()
    mb64, lat64, scrub64, k64 = _measure(LoadedModel(model, None, samplers_for(model), ["cpu"], ""), n, periods)
    return {"history_mb_1000x64_3x64x64": mb64, "history_branch_latency_s": lat28,
            "history_branch_latency_3x64x64_s": lat64, "history_scrub_ms": max(scrub28, scrub64),
            "history_keyframe_every_3x64x64": k64}
