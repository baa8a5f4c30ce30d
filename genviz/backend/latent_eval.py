"""Measure a diffusion checkpoint's DDIM latent: the inversion round trip and interpolation midpoints.

``python -m genviz.backend.latent_eval [CKPT] [--threads N] [--json PATH]`` (default ``mnist-ddpm``) prints JSON:

- ``inversion_{steps}``: the first ``digits`` (20) held-out digits of resources/mnist10k.npz are DDIM-inverted
  (``genviz.backend.inversion.ddim_invert``, Song et al. 2021 Sec. 4.3) over ``steps`` timesteps and decoded
  back by DDIM (η = 0, no clipping): RMSE and mean |error| in model units ([-1, 1]), PSNR in dB
  (20 log10(2 / RMSE)) and the std of the inverted latents (1 for N(0, I));
- ``endpoints``, ``lerp``, ``slerp``, ``rho``: for ``pairs`` (default 50) seed pairs (2i, 2i+1), the decoded
  first endpoints (seeds 2i) and the t = 0.5 frames of each path — the same number of images in every row,
  since a Fréchet distance from few images is biased upward — judged by ``metrics.digit_report`` (share
  with confidence >= 0.9, Fréchet distance to the held-out digits; from 50 images it is rough) and
  ``mid_norm``, the midpoint's norm over the mean endpoint norm (√½ ≈ 0.71 for lerp between independent
  latents).
"""
from __future__ import annotations

import argparse
import json
import math
from typing import Any

import torch


@torch.inference_mode()
def measure(checkpoint: str = "mnist-ddpm", pairs: int = 50, inversion_steps=(50, 100), digits: int = 20) -> dict:
    """The figures of the module docstring for ``checkpoint`` (a diffusion model of 1×28×28 MNIST digits in
    [-1, 1]), on the CPU.

    Args:
        checkpoint: bundled name or path.
        pairs: seed pairs (2i, 2i+1) for the midpoint rows (each row judges ``pairs`` images).
        inversion_steps: DDIM step counts for the inversion round trip.
        digits: how many held-out digits are inverted.
    Returns:
        dict: ``checkpoint``; ``inversion_{steps}`` with ``rmse`` and ``mean_abs_error`` (model units),
        ``psnr_db`` (dB, peak-to-peak 2) and ``latent_std``; ``endpoints``/``lerp``/``slerp``/``rho`` with
        ``confident_share`` (0..1) and ``frechet_distance``, and ``mid_norm`` (ratio) for the paths.
    Raises:
        CheckpointError: the checkpoint or the bundled ``mnist-classifier`` cannot be loaded.
        ValueError: the model has no DDIM latent (not a diffusion model).
    """
    from .api import sample
    from .checkpoints import load_checkpoint
    from .data import load_mnist, to_model_space
    from .interpolation import DDIMLatent, point
    from .metrics import digit_report
    model = load_checkpoint(checkpoint, device="cpu")
    if model.family != "diffusion":
        raise ValueError(f"{model.name}: a {model.family} model has no DDIM latent (use a diffusion model)")
    clf = load_checkpoint("mnist-classifier", device="cpu")
    out: dict = {"checkpoint": model.name}
    x = to_model_space(load_mnist("test")[0][:digits])
    for steps in inversion_steps:
        space = DDIMLatent(model, steps=steps)
        z = space.encode(x)
        # DDIM's sampler parameters (eta, clip_sample, maybe timestep_spacing), typed as what ``sample`` takes
        params: dict[str, Any] = dict(space.params)
        err = sample(model, "ddim", steps=steps, x_init=z, **params) - x
        rmse = float(err.pow(2).mean().sqrt())
        out[f"inversion_{steps}"] = dict(rmse=round(rmse, 4), psnr_db=round(20 * math.log10(2 / rmse), 2),
                                         mean_abs_error=round(float(err.abs().mean()), 4),
                                         latent_std=round(float(z.std()), 3))
    space = DDIMLatent(model)
    z1 = torch.stack([space.seed_latent(2 * i) for i in range(pairs)])
    z2 = torch.stack([space.seed_latent(2 * i + 1) for i in range(pairs)])
    end_norm = torch.cat([z1, z2]).flatten(1).norm(dim=1).mean()

    def judged(z):
        r = digit_report(sample(model, "ddim", steps=space.steps, x_init=z, **space.params), clf)
        return dict(confident_share=round(r["confident_share"], 3), frechet_distance=round(r["frechet_distance"], 1))

    out["endpoints"] = judged(z1)
    for method in ("lerp", "slerp", "rho"):
        zm = torch.stack([point(z1[i], z2[i], method, 0.5) for i in range(pairs)])
        out[method] = judged(zm) | dict(mid_norm=round(float(zm.flatten(1).norm(dim=1).mean() / end_norm), 3))
    return out


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(prog="python -m genviz.backend.latent_eval")
    p.add_argument("checkpoint", nargs="?", default="mnist-ddpm")
    p.add_argument("--pairs", type=int, default=50)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", help="also write the figures here")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    out = measure(a.checkpoint, a.pairs)
    text = json.dumps(out, indent=1)
    print(text)
    if a.json:
        with open(a.json, "w") as f:
            f.write(text + "\n")
    return out


if __name__ == "__main__":
    main()
