"""Measure the GLF and the VAEBM against their baseline ``mnist-vae`` (the README's figures).

``python -m genviz.backend.glf_vaebm_eval {slerp,vaebm} [--json PATH]`` prints JSON:

- ``slerp``: for ``pairs`` seed pairs (2i, 2i+1), every frame of a ``frames``-frame slerp between the seeds'
  latents (Shoemake 1985; endpoints included), decoded one at a time by each model's latent space — the VAE's z,
  the GLF's noise ε (Xiao 2022 Fig. 3.3) and the GLF's latent z (endpoints z = f⁻¹(ε_s): the same images) —
  judged by the digit classifier (``metrics.digit_report``: the share with confidence >= 0.9).
- ``vaebm``: the base VAE's samples for seeds ``seed``, ``seed+1``, ... (100 per batch, as ``genviz eval``) and the
  VAEBM's, which start from exactly those samples and run K ε-space Langevin steps (``samplers.vaebm``), judged by
  ``digit_report`` (confident share, Fréchet distance to the held-out digits) for each K, with the wall-clock
  seconds per sample (this machine, the threads given).
"""
from __future__ import annotations

import argparse
import json
import time

import torch


@torch.inference_mode()
def slerp_share(checkpoints=("mnist-vae", "mnist-glf"), pairs: int = 50, frames: int = 8) -> dict:
    """{space description: {"confident_share", "frechet_distance", "n"}} for the slerp frames (module docstring)."""
    from .checkpoints import load_checkpoint
    from .interpolation import latent_space, path
    from .metrics import digit_report
    clf = load_checkpoint("mnist-classifier", device="cpu")
    out: dict = {"pairs": pairs, "frames": frames}
    for name in checkpoints:
        model = load_checkpoint(name, device="cpu")
        spaces = [("eps", model.latent_space("eps")), ("z", model.latent_space("z"))] \
            if callable(getattr(model, "latent_space", None)) else [("z", latent_space(model))]
        for label, space in spaces:
            zs = torch.cat([path(space.seed_latent(2 * i), space.seed_latent(2 * i + 1), "slerp", frames)
                            for i in range(pairs)])
            r = digit_report(space.decode(zs), clf)
            out[f"{name}:{label}"] = dict(confident_share=round(r["confident_share"], 3),
                                          frechet_distance=round(r["frechet_distance"], 1), n=r["n"],
                                          space=space.describe())
    return out


def vaebm_report(checkpoint: str = "mnist-vaebm", base: str = "mnist-vae", n: int = 500, seed: int = 0,
                 steps=(25, 50, 100), step_size: float | None = None) -> dict:
    """The VAE-vs-VAEBM table (module docstring): {"vae": {...}, "vaebm_K": {...}, ...}; each entry has
    ``confident_share``, ``frechet_distance`` and ``seconds_per_sample``."""
    from .api import sample
    from .checkpoints import load_checkpoint
    from .metrics import digit_report
    clf = load_checkpoint("mnist-classifier", device="cpu")
    vae, model = load_checkpoint(base, device="cpu"), load_checkpoint(checkpoint, device="cpu")
    eta = float(step_size if step_size is not None else model.default_sampler.get("step_size", 0.01))

    def judged(fn):
        t0 = time.perf_counter()
        xs = torch.cat([fn(min(100, n - i), seed + i) for i in range(0, n, 100)])
        secs = (time.perf_counter() - t0) / n
        r = digit_report(xs, clf)
        return dict(confident_share=round(r["confident_share"], 3), frechet_distance=round(r["frechet_distance"], 2),
                    mean_max_prob=round(r["mean_max_prob"], 3), seconds_per_sample=round(secs, 4), n=r["n"])

    out: dict = {"checkpoint": model.name, "base": vae.name, "seed": seed, "step_size": eta,
                 "vae": judged(lambda k, s: sample(vae, n=k, seed=s).cpu())}
    for K in steps:
        out[f"vaebm_{K}"] = judged(lambda k, s: sample(model, "vaebm-langevin", steps=K, n=k, seed=s, step_size=eta,
                                                       decode_terms=False).cpu())
    return out


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(prog="python -m genviz.backend.glf_vaebm_eval")
    p.add_argument("what", choices=("slerp", "vaebm"))
    p.add_argument("--pairs", type=int, default=50)
    p.add_argument("--n", type=int, default=500)
    p.add_argument("--steps", default="25,50,100", help="Langevin step counts for 'vaebm'")
    p.add_argument("--checkpoint", default=None, help="the GLF (slerp) or VAEBM (vaebm) checkpoint")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", help="also write the figures here")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    if a.what == "slerp":
        out = slerp_share(("mnist-vae", a.checkpoint or "mnist-glf"), a.pairs)
    else:
        out = vaebm_report(a.checkpoint or "mnist-vaebm", n=a.n, steps=tuple(int(s) for s in a.steps.split(",")))
    text = json.dumps(out, indent=1)
    print(text)
    if a.json:
        with open(a.json, "w") as f:
            f.write(text + "\n")
    return out


if __name__ == "__main__":
    main()
