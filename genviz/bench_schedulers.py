"""``genviz bench``: two wrapped diffusers schedulers against their plain diffusers loop (``bench.run_bench`` calls it;
its keys and targets are in ``bench.TARGETS``: ``dpmpp_2m_vs_diffusers_time_ratio``,
``euler_a_vs_diffusers_time_ratio`` <= 1.0 and ``schedulers_vs_diffusers_max_abs_diff`` <= 1e-5)."""
from __future__ import annotations

import statistics

SAMPLERS = {"dpmpp-2m": "dpmpp_2m", "euler-a": "euler_a"}


def bench_schedulers(device: str = "cpu", repeats: int = 3, n: int = 16, steps: int = 20) -> dict:
    """genviz's chain of a wrapped scheduler vs the same scheduler's diffusers loop, on mnist-ddpm.

    As ``bench.bench_ddim``: the same x_T and generator seed, the same network weights; the diffusers loop calls
    the network module as a pipeline does (``scale_model_input``, the module, ``step``), genviz calls it through
    the adapter (on the CPU a TorchScript trace of the same module, bit-identical) and also deep-copies the
    scheduler's state into every record (what branching needs). Runs alternate, rotating the order; each ratio
    is the median of the per-round ratios. Returns those keys plus the median seconds of each loop.
    """
    import inspect

    import torch

    from .backend import chain, load_checkpoint
    from .backend.samplers.schedulers import BY_NAME, STEP_KWARGS, make_scheduler, set_timesteps
    from .bench import _timed
    model = load_checkpoint("mnist-ddpm", device=device)
    net = model.net
    out: dict = {}
    worst = 0.0
    for name, key in SAMPLERS.items():
        entry = BY_NAME[name]
        settings = {p.name: p.default for p in entry.params}
        sched = make_scheduler(entry, model, settings)
        step_kw = {k: settings[k] for k in STEP_KWARGS if k in settings}

        def ours(name=name):
            last = None
            for rec in chain(model, name, steps=steps, n=n, seed=0):
                last = rec
            return last.x

        def theirs(sched=sched, step_kw=step_kw):
            set_timesteps(sched, model, steps, settings)
            g = torch.Generator().manual_seed(0)
            x = (torch.randn((n, *model.data_shape), generator=g) * sched.init_noise_sigma).to(model.device)
            kw = dict(step_kw, **({"generator": g} if "generator" in inspect.signature(sched.step).parameters else {}))
            with torch.inference_mode():
                for t in sched.timesteps:
                    x_in = sched.scale_model_input(x, t)
                    x = sched.step(net(x_in, t), t, x, **kw).prev_sample
            return x

        ours()  # warm-up: the trace, the allocator
        theirs()
        times: dict = {"ours": [], "theirs": []}
        outs = {}
        fns = {"ours": ours, "theirs": theirs}
        order = ["ours", "theirs"]
        for r in range(repeats):
            for k in order[r % 2:] + order[:r % 2]:
                dt, outs[k] = _timed(fns[k], model.device)
                times[k].append(dt)
        out[f"{key}_vs_diffusers_time_ratio"] = statistics.median(a / b for a, b in zip(times["ours"], times["theirs"]))
        out[f"{key}{steps}_genviz_s"] = statistics.median(times["ours"])
        out[f"{key}{steps}_diffusers_s"] = statistics.median(times["theirs"])
        worst = max(worst, float((outs["ours"].cpu() - outs["theirs"].cpu()).abs().max()))
    out["schedulers_vs_diffusers_max_abs_diff"] = worst
    return out
