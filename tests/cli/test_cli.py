"""CLI: every command's normal path and its error paths (one ``genviz: error:`` line, non-zero exit)."""
import json
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from genviz.cli import main


def run_cli(args, env_dir):
    env = dict(os.environ, GENVIZ_CHECKPOINTS=str(env_dir))
    return subprocess.run([sys.executable, "-m", "genviz", *args], capture_output=True, text=True, env=env,
                          timeout=120)


def assert_one_error_line(err: str):
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("genviz: error:"), err
    assert "Traceback" not in err


def test_list_json(bundled, capsys):
    assert main(["list", "--json"]) == 0
    items = json.loads(capsys.readouterr().out)
    assert [i["name"] for i in items] == ["tiny-ddpm"]
    assert items[0]["family"] == "diffusion" and items[0]["dataset"] == "mnist"
    assert items[0]["data_shape"] == [1, 28, 28] and items[0]["size_bytes"] > 0


def test_list_table(bundled, capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "tiny-ddpm" in out and "diffusion" in out


def test_samplers_table_columns_never_run_together(capsys):
    """Every sampler's name, label and kind are followed by at least two spaces, whatever their length
    (``dpmpp-2m-sde-karras``, ``autoregressive``), and the kind column starts at the same place on every line."""
    from genviz.backend.samplers import SAMPLERS
    assert main(["samplers"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(SAMPLERS)
    starts = set()
    for line, s in zip(lines, SAMPLERS.values()):
        assert line.startswith(s.name + "  ") and f"{s.title}  " in line
        starts.add(line.index(s.kind + "  ", line.index(s.title) + len(s.title)))
    assert len(starts) == 1


def test_info(bundled, capsys):
    assert main(["info", "tiny-ddpm"]) == 0
    meta = json.loads(capsys.readouterr().out)
    assert meta["family"] == "diffusion" and meta["format"] == "genviz-checkpoint"
    assert meta["network"]["class"] == "UNet"


def test_sample_png(bundled, tmp_path):
    out = tmp_path / "grid.png"
    assert main(["sample", "tiny-ddpm", "--steps", "3", "--n", "4", "--out", str(out)]) == 0
    im = Image.open(out)
    # 2x2 grid of 28 px tiles with 2 px padding, scaled by 2
    assert im.size == ((2 * 30 + 2) * 2, (2 * 30 + 2) * 2)


def test_sample_npz_trajectory_default_sampler(bundled, tmp_path):
    out = tmp_path / "s.npz"
    assert main(["sample", "tiny-ddpm", "--n", "3", "--seed", "7", "--trajectory", "--out", str(out)]) == 0
    f = np.load(out)
    assert f["samples"].shape == (3, 1, 28, 28) and f["samples"].dtype == np.float32
    assert 0.0 <= f["samples"].min() and f["samples"].max() <= 1.0
    assert f["trajectory"].shape == (5 + 1, 3, 1, 28, 28)  # default sampler: ddim, 5 steps
    np.testing.assert_allclose(f["trajectory"][-1], f["samples"], atol=1e-6)


def test_sample_matches_api(bundled, tmp_path):
    """`genviz sample --seed s` and `genviz.backend.sample(..., seed=s)` give the same samples."""
    from genviz.backend import load_checkpoint, sample
    out = tmp_path / "s.npz"
    assert main(["sample", "tiny-ddpm", "--sampler", "ddpm", "--steps", "4", "--n", "2", "--seed", "3",
                 "--out", str(out)]) == 0
    m = load_checkpoint("tiny-ddpm", device="cpu")
    x = m.to_unit(sample(m, "ddpm", steps=4, n=2, seed=3)).numpy()
    np.testing.assert_array_equal(np.load(out)["samples"], x)


def test_sample_param_and_eta(bundled, tmp_path):
    out = tmp_path / "s.npz"
    assert main(["sample", "tiny-ddpm", "--sampler", "ddim", "--steps", "3", "--n", "2", "--eta", "1.0",
                 "--param", "clip_sample=false", "--out", str(out)]) == 0
    assert np.load(out)["samples"].shape == (2, 1, 28, 28)


@pytest.mark.parametrize("args, fragment", [
    (["sample", "no-such-model", "--out", "{tmp}/x.png"], "not a bundled checkpoint"),
    (["sample", "tiny-ddpm", "--sampler", "bogus", "--out", "{tmp}/x.png"], "unknown sampler"),
    (["sample", "tiny-ddpm", "--steps", "abc", "--out", "{tmp}/x.png"], "expected a whole number in 1..100000"),
    (["sample", "tiny-ddpm", "--steps", "0", "--out", "{tmp}/x.png"], "steps"),
    (["sample", "tiny-ddpm", "--eta", "-1", "--out", "{tmp}/x.png"], "eta"),
    (["sample", "tiny-ddpm", "--out", "{tmp}/nodir/x.png"], "does not exist"),
    (["sample", "tiny-ddpm", "--out", "{tmp}/x.jpg"], "extension"),
    (["sample", "tiny-ddpm", "--param", "nonsense=1", "--out", "{tmp}/x.png"], "no parameter"),
    (["sample", "tiny-ddpm", "--device", "cuda:7", "--out", "{tmp}/x.png"], "not available"),
    (["info", "{tmp}/broken.safetensors"], "broken.safetensors"),
    (["info", "{tmp}/evil.pt"], "evil.pt"),
    (["frobnicate"], "invalid choice"),
])
def test_errors_in_process(bundled, tmp_path, capsys, args, fragment):
    (tmp_path / "broken.safetensors").write_bytes(b"\x00garbage" * 10)
    (tmp_path / "evil.pt").write_bytes(pickle.dumps({"a": 1}))
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    pairs = set(zip(args, args[1:]))
    parser_refusal = args[0] == "frobnicate" or ("--steps", "abc") in pairs or ("--steps", "0") in pairs
    with pytest.raises(SystemExit) if parser_refusal else _NullCtx():
        rc = main(args)
        assert rc != 0
    err = capsys.readouterr().err
    assert_one_error_line(err)
    assert fragment in err


class _NullCtx:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def test_unwritable_output(bundled, tmp_path, capsys):
    d = tmp_path / "ro"
    d.mkdir()
    d.chmod(0o500)
    try:
        if os.access(d, os.W_OK):  # running as root: permissions do not bind; use a path under a file
            target = tmp_path / "afile"
            target.write_text("x")
            out = str(target / "x.png")
        else:
            out = str(d / "x.png")
        assert main(["sample", "tiny-ddpm", "--steps", "2", "--n", "1", "--out", out]) == 1
    finally:
        d.chmod(0o700)
    assert_one_error_line(capsys.readouterr().err)


def test_subprocess_normal_and_error(bundled, tmp_path):
    """The real console entry point: exit 0 on success, exit != 0 and one stderr line on failure."""
    ok = run_cli(["list", "--json"], bundled)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)[0]["name"] == "tiny-ddpm"
    evil = tmp_path / "evil.pt"
    sentinel = tmp_path / "PWNED"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {sentinel}",))

    evil.write_bytes(pickle.dumps({"w": Evil()}))
    (tmp_path / "evil.json").write_text(json.dumps({"family": "diffusion", "network": {"class": "UNet"},
                                                    "data": {"shape": [1, 28, 28]}}))
    bad = run_cli(["sample", str(evil), "--out", str(tmp_path / "x.png")], bundled)
    assert bad.returncode != 0
    assert_one_error_line(bad.stderr)
    assert "refused" in bad.stderr
    assert not sentinel.exists()


# ---- genviz sdedit ------------------------------------------------------------------------------

def _stroke_png(path, size=(140, 100), mode="L"):
    a = np.full((size[1], size[0]), 255, np.uint8)  # black ink on white, not square, not 28 px
    a[20:80, 60:75] = 0
    Image.fromarray(a).convert(mode).save(path)
    return path


def test_sdedit_npz_and_png(bundled, tmp_path, capsys):
    strokes = _stroke_png(tmp_path / "s.png", mode="RGB")
    out = tmp_path / "o.npz"
    assert main(["sdedit", "tiny-ddpm", "--strokes", str(strokes), "--t0", "0.3", "--n", "3", "--steps", "2",
                 "--seed", "5", "--device", "cpu", "--out", str(out)]) == 0
    assert "3 candidates" in capsys.readouterr().out
    with np.load(out) as f:
        s, d = f["samples"], f["drawing"]
    assert s.shape == (3, 1, 28, 28) and s.dtype == np.float32 and s.min() >= 0 and s.max() <= 1
    assert d.shape == (1, 28, 28) and d[0, 0, 0] == 0.0 and d[0, 14, 14] > 0.9  # inverted: white ink on black
    out0 = tmp_path / "o0.npz"
    assert main(["sdedit", "tiny-ddpm", "--strokes", str(strokes), "--t0", "0", "--n", "2", "--device", "cpu",
                 "--out", str(out0)]) == 0
    with np.load(out0) as f:
        assert np.allclose(f["samples"], d[None], atol=1e-6)  # t0 = 0: the drawing itself
    mask = np.zeros((28, 28), np.uint8)
    mask[:, 14:] = 255
    Image.fromarray(mask).save(tmp_path / "m.png")
    outm = tmp_path / "om.npz"
    assert main(["sdedit", "tiny-ddpm", "--strokes", str(strokes), "--mask", str(tmp_path / "m.png"), "--t0", "0.9",
                 "--n", "2", "--steps", "2", "--sampler", "ddpm", "--device", "cpu", "--out", str(outm)]) == 0
    with np.load(outm) as f:
        sm = f["samples"]
    assert np.abs(sm[:, :, :, :14] - d[None, :, :, :14]).max() < 1e-6
    png = tmp_path / "o.png"
    assert main(["sdedit", "tiny-ddpm", "--strokes", str(strokes), "--n", "2", "--steps", "2", "--device", "cpu",
                 "--out", str(png)]) == 0
    assert Image.open(png).size[0] > 2 * 28


@pytest.mark.parametrize("args,msg", [
    (["--strokes", "{tmp}/missing.png"], "no such image"),
    (["--strokes", "{tmp}/bad.png"], "not a readable image"),
    (["--strokes", "{tmp}/s.png", "--mask", "{tmp}/bad.png"], "--mask"),
    (["--strokes", "{tmp}/s.png", "--t0", "1.5"], "t0"),
    (["--strokes", "{tmp}/s.png", "--t0", "-0.1"], "t0"),
    (["--strokes", "{tmp}/s.png", "--n", "0"], "--n"),
    (["--strokes", "{tmp}/s.png", "--sampler", "ddgan"], "--sampler ddgan: tiny-ddpm edits with ddim, ddpm, "),
    (["--strokes", "{tmp}/s.png", "--sampler", "euler-a", "--ilvr", "4"], "ddim and ddpm samplers only"),
])
def test_sdedit_errors(bundled, tmp_path, capsys, args, msg):
    _stroke_png(tmp_path / "s.png")
    (tmp_path / "bad.png").write_text("not an image")
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    try:
        rc = main(["sdedit", "tiny-ddpm", *args, "--out", str(tmp_path / "o.png")])
    except SystemExit as e:  # argparse's own errors (bad choice) exit 2
        rc = e.code
    assert rc != 0
    err = capsys.readouterr().err
    assert_one_error_line(err)
    assert msg in err
    assert not (tmp_path / "o.png").exists()


def test_sdedit_with_a_diffusers_scheduler_and_with_a_ddgan(bundled, tmp_path, capsys):
    """genviz sdedit runs every sampler the canvas offers: a diffusers scheduler (plain SDEdit by default, the mask's
    kept pixels exact) and, for a denoising diffusion GAN, its round(t0·T)-step chain (issue 14's CLI)."""
    from genviz.backend import save_checkpoint
    from genviz.backend.nets.ddgan import DDGANGenerator
    from genviz.backend.training import mnist_ddgan
    strokes = _stroke_png(tmp_path / "s.png", mode="RGB")
    mask = np.zeros((28, 28), np.uint8)
    mask[:, 14:] = 255
    Image.fromarray(mask).save(tmp_path / "m.png")
    out = tmp_path / "e.npz"
    assert main(["sdedit", "tiny-ddpm", "--strokes", str(strokes), "--mask", str(tmp_path / "m.png"), "--sampler",
                 "euler-a", "--steps", "3", "--n", "2", "--device", "cpu", "--out", str(out)]) == 0
    assert "euler-a" in capsys.readouterr().out
    with np.load(out) as f:
        assert f["samples"].shape == (2, 1, 28, 28)
        assert np.abs(f["samples"][:, :, :, :14] - f["drawing"][None, :, :, :14]).max() < 1e-6
    cfg = dict(in_channels=1, latent_dim=8, num_timesteps=4, channels=[8, 8, 8], cond_dim=16, map_layers=1)
    meta = mnist_ddgan.metadata(1, dict(mnist_ddgan.DEFAULTS, d_width=8), 0.0, 0.0, 0.0)
    meta["network"]["config"], meta["latent"]["shape"] = cfg, [8]
    save_checkpoint(bundled / "tiny-ddgan.safetensors", DDGANGenerator(**cfg).state_dict(), meta)
    out = tmp_path / "g.npz"
    assert main(["sdedit", "tiny-ddgan", "--strokes", str(strokes), "--t0", "0.5", "--n", "3", "--device", "cpu",
                 "--out", str(out)]) == 0
    assert "t0 0.5 = step 2 of 4, ddgan, 2 steps" in capsys.readouterr().out
    with np.load(out) as f:
        assert f["samples"].shape == (3, 1, 28, 28) and np.isfinite(f["samples"]).all()


def test_sdedit_error_from_the_shell(bundled, tmp_path):
    (tmp_path / "bad.png").write_text("not an image")
    r = run_cli(["sdedit", "tiny-ddpm", "--strokes", str(tmp_path / "bad.png"), "--out", str(tmp_path / "o.png")],
                bundled)
    assert r.returncode == 1
    assert_one_error_line(r.stderr)
    assert "not a readable image" in r.stderr


def test_sample_langevin_flags_match_api(bundled, tmp_path):
    """--step-size / --temperature / --convention reach the sampler under the API's names."""
    from genviz.backend import load_checkpoint, sample
    out = tmp_path / "ula.npz"
    assert main(["sample", "tiny-ddpm", "--sampler", "ula", "--steps", "3", "--n", "2", "--seed", "4",
                 "--step-size", "0.0002", "--convention", "B", "--temperature", "0.5", "--out", str(out)]) == 0
    m = load_checkpoint("tiny-ddpm", device="cpu")
    ref = sample(m, "ula", steps=3, n=2, seed=4, step_size=0.0002, convention="B", temperature=0.5)
    np.testing.assert_allclose(np.load(out)["samples"], m.to_unit(ref).numpy(), atol=1e-6)
    other = tmp_path / "ula2.npz"
    assert main(["sample", "tiny-ddpm", "--sampler", "ula", "--steps", "3", "--n", "2", "--seed", "4",
                 "--step-size", "0.0002", "--convention", "B", "--temperature", "1.0", "--out", str(other)]) == 0
    assert not np.allclose(np.load(other)["samples"], np.load(out)["samples"])


@pytest.mark.parametrize("args, needle", [
    (["--sampler", "ula", "--step-size", "-1"], "step_size"),
    (["--sampler", "mala"], "mala"),
    (["--sampler", "ula", "--convention", "C"], "convention"),
])
def test_sample_langevin_flag_errors(bundled, tmp_path, args, needle):
    r = run_cli(["sample", "tiny-ddpm", "--steps", "2", *args, "--out", str(tmp_path / "x.npz")], bundled)
    assert r.returncode != 0
    assert_one_error_line(r.stderr)
    assert needle in r.stderr


def test_sdedit_with_ilvr_and_guidance(bundled, tmp_path, capsys, monkeypatch):
    import shutil

    import torch

    from genviz.backend import save_checkpoint
    from genviz.backend.nets.classifier import DigitCNN
    d = tmp_path / "ck"
    shutil.copytree(bundled, d)
    cfg = dict(in_channels=1, num_classes=10, width=4, feat=8)
    torch.manual_seed(0)
    save_checkpoint(d / "mnist-guide.safetensors", DigitCNN(**cfg).state_dict(), {
        "name": "mnist-guide", "family": "classifier", "network": {"class": "DigitCNN", "config": cfg},
        "data": {"shape": [1, 28, 28], "range": [-1.0, 1.0], "dataset": "mnist", "kind": "image"},
        "classes": [str(i) for i in range(10)], "training": {"recipe": "test"}})
    from genviz.backend import checkpoints
    monkeypatch.setattr(checkpoints, "CHECKPOINT_DIR", d)
    strokes = _stroke_png(tmp_path / "s.png")
    out = tmp_path / "g.npz"
    assert main(["sdedit", "tiny-ddpm", "--strokes", str(strokes), "--t0", "0.9", "--n", "2", "--steps", "3",
                 "--ilvr", "4", "--guidance", "2", "--guide-class", "7", "--device", "cpu", "--out", str(out)]) == 0
    assert "guided to 7" in capsys.readouterr().out
    with np.load(out) as f:
        assert f["samples"].shape == (2, 1, 28, 28)
    # with a guide classifier that fits, the defaults are the measured ones (t0 0.9, ILVR 4, guidance 2)
    assert main(["sdedit", "tiny-ddpm", "--strokes", str(strokes), "--n", "1", "--steps", "2", "--device", "cpu",
                 "--out", str(out)]) == 0
    msg = capsys.readouterr().out
    assert "t0 0.9 " in msg and "ILVR 4" in msg and "guided to" in msg
    assert main(["sdedit", "tiny-ddpm", "--strokes", str(strokes), "--plain", "--n", "1", "--steps", "2",
                 "--device", "cpu", "--out", str(out)]) == 0
    msg = capsys.readouterr().out
    assert "t0 0.6 " in msg and "ILVR" not in msg and "guided" not in msg
    with pytest.raises(SystemExit) as e:  # refused by the argument parser (range check), exit status 2
        main(["sdedit", "tiny-ddpm", "--strokes", str(strokes), "--guidance", "-1", "--out", str(out)])
    assert e.value.code == 2
    assert_one_error_line(capsys.readouterr().err)


def test_sample_that_diverges_exits_with_the_fix(bundled, capsys, tmp_path):
    """Trailing timesteps without x̂₀ clipping on a cosine schedule leave the data's domain at once (ᾱ_999 ~ 2e-9):
    one error line naming the step and the fix, nothing written; with clipping the same chain succeeds."""
    out = tmp_path / "s.png"
    rc = main(["sample", "tiny-ddpm", "--sampler", "ddim", "--steps", "10", "--n", "2", "--param", "clip_sample=false",
               "--param", "timestep_spacing=trailing", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc != 0 and not out.exists()
    assert_one_error_line(err)
    assert "chain diverged at step 1" in err and "clip_sample on" in err
    assert main(["sample", "tiny-ddpm", "--sampler", "ddim", "--steps", "10", "--n", "2",
                 "--param", "timestep_spacing=trailing", "--out", str(out)]) == 0 and out.exists()


def test_gui_options_without_the_gui_command(monkeypatch):
    """`genviz`, and `genviz --screenshot PNG --panel P` (as the no-display error suggests), mean `genviz gui ...`."""
    import genviz.cli as cli
    seen = []
    monkeypatch.setattr(cli, "cmd_gui", lambda a: seen.append((a.command, a.panel, a.screenshot)) or 0)
    assert main([]) == 0 and main(["--panel", "canvas", "--screenshot", "s.png"]) == 0
    assert seen == [("gui", None, None), ("gui", "canvas", "s.png")]  # no --panel: the Start page (initial_view)


def test_divergence_hint_uses_the_samplers_own_clip_setting(bundled, capsys, tmp_path):
    """The ODE samplers do not clip by default: their divergence message says to turn clipping on, though the
    flag was never given."""
    rc = main(["sample", "tiny-ddpm", "--sampler", "ode-euler", "--steps", "10", "--n", "2",
               "--param", "timestep_spacing=trailing", "--out", str(tmp_path / "s.png")])
    err = capsys.readouterr().err
    assert rc != 0 and "chain diverged" in err and "clip_sample on" in err


@pytest.mark.parametrize("argv, what", [
    (["sample", "x", "--n", "100000", "--out", "o.png"], "--n: must be in 1..4096"),
    (["sample", "x", "--steps", "1000000000", "--out", "o.png"], "--steps: must be in 1..100000"),
    (["sample", "x", "--seed", str(2**80), "--out", "o.png"], "--seed: must be in 0.."),
    (["sdedit", "x", "--strokes", "s.png", "--eta", "nan", "--out", "o.png"], "--eta: must be a finite number"),
    (["sdedit", "x", "--strokes", "s.png", "--guidance", "1e30", "--out", "o.png"], "--guidance: must be a finite"),
    (["sdedit", "x", "--strokes", "s.png", "--t0", "1.5", "--out", "o.png"], "--t0: must be a finite number in [0, 1]"),
    (["sdedit", "x", "--strokes", "s.png", "--n", "100000", "--out", "o.png"], "--n: must be in 1..64"),
    (["interpolate", "x", "--method", "slerp", "--frames", "1000000", "--out", "o.png"], "--frames: must be in 1..512"),
    (["eval", "x", "--n", "-3"], "--n: must be in 2..20000"),
])
def test_absurd_numbers_are_refused_in_one_line(argv, what, capsys):
    """NaN, inf and sizes that would run for hours or exhaust memory are refused before anything loads."""
    with pytest.raises(SystemExit) as e:
        main(argv)
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.count("\n") == 1 and err.startswith("genviz: error: ") and what in err


def test_grid_frames_are_bounded(capsys):
    rc = main(["interpolate", "mnist-vae", "--method", "slerp", "--grid", "--frames", "100", "--seed-a", "0",
               "--seed-b", "1", "--seed-c", "2", "--seed-d", "3", "--out", "o.png"])
    err = capsys.readouterr().err
    assert rc == 1 and "--frames with --grid is per side: must be in 2..32" in err and err.count("\n") == 1
