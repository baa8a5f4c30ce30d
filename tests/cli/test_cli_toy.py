"""CLI for the 2-D toys: ``genviz train toy`` (normal and error paths), sampling a toy checkpoint to
.npz, and ``list --json`` naming each toy checkpoint's dataset."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from genviz.cli import main


def _one_error_line(err: str):
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("genviz: error:") and "Traceback" not in err, err


@pytest.fixture
def toy_dir(tmp_path, monkeypatch):
    """A bundled-checkpoint folder with one tiny toy flow trained by ``genviz train toy``."""
    from genviz.backend import checkpoints
    d = tmp_path / "ckpts"
    d.mkdir()
    assert main(["train", "toy", "--dataset", "8gaussians", "--model", "flow", "--steps", "15",
                 "--out", str(d / "toy-8gaussians-flow.safetensors"), "--set", "hidden=16", "--set", "transforms=2"]) == 0
    monkeypatch.setattr(checkpoints, "CHECKPOINT_DIR", d)
    monkeypatch.setenv("GENVIZ_CHECKPOINTS", str(d))
    return d


def test_train_toy_writes_a_loadable_checkpoint(toy_dir):
    from genviz.backend import load_checkpoint
    assert (toy_dir / "toy-8gaussians-flow.safetensors").stat().st_size > 0
    m = load_checkpoint("toy-8gaussians-flow", device="cpu")
    t = m.metadata["training"]
    assert m.family == "flow" and m.dataset == "8gaussians" and t["steps_done"] == 15
    assert t["recipe"] == "genviz train toy --dataset 8gaussians --model flow --steps 15"
    assert "make_dataset('8gaussians')" in t["data_source"]


def test_list_json_gives_dataset(toy_dir, capsys):
    assert main(["list", "--json"]) == 0
    items = {i["name"]: i for i in json.loads(capsys.readouterr().out)}
    assert items["toy-8gaussians-flow"]["dataset"] == "8gaussians"
    assert items["toy-8gaussians-flow"]["data_shape"] == [2]


def test_sample_toy_npz(toy_dir, tmp_path, capsys):
    out = tmp_path / "x.npz"
    assert main(["sample", "toy-8gaussians-flow", "--n", "2500", "--seed", "0", "--out", str(out)]) == 0
    with np.load(out) as z:
        x = z["samples"]
    assert x.shape == (2500, 2) and x.dtype == np.float32 and np.isfinite(x).all()
    out2 = tmp_path / "y.npz"
    assert main(["sample", "toy-8gaussians-flow", "--n", "2500", "--seed", "0", "--out", str(out2)]) == 0
    with np.load(out2) as z:
        assert np.array_equal(z["samples"], x)            # same seed, same samples


@pytest.mark.parametrize("args,fragment", [
    (["train", "toy", "--dataset", "nope", "--model", "flow"], "invalid choice"),
    (["train", "toy", "--dataset", "moons", "--model", "wgan"], "invalid choice"),
    (["train", "toy", "--model", "flow"], "required"),
    (["train", "toy", "--dataset", "moons", "--model", "flow", "--steps", "0"], "--steps must be >= 1"),
    (["train", "toy", "--dataset", "moons", "--model", "flow", "--out", "x.pt"], "extension"),
    (["train", "toy", "--dataset", "moons", "--model", "flow", "--out", "/no/such/dir/x.safetensors"], "does not exist"),
    (["train", "toy", "--dataset", "moons", "--model", "flow", "--steps", "5", "--set", "bogus=1",
      "--out", "{tmp}/a.safetensors"], "no parameter 'bogus'"),
    (["sample", "toy-8gaussians-flow", "--out", "{tmp}/x.png"], "needs an image model"),
])
def test_toy_errors(toy_dir, tmp_path, capsys, args, fragment):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    assert main(args) != 0
    err = capsys.readouterr().err
    _one_error_line(err)
    assert fragment in err


def test_subprocess_train_toy_error_and_sample(toy_dir, tmp_path):
    env = dict(os.environ, GENVIZ_CHECKPOINTS=str(toy_dir))
    r = subprocess.run([sys.executable, "-m", "genviz", "train", "toy", "--dataset", "moons", "--model", "flow",
                        "--steps", "-3"], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 1
    _one_error_line(r.stderr)
    r = subprocess.run([sys.executable, "-m", "genviz", "sample", "toy-8gaussians-flow", "--n", "10",
                        "--out", str(tmp_path / "s.npz")], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
