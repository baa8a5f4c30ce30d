"""make_timesteps: diffusers' timestep grids, and the t_start (SDEdit / branching) grid."""
import numpy as np
import pytest

from genviz.backend import make_timesteps

diffusers = pytest.importorskip("diffusers")


@pytest.mark.parametrize("spacing", ["leading", "trailing", "linspace"])
@pytest.mark.parametrize("n", [1, 2, 3, 7, 10, 50, 999, 1000])
def test_equals_diffusers_ddim_set_timesteps(spacing, n):
    s = diffusers.DDIMScheduler(num_train_timesteps=1000, timestep_spacing=spacing)
    s.set_timesteps(n)
    assert make_timesteps(1000, n, spacing) == s.timesteps.tolist()


@pytest.mark.parametrize("spacing", ["leading", "trailing", "linspace"])
@pytest.mark.parametrize("n", [1, 10, 50, 1000])
def test_equals_diffusers_ddpm_set_timesteps(spacing, n):
    s = diffusers.DDPMScheduler(num_train_timesteps=1000, timestep_spacing=spacing)
    s.set_timesteps(n)
    assert make_timesteps(1000, n, spacing) == s.timesteps.tolist()


@pytest.mark.parametrize("T", [1000, 50])
@pytest.mark.parametrize("spacing", ["leading", "trailing", "linspace"])
def test_every_step_count_gives_a_valid_grid(T, spacing):
    """steps distinct, strictly descending timesteps in 0..T-1 for every steps in 1..T.

    Regression: "trailing" used np.arange(T, 0, -T/steps), whose float length is steps + 1 for some steps
    (61, 103, ... of 1000; 29, 31 of 50), adding a timestep -1 (a DDPM chain then divided by zero).
    """
    for n in range(1, T + 1):
        ts = make_timesteps(T, n, spacing)
        assert len(ts) == n, (n, ts[-3:])
        assert all(a > b for a, b in zip(ts, ts[1:])), n
        assert 0 <= ts[-1] and ts[0] <= T - 1, n


def test_trailing_matches_diffusers_wherever_diffusers_is_valid():
    for n in range(1, 1001):
        ref = list(np.round(np.arange(1000, 0, -1000 / n)).astype(np.int64) - 1)   # diffusers' expression
        assert make_timesteps(1000, n, "trailing") == ref[:n]


def test_known_grids():
    assert make_timesteps(1000, 10, "leading") == [900, 800, 700, 600, 500, 400, 300, 200, 100, 0]
    assert make_timesteps(1000, 10, "trailing") == [999, 899, 799, 699, 599, 499, 399, 299, 199, 99]
    assert make_timesteps(1000, 4, "linspace") == [999, 666, 333, 0]
    assert make_timesteps(1000, 1000) == list(range(999, -1, -1))


@pytest.mark.parametrize("t_start,steps", [(500, 10), (999, 50), (300, 300), (7, 20), (1, 5), (250, 2)])
def test_t_start_grid(t_start, steps):
    ts = make_timesteps(1000, steps, t_start=t_start)
    assert ts[0] == t_start and ts[-1] == 0
    assert len(ts) == min(steps, t_start + 1)
    assert all(a > b for a, b in zip(ts, ts[1:]))
    gaps = np.diff(ts[::-1])
    assert gaps.max() - gaps.min() <= 1      # evenly spread


def test_t_start_one_step_starts_at_t_start():
    """Regression: with steps=1 the grid was [0] (np.linspace(0, t_start, 1)), ignoring where x_init is."""
    assert make_timesteps(1000, 1, t_start=500) == [500]
    assert make_timesteps(1000, 1, t_start=0) == [0]
    assert make_timesteps(1000, 5, t_start=0) == [0]


def test_timestep_errors():
    with pytest.raises(ValueError, match="steps must be in 1..1000, got 0"):
        make_timesteps(1000, 0)
    with pytest.raises(ValueError, match="steps must be in 1..1000, got 1001"):
        make_timesteps(1000, 1001)
    with pytest.raises(ValueError, match="unknown timestep spacing 'uniform'"):
        make_timesteps(1000, 10, "uniform")
    with pytest.raises(ValueError, match="t_start must be in 0..999, got 1000"):
        make_timesteps(1000, 10, t_start=1000)
    with pytest.raises(ValueError, match="t_start"):
        make_timesteps(1000, 10, t_start=-1)
