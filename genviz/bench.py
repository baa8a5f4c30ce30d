"""``genviz bench``: the performance budget, measured side by side.

Every figure is a ratio against a reference measured in the same run, or a latency of a fixed workload, so
that the table means something on a shared machine whose absolute speed drifts. Each measurement is a
function returning a dict of keys; ``run_bench`` collects them, prints a table and writes JSON.

| key | what | target |
|---|---|---|
| ddim_vs_diffusers_time_ratio | DDIM-50 on mnist-ddpm, batch 16: genviz / diffusers DDIMScheduler loop, same network and noise
  (median of alternating runs) | <= 1.0 |
| ddim_vs_diffusers_max_abs_diff | max abs difference of the two results | <= 1e-4 |
| sampler_overhead_ratio | genviz chain time / the sum of the bare network forwards it makes | <= 1.05 |
| toy_chain_vs_diffusers_time_ratio | DDPM-1000 on a 2-D diffusion model, 1,000 points: genviz / diffusers DDPMScheduler loop | <= 0.9 |
| gui_vs_headless_throughput_ratio | steps/s of a chain run from the chain panel (window shown) / the same chain headless | >= 0.9 |
| gui_max_stall_ms (+ gui_p99_stall_ms) | worst (99th pct) gap beyond 5 ms between ticks of a 5 ms heartbeat timer while that
  chain runs | <= 50 |
| particles_5k_fps | redraw rate of the density panel with 5,000 live particles | >= 30 |
| sdedit_latency_s | drawing -> 4 candidates, t0 = 0.5, 25 DDIM steps, mnist-ddpm | <= 0.5 |
| window_shown_s | launch -> main window visible (fresh process) | <= 1.5 |
| first_step_s | launch -> first chain step drawn (fresh process) | <= 4.0 |
| history_mb_1000x64 | memory held by a 1000-step chain history at batch 64 on mnist-ddpm | report |
| history_rss_per_data | resident memory the chain history added / bytes it holds (preallocated blocks) | <= 1.5 |
| history_mb_1000x64_3x64x64 | the same for 3x64x64 images (tiny random UNet; keyframes + shrunk previews, ``bench_history``) | <= 512 |
| history_branch_latency_s (_3x64x64_s) | branch from a step k-1 past its keyframe (replayed), batch 64, mnist-ddpm (tiny) | report |
| history_scrub_ms | fetch a scrubbed record's previews and tile them (x_t and x̂₀, batch 64, the worse size) | <= 50 |
| busy_neighbour_throughput_ratio | a toy DDPM-200 chain's idle time / its time beside a process spinning one core | >= 0.5 |
| busy_neighbour_max_stall_ms | the chain panel's worst GUI stall with that process running | <= 100 |
| ddgan_sample_speedup | mnist-ddpm's default sampler (DDIM-50) / mnist-ddgan's 4 steps, 16 digits (``bench_ddgan``) | >= 10 |
| ddgan_sdedit_latency_s | drawing -> 4 candidates on the canvas backend with mnist-ddgan | <= 0.05 |
| dpmpp_2m_vs_diffusers_time_ratio, euler_a_vs_diffusers_time_ratio | DPM++ 2M / Euler a, 20 steps on mnist-ddpm,
  batch 16: genviz's wrapped scheduler / the same scheduler's diffusers loop (``bench_schedulers``) | <= 1.0 |
| schedulers_vs_diffusers_max_abs_diff | the largest difference of those two pairs of results | <= 1e-5 |
| remote_vs_local_throughput_ratio | steps/s of DDIM-50, batch 16, mnist-ddpm from the chain panel through a local genviz server
  (Ray Serve) / in-process (``genviz.remote.bench``; None without Ray, and with ``--smoke``) | >= 0.8 |

Run ``genviz bench --quick`` (under 5 minutes on 2 CPU cores) or ``genviz bench`` (more repeats).
"""
from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path

TARGETS = {
    "ddim_vs_diffusers_time_ratio": ("<=", 1.0),
    "ddim_vs_diffusers_max_abs_diff": ("<=", 1e-4),
    "sampler_overhead_ratio": ("<=", 1.05),
    "toy_chain_vs_diffusers_time_ratio": ("<=", 0.9),
    "gui_vs_headless_throughput_ratio": (">=", 0.9),
    "gui_max_stall_ms": ("<=", 50.0),
    "particles_5k_fps": (">=", 30.0),
    "sdedit_latency_s": ("<=", 0.5),
    "window_shown_s": ("<=", 1.5),
    "first_step_s": ("<=", 4.0),
    "history_mb_1000x64": ("report", None),
    "history_rss_per_data": ("<=", 1.5),
    "history_mb_1000x64_3x64x64": ("<=", 512.0),
    "history_branch_latency_s": ("report", None),
    "history_branch_latency_3x64x64_s": ("report", None),
    "history_scrub_ms": ("<=", 50.0),
    "busy_neighbour_throughput_ratio": (">=", 0.5),
    "busy_neighbour_max_stall_ms": ("<=", 100.0),
    "ddgan_sample_speedup": (">=", 10.0),
    "ddgan_sdedit_latency_s": ("<=", 0.05),
    "dpmpp_2m_vs_diffusers_time_ratio": ("<=", 1.0),
    "euler_a_vs_diffusers_time_ratio": ("<=", 1.0),
    "schedulers_vs_diffusers_max_abs_diff": ("<=", 1e-5),
    "remote_vs_local_throughput_ratio": (">=", 0.8),
}
KEYS = tuple(TARGETS)
OPTIONAL = ("remote_vs_local_throughput_ratio",)  # None (with a note) when the extra is missing or with --smoke


def _sync(device) -> None:
    import torch
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def _timed(fn, device) -> tuple[float, object]:
    _sync(device)
    t = time.perf_counter()
    out = fn()
    _sync(device)
    return time.perf_counter() - t, out


# ---- DDIM-50 against diffusers, and the sampler's own overhead ----------------------------------------------

def bench_ddim(device: str = "cpu", repeats: int = 3, n: int = 16, steps: int = 50) -> dict:
    """DDIM-50 (η = 0, diffusers' defaults) on mnist-ddpm: genviz vs a diffusers DDIMScheduler loop.

    Both start from the same x_T (``torch.randn`` with seed 0) and use the same network weights; runs alternate
    (in a rotating order) and the ratios are medians of the per-round ratios. The diffusers loop calls the network
    module as diffusers pipelines do; genviz calls it through ``predict_eps`` (on the CPU a TorchScript trace of
    the same module, bit-identical). The bare-forward reference replays genviz's exact network calls of the
    chain (same inputs, same timesteps) with nothing else.
    """
    import torch
    from diffusers import DDIMScheduler

    from .backend import chain, load_checkpoint
    model = load_checkpoint("mnist-ddpm", device=device)
    sched_cfg = model.metadata["schedule"]
    sched = DDIMScheduler(num_train_timesteps=model.num_train_timesteps, beta_schedule=sched_cfg["beta_schedule"],
                          beta_start=sched_cfg.get("beta_start", 1e-4), beta_end=sched_cfg.get("beta_end", 0.02),
                          clip_sample=True, set_alpha_to_one=True, steps_offset=0, prediction_type="epsilon")
    x_T = torch.randn((n, *model.data_shape), generator=torch.Generator().manual_seed(0)).to(model.device)
    net = model.net

    def ours():
        last = None
        for rec in chain(model, "ddim", steps=steps, x_init=x_T, eta=0.0, clip_sample=True):
            last = rec
        return last.x

    def theirs():
        sched.set_timesteps(steps)
        x = x_T
        with torch.inference_mode():
            for t in sched.timesteps:
                eps = net(x, torch.full((n,), int(t), dtype=torch.long, device=x.device))
                x = sched.step(eps, t, x, eta=0.0).prev_sample
        return x

    # the chain's states, which the bare reference feeds to the network; this run is also genviz's warm-up
    inputs = [rec.x for rec in chain(model, "ddim", steps=steps, x_init=x_T, eta=0.0, clip_sample=True)][:-1]
    sched.set_timesteps(steps)
    ts = [int(t) for t in sched.timesteps]

    def bare():  # the network calls genviz makes (on the CPU: the traced U-Net), with nothing around them
        with torch.inference_mode():
            for x, t in zip(inputs, ts):
                model.predict_eps(x, t)

    bare()  # warm-up (allocator, first-call overheads)
    times = {"ours": [], "theirs": [], "bare": []}
    outs = {}
    fns = {"ours": ours, "theirs": theirs, "bare": bare}
    order = ["ours", "theirs", "bare"]
    for r in range(repeats):  # the order rotates: what runs right after the other network call pays for the switch
        for name in order[r % 3:] + order[:r % 3]:
            dt, outs[name] = _timed(fns[name], model.device)
            times[name].append(dt)
    out_ours, out_theirs = outs["ours"], outs["theirs"]
    m_ours, m_theirs, m_bare = (statistics.median(times[k]) for k in ("ours", "theirs", "bare"))
    # ratios within each round (runs seconds apart share the machine's state), then their median: on a shared
    # machine the speed drifts by 10-20 % between rounds, more than the loops differ
    pair = lambda a, b: statistics.median(x / y for x, y in zip(times[a], times[b]))  # noqa: E731  (a one-line key function)
    return {
        "ddim_vs_diffusers_time_ratio": pair("ours", "theirs"),
        "ddim_vs_diffusers_max_abs_diff": float((out_ours - out_theirs).abs().max()),
        "sampler_overhead_ratio": pair("ours", "bare"),
        "ddim50_genviz_s": m_ours, "ddim50_diffusers_s": m_theirs, "ddim50_bare_forwards_s": m_bare,
    }


# ---- DDPM-1000 on a 2-D toy model, where per-step overhead shows --------------------------------------------

def _toy_diffusion_model(device):
    """A bundled 2-D diffusion model (family diffusion, data shape (2,)), or None."""
    from .backend import list_checkpoints, load_checkpoint
    for info in list_checkpoints():
        if info.family == "diffusion" and tuple(info.data_shape) == (2,):
            return load_checkpoint(info.name, device=device)
    return None


def bench_toy_chain(device: str = "cpu", repeats: int = 3, n: int = 1000, steps: int | None = None) -> dict:
    """DDPM-1000 on a bundled 2-D diffusion model, 1,000 points: genviz vs a diffusers DDPMScheduler loop."""
    import torch
    from diffusers import DDPMScheduler

    from .backend import chain
    model = _toy_diffusion_model(device)
    if model is None:
        return {"toy_chain_vs_diffusers_time_ratio": None,
                "toy_chain_note": "no bundled 2-D diffusion checkpoint"}
    cfg = model.metadata["schedule"]
    sched = DDPMScheduler(num_train_timesteps=model.num_train_timesteps, beta_schedule=cfg["beta_schedule"],
                          beta_start=cfg.get("beta_start", 1e-4), beta_end=cfg.get("beta_end", 0.02),
                          clip_sample=False, variance_type="fixed_small", prediction_type="epsilon")
    steps = steps or model.num_train_timesteps

    def ours():
        last = None
        for rec in chain(model, "ddpm", steps=steps, n=n, seed=0, clip_sample=False):
            last = rec
        return last.x

    def theirs():
        g = torch.Generator().manual_seed(0)
        x = torch.randn((n, *model.data_shape), generator=g).to(model.device)
        sched.set_timesteps(steps)
        with torch.inference_mode():
            for t in sched.timesteps:
                eps = model.predict_eps(x, torch.full((n,), int(t), dtype=torch.long, device=x.device))
                x = sched.step(eps, t, x, generator=g).prev_sample
        return x

    ours()
    t_ours, t_theirs = [], []
    for _ in range(repeats):
        t_ours.append(_timed(ours, model.device)[0])
        t_theirs.append(_timed(theirs, model.device)[0])
    a, b = statistics.median(t_ours), statistics.median(t_theirs)
    return {"toy_chain_vs_diffusers_time_ratio": a / b, "toy_ddpm1000_genviz_s": a, "toy_ddpm1000_diffusers_s": b,
            "toy_chain_model": model.name}


# ---- the chain panel against the headless chain -----------------------------------------------------------

def bench_gui(device: str = "cpu", steps: int = 50, n: int = 16, repeats: int = 3) -> dict:
    """DDIM-50, batch 16, on mnist-ddpm, run from the chain panel (window shown) and headless.

    The two alternate ``repeats`` times (panel run, then the same chain headless from the same x_T); the figure is
    the median of the pairs' ratios: on a shared machine single runs differ by 10-20 %. While the panel runs, a 5 ms
    heartbeat timer on the GUI thread records the gaps between its ticks; a stall is a gap minus the 5 ms
    period (worst and 99th percentile over all panel runs). Both use the GUI's torch thread count.
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from .backend import chain
    from .gui.chain_runner import configure_torch
    from .gui.main_window import MainWindow
    app = QApplication.instance() or QApplication([])
    configure_torch()
    win = MainWindow(device=device)
    win.resize(1440, 900)
    win.show()
    loaded = {}
    win.modelLoaded.connect(lambda ld: loaded.setdefault("ld", ld))
    win.load("mnist-ddpm")
    t_end = time.time() + 120
    while "ld" not in loaded and time.time() < t_end:
        app.processEvents()
        time.sleep(0.005)
    if "ld" not in loaded:
        win.close()
        raise RuntimeError("mnist-ddpm did not load in the window")
    model = loaded["ld"].model
    panel = win.chain_panel
    panel.sampler_combo.setCurrentIndex(panel.sampler_combo.findData("ddim"))
    panel.param_form.widgets["eta"].setValue(0.0)
    panel.steps_spin.setValue(steps)
    panel.batch_spin.setValue(n)
    ticks_all, t_gui, t_head = [], [], []
    try:
        for r in range(repeats + 1):  # round 0 warms up (the traced network, the classifier, first paints)
            panel.reset()
            while panel.state.status != "paused" or win.engine.pending():
                app.processEvents()
                time.sleep(0.002)
            ticks, end = [], []
            loop = QEventLoop()

            def tick():  # the heartbeat; it also notices the end of the run (to within its 5 ms period)
                ticks.append(time.perf_counter())
                if not end and (panel.state.status in ("done", "stopped") or panel.state.error):
                    end.append(ticks[-1])
                    loop.quit()
            beat = QTimer()
            beat.setInterval(5)
            beat.timeout.connect(tick)
            beat.start()
            t0 = time.perf_counter()
            panel.run()
            loop.exec()  # an idle event loop, as in the app (a polling loop here would itself load the GUI thread)
            beat.stop()
            if panel.state.status != "done":
                raise RuntimeError(f"the chain did not finish in the panel: {panel.state.error or panel.state.status}")
            x_T = panel.state.branch.history()[0].x.to(model.device)
            if r == 0:
                continue
            t_gui.append(end[0] - t0)
            ticks_all.append(ticks)

            def headless():
                for _ in chain(model, "ddim", steps=steps, x_init=x_T, eta=0.0):
                    pass
            t_head.append(_timed(headless, model.device)[0])
    finally:
        win.close()
        app.processEvents()
    gaps = sorted(max(0.0, (b - a) * 1000 - 5.0) for ticks in ticks_all for a, b in zip(ticks, ticks[1:])) or [0.0]
    g, h = statistics.median(t_gui), statistics.median(t_head)
    # the median of the ratios within each pair (a panel run and the headless run right after it)
    return {"gui_vs_headless_throughput_ratio": statistics.median(b / a for a, b in zip(t_gui, t_head)),
            "gui_max_stall_ms": gaps[-1], "gui_p99_stall_ms": gaps[int(0.99 * (len(gaps) - 1))],
            "gui_steps_per_s": steps / g, "headless_steps_per_s": steps / h,
            "gui_runs_ratio": [round(b / a, 3) for a, b in zip(t_gui, t_head)]}


# ---- particles and SDEdit: measured when their panels / backend are present --------------------------------

def bench_particles(frames: int = 60) -> dict:
    """Redraw rate of the density panel with 5,000 live particles (see ``genviz.gui.panels.density``)."""
    from .gui.panels.density import bench_particles_fps
    return {"particles_5k_fps": bench_particles_fps(n=5000, frames=frames)}


def bench_sdedit(device: str = "cpu", repeats: int = 3, steps: int = 25) -> dict:
    """A drawn digit -> 4 SDEdit candidates (t0 = 0.5, 25 DDIM steps) on mnist-ddpm, median latency."""
    import torch

    from .backend import load_checkpoint
    from .backend.conditioning import sdedit
    model = load_checkpoint("mnist-ddpm", device=device)
    y = torch.full(tuple(model.data_shape), -1.0)  # (C, H, W) in model space
    y[..., 6:22, 12:16] = 1.0  # a drawn "1"
    sdedit(model, y, t0=0.5, n=4, steps=steps, seed=0)  # warm-up
    ts = [_timed(lambda: sdedit(model, y, t0=0.5, n=4, steps=steps, seed=s), model.device)[0] for s in range(repeats)]
    return {"sdedit_latency_s": statistics.median(ts)}


# ---- the suite --------------------------------------------------------------------------------------------

def run_bench(quick: bool = False, device: str = "cpu", json_path: str | None = None, log=print,
              smoke: bool = False) -> dict:
    """Run every measurement, print a table, optionally write JSON; returns the results.

    Each part that fails records its error under ``errors`` (and its keys as None), so one broken part never
    hides the others. ``smoke`` runs every part on a token workload (a few steps, one repeat): the same code
    and keys in seconds, for the test suite; its figures mean nothing.
    """
    import platform

    import torch

    from .backend import resolve_device
    from .bench_ddgan import bench_ddgan
    from .bench_history import bench_history_sizes
    from .bench_schedulers import bench_schedulers
    from .bench_system import bench_busy_neighbour, bench_history, bench_startup
    from .remote.bench import bench_remote
    dev = str(resolve_device(device))
    reps = 1 if smoke else 5 if quick else 9
    few = dict(steps=3) if smoke else {}
    parts = [
        ("DDIM-50 vs diffusers", lambda: bench_ddim(dev, repeats=reps, **few)),
        ("toy DDPM-1000 vs diffusers", lambda: bench_toy_chain(dev, repeats=reps, **few)),
        ("chain panel vs headless", lambda: bench_gui(dev, repeats=1 if smoke else 3 if quick else 5, **few)),
        ("5k particles", lambda: bench_particles(frames=5 if smoke else 60 if quick else 200)),
        ("SDEdit latency", lambda: bench_sdedit(dev, repeats=reps, **few)),
        ("schedulers vs diffusers", lambda: bench_schedulers(dev, repeats=reps, **few)),
        ("DDGAN vs DDPM", lambda: bench_ddgan(dev, repeats=1 if smoke else 3 if quick else 5, n=2 if smoke else 16)),
        ("start-up", lambda: bench_startup(repeats=1 if smoke else 2 if quick else 5)),
        ("history memory", lambda: bench_history(dev, records=2 if smoke else 60)),
        ("bounded history", lambda: bench_history_sizes(dev, smoke=smoke)),
        ("busy neighbour", lambda: bench_busy_neighbour(dev, repeats=1 if smoke else 3, steps=5 if smoke else 200,
                                                       gui_steps=3 if smoke else 50)),
        ("remote server vs in-process", lambda: bench_remote(dev, repeats=3 if quick else 5, smoke=smoke)),
    ]
    results: dict = {k: None for k in KEYS}
    results.update(device=dev, quick=quick, smoke=smoke, torch=torch.__version__, torch_threads=torch.get_num_threads(),
                   machine=f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}",
                   python=platform.python_version(), errors={})
    t_all = time.perf_counter()
    for name, fn in parts:
        log(f"… {name}")
        t = time.perf_counter()
        try:
            results.update(fn())
        except Exception as e:  # one failing part must not hide the rest
            results["errors"][name] = f"{type(e).__name__}: {e}"
        results.setdefault("part_seconds", {})[name] = round(time.perf_counter() - t, 1)
    results["total_seconds"] = round(time.perf_counter() - t_all, 1)
    log(format_table(results))
    if json_path:
        Path(json_path).write_text(json.dumps(results, indent=2))
    return results


def format_table(results: dict) -> str:
    """The results as a text table: key, value, target, verdict."""
    lines = [f"{'key':<36}{'value':>12}  {'target':<10}{'':4}"]
    for k in KEYS:
        v = results.get(k)
        op, target = TARGETS[k]
        if v is None:
            val, verdict = "n/a", ""
        else:
            val = f"{v:.3g}" if abs(v) < 1e4 else f"{v:.0f}"
            verdict = "" if op == "report" else ("ok" if (v <= target if op == "<=" else v >= target) else "MISS")
        tgt = "report" if op == "report" else f"{op} {target:g}"
        lines.append(f"{k:<36}{val:>12}  {tgt:<10}{verdict:4}")
    if results.get("errors"):
        lines.append("errors: " + "; ".join(f"{k}: {v}" for k, v in results["errors"].items()))
    lines.append(f"device {results.get('device')} · {results.get('machine')} · torch {results.get('torch')} "
                 f"({results.get('torch_threads')} threads) · {results.get('total_seconds')} s")
    return "\n".join(lines)
