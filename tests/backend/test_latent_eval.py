"""``python -m genviz.backend.latent_eval`` on the bundled mnist-ddpm, with 2 seed pairs."""
import pytest
import torch

from genviz.backend import list_checkpoints
from genviz.backend.latent_eval import measure

pytestmark = pytest.mark.skipif(not {"mnist-ddpm", "mnist-classifier"} <= {c.name for c in list_checkpoints()},
                                reason="needs the bundled mnist-ddpm and mnist-classifier")


def test_latent_eval_figures():
    n = torch.get_num_threads()
    out = measure("mnist-ddpm", pairs=2, inversion_steps=(10,), digits=2)
    torch.set_num_threads(n)
    inv = out["inversion_10"]
    assert 15 < inv["psnr_db"] < 60 and 0 < inv["mean_abs_error"] < inv["rmse"] < 0.4
    assert 0.2 < inv["latent_std"] < 1.2
    # between independent 784-d Gaussian latents lerp's midpoint has ≈ √½ of their norm; slerp and z_ρ keep it
    assert abs(out["lerp"]["mid_norm"] - 0.5 ** 0.5) < 0.05
    assert abs(out["slerp"]["mid_norm"] - 1) < 0.02 and abs(out["rho"]["mid_norm"] - 1) < 0.05
    for k in ("endpoints", "lerp", "slerp", "rho"):
        assert 0 <= out[k]["confident_share"] <= 1 and out[k]["frechet_distance"] >= 0
