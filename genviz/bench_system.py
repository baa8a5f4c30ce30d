"""The bench's whole-system parts: start-up in fresh processes, chain-history memory, and chains beside a busy
neighbour process (``genviz bench`` runs them with the rest; see ``genviz.bench`` for the table of targets)."""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .bench import _toy_diffusion_model, bench_gui

# ---- a busy neighbour ------------------------------------------------------------------------------------

class BusyNeighbour:
    """A separate process spinning one core for the ``with`` block (a desktop always has one); stopped after."""

    def __enter__(self):
        import subprocess
        self.proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        time.sleep(0.3)
        return self

    def __exit__(self, *exc):
        self.proc.kill()
        self.proc.wait()
        return False


def bench_busy_neighbour(device: str = "cpu", repeats: int = 3, steps: int = 200, n: int = 1000,
                         gui_steps: int = 50) -> dict:
    """Chains through the public API with one core busy in another process, against the same chains idle:
    ``busy_neighbour_throughput_ratio`` = idle time / busy time of a DDPM-``steps`` chain on a 2-D diffusion model
    (``n`` points; median of ``repeats``), target >= 0.5; and ``busy_neighbour_max_stall_ms``, the chain panel's
    worst GUI stall (``bench_gui``'s heartbeat) with the neighbour busy, target <= 100. (OpenMP's
    ``OMP_WAIT_POLICY=PASSIVE`` helps the first and halves idle speed; see ``genviz/__init__.py``.)"""
    from .backend import sample
    model = _toy_diffusion_model(device)
    if model is None:
        raise RuntimeError("no bundled 2-D diffusion model")
    sample(model, "ddpm", steps=5, n=n, seed=0)

    def run() -> float:
        t = time.perf_counter()
        sample(model, "ddpm", steps=steps, n=n, seed=0)
        return time.perf_counter() - t
    idle = statistics.median(run() for _ in range(repeats))
    with BusyNeighbour():
        busy = statistics.median(run() for _ in range(repeats))
        gui = bench_gui(device, steps=gui_steps, repeats=1)
    return {"busy_neighbour_throughput_ratio": idle / busy, "busy_neighbour_max_stall_ms": gui["gui_max_stall_ms"],
            "busy_neighbour_chain_s": busy, "idle_chain_s": idle}


# ---- start-up, in fresh processes -------------------------------------------------------------------------

def bench_startup(repeats: int = 2) -> dict:
    """Launch the app in a fresh process (as ``genviz`` does) and time window shown / first step drawn."""
    shown, first = [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as d:
            out = Path(d) / "probe.json"
            env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
            code = ("import sys; from genviz.gui.app import run_gui; "
                    f"sys.exit(run_gui(probe={str(out)!r}))")
            t0 = time.time()
            subprocess.run([sys.executable, "-c", code], env=env, timeout=180, capture_output=True)
            if not out.exists():
                raise RuntimeError("the app did not report its start-up times")
            times = json.loads(out.read_text())
            shown.append(times["shown"] - t0)
            first.append(times["first_step"] - t0)
    return {"window_shown_s": statistics.median(shown), "first_step_s": statistics.median(first)}


# ---- history memory ---------------------------------------------------------------------------------------

def _rss_bytes() -> int:
    """Resident memory of this process (Linux ``/proc/self/statm``; 0 where it is not available)."""
    try:
        import os
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def bench_history(device: str = "cpu", n: int = 64, records: int = 20) -> dict:
    """Bytes held per recorded step of an mnist-ddpm chain at batch 64 (the chain panel's ``Record``s, with the
    digit classifier's probabilities), times 1000 steps; and the resident memory those records added per byte
    they hold (``history_rss_per_data``: ~1 when the history does not fragment; it is stored in preallocated
    blocks, ``genviz.gui.history``). Records of a chain all have the same size, so ``records`` of them measure
    it (after 3 warm-up steps, which also let torch allocate its working memory)."""
    import gc

    import numpy as np
    import torch

    from .gui.chain_runner import ChainRunner, load_model
    from .gui.chain_state import ChainState
    runner = ChainRunner(ChainState())
    runner.set_model(load_model("mnist-ddpm", device))
    b = runner.new_chain("ddpm", 1000, n, 0, {})
    for _ in range(3):
        runner.step()
    gc.collect()
    rss0 = _rss_bytes()
    for _ in range(records):
        runner.step()
    gc.collect()
    rss1 = _rss_bytes()
    recs = b.history()[4:]

    def nbytes(r):
        total = 0
        for v in vars(r).values():
            if torch.is_tensor(v):
                total += v.numel() * v.element_size()
            elif isinstance(v, np.ndarray):
                total += v.nbytes
        return total
    per = statistics.mean(nbytes(r) for r in recs)
    out = {"history_mb_1000x64": per * 1000 / 2**20, "history_bytes_per_step_x64": per}
    if rss0 and rss1:
        out["history_rss_per_data"] = (rss1 - rss0) / (per * len(recs))
    return out


