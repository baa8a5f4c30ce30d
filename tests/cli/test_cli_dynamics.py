"""``genviz dynamics dirac``: the trajectory file's shape and content, and one error line for bad input."""
import numpy as np
import pytest

from genviz.backend.dynamics import DiracGAN, trajectory
from genviz.cli import main


def _one_error_line(err: str, *words):
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("genviz: error:") and "Traceback" not in err, err
    for w in words:
        assert w in lines[0], lines[0]


@pytest.mark.parametrize("method", ["simultaneous", "alternating"])
def test_dynamics_writes_the_trajectory(tmp_path, capsys, method):
    out = tmp_path / "traj.npz"
    assert main(["dynamics", "dirac", "--method", method, "--steps", "120", "--h", "0.1", "--start", "0.5,-1",
                 "--c", "1", "--r1", "0.2", "--out", str(out)]) == 0
    d = np.load(out)
    assert d["trajectory"].shape == (121, 2)
    assert np.allclose(d["trajectory"][0], [0.5, -1.0])
    ref = trajectory(DiracGAN(1.0, 0.2, 0.0), method, 0.1, 120, (0.5, -1.0)).points
    assert np.array_equal(d["trajectory"], ref)
    assert str(d["method"]) == method and "wrote" in capsys.readouterr().out


def test_dynamics_defaults(tmp_path):
    out = tmp_path / "t.npz"
    assert main(["dynamics", "dirac", "--out", str(out)]) == 0
    t = np.load(out)["trajectory"]
    assert t.shape == (501, 2) and np.allclose(t[0], [1.0, 0.0])
    assert np.hypot(*t[-1]) > 1000            # plain simultaneous steps, h 0.2: spirals out


@pytest.mark.parametrize("args,words", [
    (["--h", "0"], ["--h", "[0.0001, 10]"]),
    (["--h", "abc"], ["--h"]),
    (["--r1", "-1"], ["--r1", "[0, 10]"]),
    (["--clc", "nan"], ["--clc"]),
    (["--c", "20"], ["--c", "[-10, 10]"]),
    (["--steps", "0"], ["--steps", "1..100000"]),
    (["--start", "1"], ["--start", "THETA,PHI"]),
    (["--start", "1,inf"], ["--start"]),
    (["--method", "extragradient"], ["--method"]),
])
def test_dynamics_refuses_bad_numbers(tmp_path, capsys, args, words):
    out = tmp_path / "t.npz"
    try:
        rc = main(["dynamics", "dirac", *args, "--out", str(out)])
    except SystemExit as e:  # argparse's range checks exit 2
        rc = e.code
    assert rc in (1, 2)
    _one_error_line(capsys.readouterr().err, *words)
    assert not out.exists()


def test_dynamics_reports_a_diverging_trajectory(tmp_path, capsys):
    out = tmp_path / "t.npz"
    assert main(["dynamics", "dirac", "--h", "1", "--steps", "2000", "--out", str(out)]) == 1
    _one_error_line(capsys.readouterr().err, "diverged", "step 40", "nothing written")
    assert not out.exists()
    assert main(["dynamics", "dirac", "--out", str(tmp_path / "t.png")]) == 1
    _one_error_line(capsys.readouterr().err, ".npz")
