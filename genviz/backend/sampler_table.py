"""The README's sampler table: ``genviz eval CKPT --sampler S --steps N --n 500 --seed 0`` for every sampler at
10 and 20 steps, then Markdown rows (confident share with its number of network calls, Fréchet distance).

Run ``python -m genviz.backend.sampler_table [--checkpoint mnist-ddpm] [--out DIR] [--n 500]``: each cell's
``genviz eval`` report is written to ``DIR/S-N.json`` (existing ones are kept, so an interrupted run resumes),
then the table is printed. On 2 CPU cores, one thread: about 24 minutes for the 42 cells on ``mnist-ddpm``.
"""
from __future__ import annotations

import argparse
import json
import os

SAMPLERS = ("dpmpp-2m", "unipc", "euler", "euler-a", "heun", "ddim", "dpmpp-2m-sde", "deis", "dpmpp-2s", "plms",
            "lms", "dpmpp-2m-karras", "diffusers-ddim", "diffusers-ddpm", "dpm2", "dpm2-a", "lms-karras", "dpm2-karras",
            "dpm2-a-karras", "dpmpp-2m-sde-karras", "ddpm")
STEPS = (10, 20)


def network_calls(name: str, steps: int) -> int:
    """Network evaluations of ``steps`` steps of sampler ``name`` (second-order: 2·steps − 1; PLMS: steps + 1)."""
    if name.startswith(("heun", "dpm2")):
        return 2 * steps - 1
    return steps + 1 if name == "plms" else steps


def run_cells(checkpoint: str, out: str, n: int = 500, seed: int = 0) -> None:
    """Write every missing cell's ``genviz eval`` report to ``out/S-N.json`` (the command's own code path)."""
    from ..cli import main
    os.makedirs(out, exist_ok=True)
    for s in SAMPLERS:
        for steps in STEPS:
            f = os.path.join(out, f"{s}-{steps}.json")
            if not (os.path.exists(f) and os.path.getsize(f) > 0):
                main(["eval", checkpoint, "--sampler", s, "--steps", str(steps), "--n", str(n), "--seed", str(seed),
                      "--json", f])


def table(out: str) -> str:
    """Markdown rows from the reports in ``out`` ("not run" where a cell is missing)."""
    from .samplers import get_sampler
    lines = ["| sampler | 10 steps: confident | Fréchet | 20 steps: confident | Fréchet |", "|---|---|---|---|---|"]
    for s in SAMPLERS:
        cells = []
        for steps in STEPS:
            f = os.path.join(out, f"{s}-{steps}.json")
            if os.path.exists(f) and os.path.getsize(f):
                r = json.load(open(f))
                cells += [f"{100 * r['confident_share']:.1f} % ({network_calls(s, steps)} calls)", f"{r['frechet_distance']:.1f}"]
            else:
                cells += ["not run", "—"]
        lines.append(f"| `{s}` ({get_sampler(s).title}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m genviz.backend.sampler_table")
    p.add_argument("--checkpoint", default="mnist-ddpm")
    p.add_argument("--out", default="out/sched_eval")
    p.add_argument("--n", type=int, default=500)
    a = p.parse_args(argv)
    import torch
    torch.set_num_threads(1)
    run_cells(a.checkpoint, a.out, a.n)
    print(table(a.out))


if __name__ == "__main__":
    main()
