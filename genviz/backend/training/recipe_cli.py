"""The command line every resumable recipe shares (``genviz train NAME ...``): its output, one flag per entry of
the recipe's ``DEFAULTS``, the save period, the resume-state file, ``--resume``, the log period and the torch
thread count. A recipe adds its own flags between ``recipe_parser`` and ``run_recipe``."""
from __future__ import annotations

import argparse
import os
from typing import Callable


def recipe_parser(name: str, defaults: dict, state: str, *, save_minutes: float = 3.0,
                  log_every: int = 100) -> argparse.ArgumentParser:
    """An ``ArgumentParser`` for ``genviz train NAME`` with the shared flags (``--out`` defaults to
    ``checkpoints/NAME.safetensors``; ``--threads`` to ``$GENVIZ_THREADS``, else all cores)."""
    p = argparse.ArgumentParser(prog=f"genviz train {name}")
    p.add_argument("--out", default=f"checkpoints/{name}.safetensors")
    for k, v in defaults.items():
        p.add_argument("--" + k.replace("_", "-"), type=type(v), default=v)
    p.add_argument("--save-minutes", type=float, default=save_minutes,
                   help="write the checkpoint and the resume state this often")
    p.add_argument("--state", default=state, help="resume-state file (optimizer and RNG states; untracked)")
    p.add_argument("--resume", action="store_true", help="continue from --state up to --iters iterations in all")
    p.add_argument("--log-every", type=int, default=log_every)
    p.add_argument("--threads", type=int, default=int(os.environ.get("GENVIZ_THREADS", 0)) or None,
                   help="torch threads (default: $GENVIZ_THREADS, else all cores; 1 on a busy machine)")
    return p


def run_recipe(p: argparse.ArgumentParser, argv, train: Callable):
    """Parse ``argv``, set torch's thread count, and call ``train`` with every other flag as a keyword."""
    import torch
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads or os.cpu_count() or 1)
    del a.threads
    return train(**vars(a))
