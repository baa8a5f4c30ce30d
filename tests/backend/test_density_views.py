"""What the density panel computes (``genviz.backend.toy.views`` / ``live``): segment geometry, arrow scaling, image
levels, grid mass, the panel's datasets, data-only views, particle frames (Langevin moves, density images) and live
training as a generator (progress, loss history, previews, cancel)."""
import threading

import numpy as np
import pytest
import torch

from genviz.backend.toy.datasets import make_dataset
from genviz.backend.toy.live import LossHistory, train_live
from genviz.backend.toy.views import (
    ParticleFrame,
    arrow_segments,
    compute_views,
    density_mass,
    image_levels,
    particle_frames,
    segment_pairs,
    trail_segments,
    view_dataset,
)
from genviz.backend.training.toy import train


@pytest.fixture(scope="module")
def tiny_ebm():
    return train("8gaussians", "ebm", 5, None, log=None, hidden=16, K=5)


def test_segment_pairs_interleave_starts_and_ends():
    a, b = np.array([[0, 0], [1, 1]]), np.array([[2, 2], [3, 3]])
    np.testing.assert_array_equal(segment_pairs(a, b), [[0, 0], [2, 2], [1, 1], [3, 3]])
    assert segment_pairs(np.empty((0, 2)), np.empty((0, 2))).shape == (0, 2)


def test_trail_segments_join_successive_frames():
    f = [np.full((3, 2), float(i)) for i in range(4)]
    s = trail_segments(f)
    assert s.shape == (2 * 3 * 3, 2)
    np.testing.assert_array_equal(s[:2], [[0, 0], [1, 1]])
    assert trail_segments(f[:1]).shape == (0, 2)


def test_arrows_point_along_the_field_and_scale_with_the_median():
    pts = np.zeros((4, 2))
    vec = np.array([[3.0, 4.0], [0.0, 10.0], [1e-9, 0.0], [-6.0, 0.0]])   # norms 5, 10, ~0, 6 (median 5.5)
    seg, heads = arrow_segments(pts, vec, -1.0, 1.0, m=10, fill=0.5)
    step = 2.0 / 10 * 0.5
    d = heads - pts
    lengths = np.linalg.norm(d, axis=1)
    assert seg.shape == (8, 2) and np.allclose(seg[1::2], heads)
    assert np.allclose(lengths[[1, 3]], step)                             # above the median: a full arrow
    assert np.isclose(lengths[0], step * 5 / 5.5) and np.isclose(lengths[2], 0.2 * step)   # clipped at 0.2
    assert np.allclose(d[0] / lengths[0], [0.6, 0.8]) and np.allclose(d[3] / lengths[3], [-1, 0])


def test_image_levels_log_span_and_non_finite_cells():
    a = np.array([[0.0, -5.0], [-100.0, np.nan]])
    img, lo, hi = image_levels(a, log=True, log_span=10.0)
    assert hi == 0.0 and lo == -10.0                        # the 1st percentile (~ −97) is below the span
    assert img.dtype == np.float32 and img[1, 1] == lo      # NaN takes the lowest level
    img, lo, hi = image_levels(np.full((2, 2), 3.0))
    assert (lo, hi) == (0.0, 3.0)
    assert image_levels(np.full((2, 2), 0.0))[1:] == (0.0, 1.0)   # hi > lo always
    assert image_levels(np.full((2, 2), np.nan)) is None


def test_density_mass_of_a_normalised_grid_density():
    res, lo, hi = 100, -4.0, 4.0
    c = lo + (np.arange(res) + 0.5) * (hi - lo) / res
    xx, yy = np.meshgrid(c, c)
    dens = np.exp(-(xx ** 2 + yy ** 2) / 2) / (2 * np.pi)
    assert abs(density_mass(dens, (lo, hi, res)) - 1) < 1e-3
    assert np.isnan(density_mass(None, (lo, hi, res)))


def test_view_dataset_named_and_user_drawn():
    assert view_dataset("user", points=None) is None and view_dataset("user", points=np.empty((0, 2))) is None
    ds = view_dataset("user", points=[[0.0, 1.0], [2.0, 0.0]], user_std=0.2, user_bounds=(-4.0, 4.0))
    assert ds.name == "user" and ds.bounds == (-4.0, 4.0) and ds.std == 0.2 and len(ds.centres) == 2
    assert view_dataset("8gaussians", {"std": 0.05}).std == 0.05
    with pytest.raises(ValueError, match="unknown dataset"):
        view_dataset("nope")


def test_compute_views_data_only():
    ds = make_dataset("8gaussians")
    r = compute_views(None, ds, res=40, n=300)
    assert r["data"].shape == (300, 2) and r["samples"] is None and r["logp"] is None and r["readouts"] is None
    assert r["grid"] == (*ds.bounds, 40) and r["model"] is None and r["dataset"] is ds
    dens, grid = r["data_density"]
    assert dens.shape == (40, 40) and abs(density_mass(dens, grid) - 1) < 1e-3


def test_particle_frames_of_a_langevin_chain(tiny_ebm):
    gen = particle_frames(tiny_ebm, 100, seed=3, bounds=(-4.0, 4.0), arrows=16, dots_limit=50, image_res=32)
    frames = []
    try:
        while True:
            frames.append(next(gen))
    except StopIteration as stop:
        last = stop.value
    steps = tiny_ebm.default_sampler["steps"]
    assert len(frames) == steps + 1 and last == (steps, steps)
    assert all(isinstance(f, ParticleFrame) and f.x.shape == (100, 2) for f in frames)
    assert frames[0].moves is None
    lo, hi = tiny_ebm.data_range
    for prev, f in zip(frames[:-1], frames[1:]):   # x_new = x + drift + noise (clipped to the range), first 16
        idx, x0, d, n = f.moves
        assert idx == f.step and x0.shape == d.shape == n.shape == (16, 2)
        np.testing.assert_allclose(x0, prev.x[:16])
        np.testing.assert_allclose(np.clip(x0 + d + n, lo, hi), f.x[:16], atol=1e-4)
    img = frames[-1].image     # above dots_limit: a normalised histogram on the bounds
    assert img.shape == (32, 32) and abs(img.sum() * (8 / 32) ** 2 - (np.abs(frames[-1].x) < 4).all(1).mean()) < 1e-4
    again = [f.x for f in particle_frames(tiny_ebm, 100, seed=3)]
    np.testing.assert_array_equal(again[-1], frames[-1].x)     # the seed replays the chain
    assert next(particle_frames(tiny_ebm, 10, dots_limit=50)).image is None


def test_loss_history_thins_but_keeps_the_range():
    h = LossHistory(limit=4)
    for i in range(1, 11):
        h.add(10 * i, float(i))
    a = h.array()
    assert len(h) <= 4 and h.stride >= 2 and a.shape == (len(h), 2)
    assert a[0, 0] == 10 and np.all(np.diff(a[:, 0]) > 0)
    with pytest.raises(ValueError):
        LossHistory(limit=1)


def test_train_live_yields_progress_previews_and_returns_the_model():
    seen = []

    def view_fn(m):
        seen.append(m)
        return {"family": m.family, "steps_done": m.metadata["training"]["steps_done"]}

    gen = train_live("8gaussians", "flow", 30, view_fn=view_fn, preview_s=0.0, hidden=8, transforms=1, bins=4)
    values = []
    try:
        while True:
            values.append(next(gen))
    except StopIteration as stop:
        model = stop.value
    assert [v["step"] for v in values] == [10, 20, 30] and all(v["steps"] == 30 for v in values)
    assert values[-1]["history"].shape == (3, 2) and np.all(np.isfinite(values[-1]["history"]))
    assert [v["preview_step"] for v in values] == [10, 20, 20]     # a snapshot of the step itself (not the last:
    assert values[1]["preview"] == {"family": "flow", "steps_done": 20}   # the returned model is shown then)
    assert all(m.family == "flow" and m is not model for m in seen)
    assert model.family == "flow" and model.path is None and model.metadata["training"]["steps_done"] == 30
    x = torch.tensor([[0.5, -0.5]])
    assert torch.isfinite(model.log_prob(x)).all()


def test_train_live_runs_in_the_callers_thread_and_closing_stops_it():
    before = threading.active_count()
    gen = train_live("8gaussians", "vae", 100000, hidden=8)
    v = next(gen)
    assert v["step"] == 10 and v["preview"] is None and np.isfinite(v["loss"]) and v["seconds"] >= 0
    assert threading.active_count() == before        # no helper thread
    gen.close()
    with pytest.raises(StopIteration):
        next(gen)


def test_train_live_errors_come_out_of_next():
    with pytest.raises(ValueError, match="unknown toy model"):
        next(train_live("8gaussians", "nope", 10))


def test_ddgan_toy_views_show_its_sample_histogram():
    """A DDGAN ships no discriminator and has no density: the lab shows it (panels_for) with the normalised
    histogram of its samples, and its mode count (the contrast with the toy GAN, issue 14)."""
    from genviz.backend import load_checkpoint
    from genviz.backend.toy.density import Grid, histogram_density
    from genviz.panels import panels_for
    model = load_checkpoint("toy-25gaussians-ddgan")
    assert "density" in [p.key for p in panels_for(model)]
    out = compute_views(model, make_dataset("25gaussians"), res=40, n=500, with_readouts=True)
    lo, hi, res = out["grid"]
    assert out["kind"] == "samples" and out["density"].shape == (res, res)
    np.testing.assert_allclose(out["density"], histogram_density(out["samples"], Grid(lo, hi, res)))
    inside = np.all((out["samples"] >= lo) & (out["samples"] < hi), axis=1).mean()
    assert abs(density_mass(out["density"], out["grid"]) - inside) < 1e-4
    assert out["readouts"]["log_likelihood"] is None and out["readouts"]["mode_coverage"]["modes_covered"] >= 1
