"""The synthetic mouse-style drawings: measuring set on disk, random and crude generators."""
import numpy as np

from genviz.backend.drawings import (
    crude_drawing_set,
    downsample,
    draw_strokes,
    load_drawing_set,
    make_drawing_set,
    random_drawings,
)


def test_drawing_set_round_trip(tmp_path):
    paths = make_drawing_set(tmp_path, per_digit=2, seed=1)
    assert len(paths) == 20
    x, y, names = load_drawing_set(tmp_path)
    assert x.shape == (20, 28, 28) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    assert list(y) == [d for d in range(10) for _ in range(2)] and names[0] == "digit0_0"
    assert (x.reshape(20, -1).max(1) > 0.9).all()  # every drawing has ink


def test_bundled_measuring_set_has_at_least_three_per_digit():
    x, y, _ = load_drawing_set()
    assert np.bincount(y, minlength=10).min() >= 3


def test_generators_are_seeded_and_draw_ink_where_asked():
    a, la = random_drawings(10, seed=3)
    b, _ = random_drawings(10, seed=3)
    assert np.array_equal(a, b) and list(la) == list(range(10))
    c, lc = crude_drawing_set(per_digit=1, seed=5)
    assert c.shape == (10, 28, 28) and list(lc) == list(range(10))
    canvas = draw_strokes([[(0.1, 0.5), (0.9, 0.5)]], width=28)
    assert canvas.shape == (280, 280) and canvas[140, 140] == 255 and canvas[20, 140] == 0
    small = downsample(canvas)
    assert small[14, 14] == 1.0 and small[2, 14] == 0.0  # area averaging: a 28 px band covers rows 13..14 fully
