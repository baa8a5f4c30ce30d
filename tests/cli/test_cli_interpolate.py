"""CLI: ``genviz interpolate`` (normal and error paths) and ``genviz sample`` / ``eval`` for VAE and GAN models."""
import os
import subprocess
import sys

import numpy as np
import pytest
from latenttiny import save_latent_ckpts
from PIL import Image

from genviz.cli import main


@pytest.fixture(scope="module")
def latent_ckpts(tmp_path_factory):
    return save_latent_ckpts(tmp_path_factory.mktemp("latent-ckpts"))


@pytest.mark.parametrize("name", ["tiny-vae", "tiny-gan"])
@pytest.mark.parametrize("method", ["lerp", "slerp", "rho"])
def test_endpoint_frames_equal_sample_outputs(latent_ckpts, tmp_path, name, method, capsys):
    ck = latent_ckpts[name]
    out = tmp_path / "walk.npz"
    assert main(["interpolate", ck, "--method", method, "--frames", "5", "--seed-a", "7", "--seed-b", "9",
                 "--out", str(out)]) == 0
    assert "5 frames" in capsys.readouterr().out
    with np.load(out) as f:
        s = f["samples"]
        assert s.shape == (5, 1, 28, 28) and s.dtype == np.float32 and s.min() >= 0 and s.max() <= 1
        assert f["latent_norm"].shape == (5,) and str(f["method"]) == method
    for seed, idx in ((7, 0), (9, -1)):
        one = tmp_path / f"s{seed}.npz"
        assert main(["sample", ck, "--n", "1", "--seed", str(seed), "--out", str(one)]) == 0
        with np.load(one) as f:
            assert np.array_equal(f["samples"][0], s[idx])


def test_grid_png_and_real_images(latent_ckpts, tmp_path, bundled):
    ck = latent_ckpts["tiny-vae"]
    out = tmp_path / "grid.png"
    assert main(["interpolate", ck, "--grid", "--method", "rho", "--frames", "4", "--seed-a", "0", "--seed-b", "1",
                 "--seed-c", "2", "--seed-d", "3", "--out", str(out)]) == 0
    im = np.asarray(Image.open(out))
    assert im.shape == (2 * (4 * 30 + 2), 2 * (4 * 30 + 2))  # 4x4 tiles of 28 px, pad 2, scale 2
    img = tmp_path / "digit.png"
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(img)
    out2 = tmp_path / "real.npz"
    assert main(["interpolate", ck, "--image-a", str(img), "--image-b", "mnist:3", "--frames", "3",
                 "--out", str(out2)]) == 0
    with np.load(out2) as f:
        assert f["samples"].shape == (3, 1, 28, 28)
    # grid npz: frames x frames samples, row-major
    out3 = tmp_path / "grid.npz"
    assert main(["interpolate", ck, "--grid", "--frames", "3", "--seed-a", "0", "--seed-b", "1", "--seed-c", "2",
                 "--image-d", "mnist:0", "--out", str(out3)]) == 0
    with np.load(out3) as f:
        assert f["samples"].shape == (9, 1, 28, 28) and list(f["grid_shape"]) == [3, 3]


def test_ddim_latents_of_a_diffusion_model(bundled, tmp_path):
    out = tmp_path / "ddim.npz"
    assert main(["interpolate", "tiny-ddpm", "--steps", "3", "--frames", "3", "--seed-a", "1", "--seed-b", "2",
                 "--out", str(out)]) == 0
    one = tmp_path / "one.npz"
    assert main(["sample", "tiny-ddpm", "--sampler", "ddim", "--steps", "3", "--eta", "0", "--param",
                 "clip_sample=false", "--n", "1", "--seed", "2", "--out", str(one)]) == 0
    with np.load(out) as f, np.load(one) as g:
        assert np.array_equal(f["samples"][-1], g["samples"][0])


@pytest.mark.parametrize("args, fragment", [
    (["--seed-a", "1", "--out", "{d}/x.png"], "endpoint B"),
    (["--seed-a", "1", "--image-a", "mnist:1", "--seed-b", "2", "--out", "{d}/x.png"], "endpoint A"),
    (["--seed-a", "1", "--seed-b", "2", "--seed-c", "3", "--out", "{d}/x.png"], "need --grid"),
    (["--grid", "--seed-a", "1", "--seed-b", "2", "--seed-c", "3", "--out", "{d}/x.png"], "endpoint D"),
    (["--seed-a", "1", "--seed-b", "2", "--frames", "1", "--out", "{d}/x.png"], "--frames"),
    (["--seed-a", "1", "--seed-b", "2", "--out", "{d}/x.jpg"], "extension"),
    (["--seed-a", "1", "--seed-b", "2", "--out", "{d}/nope/x.png"], "does not exist"),
    (["--seed-a", "1", "--image-b", "{d}/missing.png", "--out", "{d}/x.png"], "no such image"),
    (["--seed-a", "1", "--image-b", "mnist:5000", "--out", "{d}/x.png"], "0..999"),
    (["--seed-a", "1", "--seed-b", "2", "--steps", "5", "--out", "{d}/x.png"], "diffusion models"),
    (["--seed-a", "1", "--seed-b", "2", "--steps", "0", "--out", "{d}/x.png"], "--steps"),
])
def test_errors(latent_ckpts, tmp_path, capsys, args, fragment):
    args = [a.replace("{d}", str(tmp_path)) for a in args]
    try:
        rc = main(["interpolate", latent_ckpts["tiny-vae"], *args])
    except SystemExit as e:  # refused by the argument parser (a range check)
        rc = e.code
    assert rc != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("genviz: error:") and fragment in err[0], err


def test_gan_real_image_and_model_without_latent(latent_ckpts, bundled, tmp_path, capsys):
    assert main(["interpolate", latent_ckpts["tiny-gan"], "--image-a", "mnist:1", "--seed-b", "2",
                 "--out", str(tmp_path / "x.png")]) == 1
    assert "no encoder" in capsys.readouterr().err
    from genviz.backend import save_checkpoint
    from genviz.backend.nets.energy import ConvEnergy
    p = tmp_path / "ebm.safetensors"
    save_checkpoint(p, ConvEnergy(width=2).state_dict(), {
        "name": "tiny-ebm", "family": "ebm", "network": {"class": "ConvEnergy", "config": {"in_channels": 1, "width": 2}},
        "data": {"shape": [1, 28, 28], "range": [-1.0, 1.0], "dataset": "mnist", "kind": "image"}})
    assert main(["interpolate", str(p), "--seed-a", "1", "--seed-b", "2", "--out", str(tmp_path / "x.png")]) == 1
    assert "no latent" in capsys.readouterr().err


def test_subprocess_one_error_line(latent_ckpts, tmp_path):
    r = subprocess.run([sys.executable, "-m", "genviz", "interpolate", latent_ckpts["tiny-gan"], "--method", "cubic",
                        "--seed-a", "1", "--seed-b", "2", "--out", str(tmp_path / "x.png")],
                       capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert r.returncode != 0
    lines = [ln for ln in r.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("genviz: error:") and "cubic" in lines[0]


def test_flow_walk_in_data_units_matches_sample(tmp_path):
    """A 2-D flow's base noise walks like any latent; frames are points (N, 2) in data units and the endpoints
    equal `genviz sample --n 1 --seed s` of the same flow (its default sampler pushes z_s through the flow)."""
    from genviz.backend import save_checkpoint
    from genviz.backend.training.toy import train
    flow = train("8gaussians", "flow", 10, None, log=None, hidden=16, transforms=2, bins=4)
    meta = {k: v for k, v in flow.metadata.items() if k not in ("format", "format_version")}
    ck = tmp_path / "tiny-flow.safetensors"
    save_checkpoint(ck, flow.net.state_dict(), meta)
    out = tmp_path / "walk.npz"
    assert main(["interpolate", str(ck), "--method", "slerp", "--frames", "6", "--seed-a", "2", "--seed-b", "5",
                 "--out", str(out)]) == 0
    with np.load(out) as f:
        s = f["samples"]
        assert s.shape == (6, 2) and f["latents"].shape == (6, 2)
    for seed, idx in ((2, 0), (5, -1)):
        one = tmp_path / f"s{seed}.npz"
        assert main(["sample", str(ck), "--n", "1", "--seed", str(seed), "--out", str(one)]) == 0
        with np.load(one) as f:
            np.testing.assert_allclose(f["samples"][0], s[idx], atol=1e-5)
    assert main(["interpolate", str(ck), "--frames", "3", "--seed-a", "0", "--seed-b", "1",
                 "--out", str(tmp_path / "x.png")]) == 1
