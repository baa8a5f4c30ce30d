"""The interpolation walk as a generator (genviz.backend.walk): partial results, the final result, errors."""
import math

import numpy as np
import pytest
from latenttiny import tiny_gan, tiny_vae
from tinymodels import tiny_model

from genviz.backend import interpolation as ip
from genviz.backend import sample
from genviz.backend.imaging import make_grid, to_uint8
from genviz.backend.walk import WalkProgress, WalkResult, decode_point, seed_samples, walk


def _run(gen):
    """All values a generator yields, and what it returns."""
    out = []
    while True:
        try:
            out.append(next(gen))
        except StopIteration as stop:
            return out, stop.value


def _unit(m, x):
    return m.to_unit(x).numpy()


def test_walk_yields_frames_so_far_then_the_result():
    m = tiny_vae()
    steps, res = _run(walk(m, [0, 1, 2, 3], "slerp", frames=4, grid_side=3))
    assert len(steps) == 4 + 9 and all(isinstance(p, WalkProgress) for p in steps)
    assert [p.decoded for p in steps] == list(range(1, 14)) and {p.total for p in steps} == {13}
    assert [len(p.strip) for p in steps] == [1, 2, 3, 4] + [4] * 9
    assert [len(p.grid) for p in steps] == [0] * 4 + list(range(1, 10))
    # snapshots: a value yielded earlier is not changed by later frames
    first = steps[0].strip.copy()
    assert np.array_equal(steps[0].strip, first) and steps[0].strip is not steps[1].strip
    assert not steps[0].strip.flags.writeable and not steps[-1].grid.flags.writeable
    assert isinstance(res, WalkResult)
    assert res.strip.shape == (4, 1, 28, 28) and res.strip.dtype == np.float32
    assert res.grid.shape == (9, 1, 28, 28) and res.side == 3
    assert 0 <= res.strip.min() and res.strip.max() <= 1
    assert np.array_equal(res.strip, steps[-1].strip) and np.array_equal(res.grid, steps[-1].grid)
    # frame 0 and N - 1 are seeds 0 and 1, as `genviz sample --n 1 --seed s`; grid corners are A, B, C, D
    for frame, seed in ((res.strip[0], 0), (res.strip[-1], 1), (res.grid[0], 0), (res.grid[2], 1), (res.grid[6], 2),
                        (res.grid[8], 3)):
        assert np.allclose(frame, _unit(m, sample(m, n=1, seed=seed))[0], atol=1e-6)
    assert res.norms.shape == (4,) and res.typical == pytest.approx(math.sqrt(6))
    assert set(res.profiles) == {"lerp", "slerp", "rho", "t"} and res.profiles["t"].shape == (65,)
    assert np.allclose(res.norms, ip.latent_norms(ip.path(*res.corners[:2], "slerp", 4)))
    assert res.method == "slerp" and "VAE latent" in res.description and len(res.corners) == 4


def test_strip_without_grid_and_image_endpoints():
    m = tiny_vae()
    x = ip.load_image("mnist:7", m.data_shape)
    steps, res = _run(walk(m, ["mnist:5", x], "lerp", frames=3))
    assert len(steps) == 3 and res.grid is None and res.side == 0 and len(res.corners) == 2
    assert all(len(p.grid) == 0 and p.n_grid == 0 for p in steps)
    mu, _ = m.encode(x)
    assert np.allclose(res.strip[-1], _unit(m, m.decode(mu))[0], atol=1e-6)


def test_closing_stops_before_the_next_frame():
    m = tiny_vae()
    calls = []
    decode = m.decode
    m.decode = lambda z: (calls.append(1), decode(z))[1]
    gen = walk(m, [0, 1], "rho", frames=8)
    next(gen), next(gen)
    gen.close()
    assert len(calls) == 2
    with pytest.raises(StopIteration):
        next(gen)


def test_diffusion_walk_is_ddim_from_the_seeds():
    m = tiny_model()
    _, res = _run(walk(m, [3, 4], "slerp", frames=2, steps=2))
    ref = _unit(m, sample(m, "ddim", steps=2, n=1, seed=4, eta=0.0, clip_sample=False))[0]
    assert np.allclose(res.strip[-1], ref, atol=1e-5)
    assert "DDIM latent" in res.description and res.typical == pytest.approx(8.0)


def test_decode_point_and_seed_samples():
    m = tiny_gan()
    _, res = _run(walk(m, [0, 1], "slerp", frames=5))
    img, norm = decode_point(res.space, res.corners[0], res.corners[1], "slerp", 0.5)
    assert img.shape == (1, 1, 28, 28) and np.allclose(img[0], res.strip[2], atol=1e-6)
    assert norm == pytest.approx(res.norms[2], rel=1e-6)
    steps, imgs = _run(seed_samples(m, [7, 8, 9]))
    assert [len(s) for s in steps] == [1, 2, 3] and imgs.shape == (3, 1, 28, 28)
    assert np.allclose(imgs[1], _unit(m, sample(m, n=1, seed=8))[0], atol=1e-6)


@pytest.mark.parametrize("kwargs, match", [
    ({"frames": 1}, "frames"),
    ({"grid_side": 1}, "grid_side"),
    ({"grid_side": 3}, "needs 4 endpoints"),
    ({"method": "cubic"}, "unknown interpolation method"),
])
def test_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        next(walk(tiny_vae(), [0, 1], **kwargs))


def test_gan_has_no_encoder_and_bad_endpoints():
    with pytest.raises(ValueError, match="no encoder"):
        next(walk(tiny_gan(), ["mnist:1", 0]))
    with pytest.raises(ValueError, match="endpoint"):
        next(walk(tiny_vae(), [0, 1.5]))
    with pytest.raises(ValueError, match="no such image"):
        next(walk(tiny_vae(), [0, "/nonexistent.png"]))


def test_make_grid_background_is_rgb_and_default_unchanged():
    imgs = np.arange(5 * 2 * 3, dtype=np.uint8).reshape(5, 1, 2, 3)
    grey = make_grid(imgs, nrow=2, pad=1)
    assert grey.shape == (3 * 3 + 1, 2 * 4 + 1) and grey[0, 0] == 40
    rgb = make_grid(imgs, nrow=2, pad=1, background=(38, 40, 46))
    assert rgb.shape == grey.shape + (3,) and tuple(rgb[0, 0]) == (38, 40, 46)
    tiles = grey != 40
    assert np.array_equal(rgb[..., 0][tiles], grey[tiles]) and np.array_equal(rgb[..., 2][tiles], grey[tiles])
    col = make_grid(np.zeros((1, 3, 2, 2), np.float32) + 0.5, background=(1, 2, 3), scale=2)
    assert col.shape == (12, 12, 3) and tuple(col[0, 0]) == (1, 2, 3) and tuple(col[4, 4]) == (128,) * 3
    assert np.array_equal(to_uint8(np.array([0.5])), [128])


def test_tile_geometry_matches_make_grid():
    """The image grids' click and highlight geometry (imaging.tile_box / tile_index) is make_grid's layout."""
    import numpy as np

    from genviz.backend.imaging import make_grid, tile_box, tile_index
    imgs = np.zeros((5, 1, 4, 3), np.uint8)
    imgs[3] = 255
    g = make_grid(imgs, nrow=2, pad=2, pad_value=0)
    x, y, w, h = tile_box(3, 2, 4, 3, 2)
    assert (g[y:y + h, x:x + w] == 255).all() and g.sum() == 255 * 12
    assert tile_index(x + 1, y + 1, 5, 2, 4, 3, 2) == 3 and tile_index(-1, 0, 5, 2, 4, 3, 2) is None
    assert tile_index(*tile_box(4, 2, 4, 3, 2)[:2], 4, 2, 4, 3, 2) is None  # tile 4 of only 4
