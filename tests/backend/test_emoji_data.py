"""The bundled colour data (resources/emoji32.npz): shape, labels, the fixed split, provenance, and the build
script's reproduction of the file from the pinned npm tarballs (skipped where they are not present)."""
import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

from genviz.backend import emoji_data as ed


def test_bundled_npz_has_the_9_categories_and_a_fixed_heldout_split():
    with np.load(ed.EMOJI_PATH, allow_pickle=False) as f:
        images, labels, held, unified = f["images"], f["labels"], f["heldout"], f["unified"]
        cats, prov = list(f["categories"]), json.loads(str(f["provenance"]))
    assert images.shape == (3812, 32, 32, 3) and images.dtype == np.uint8
    assert cats == list(ed.CATEGORIES) and len(cats) == 9
    assert labels.min() == 0 and labels.max() == 8
    assert (images[:, 0, 0] == 255).all(axis=-1).mean() > 0.8  # composited on white: white corners
    assert held.sum() == 380
    assert not set(unified[held]) & set(unified[~held])  # an emoji's two artworks share a split
    for c in range(9):  # 10 % of each category's emoji
        n_emoji = len(set(unified[labels == c]))
        assert len(set(unified[held & (labels == c)])) == round(0.1 * n_emoji)
    assert [s["tarball_sha256"] for s in prov["sources"]] == [v[1] for v in ed.SOURCES.values()]
    x, y = ed.load_emoji("train")
    assert len(x) == 3432 and np.array_equal(y, labels[~held])
    t = ed.to_model_space(x[:2])
    assert t.shape == (2, 3, 32, 32) and float(t.min()) >= -1 and float(t.max()) <= 1
    assert np.allclose((t[0, 0].numpy() + 1) * 127.5, x[0, :, :, 0])  # channel 0 is red
    with pytest.raises(ValueError, match="unknown split"):
        ed.load_emoji("val")
    assert hashlib.sha256(ed.EMOJI_PATH.read_bytes()).hexdigest() == ed.NPZ_SHA256


def test_conversion_composites_alpha_on_white_and_box_filters():
    import io

    from PIL import Image
    rgba = np.zeros((64, 64, 4), np.uint8)
    rgba[:32, :, :] = (255, 0, 0, 255)     # opaque red top half
    rgba[32:, :, 3] = 0                    # transparent bottom half
    rgba[0, 0] = (0, 0, 255, 128)          # one half-transparent blue pixel
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, "PNG")
    out = ed._to_rgb32(buf.getvalue())
    assert out.shape == (32, 32, 3)
    assert (out[20] == 255).all() and tuple(out[5, 5]) == (255, 0, 0)
    a = 128 / 255  # block (0, 0): three red pixels and one blue-on-white
    want = np.round([(3 * 255 + 255 * (1 - a)) / 4, (255 * (1 - a)) / 4, (255 * a + 255 * (1 - a)) / 4])
    assert tuple(out[0, 0]) == tuple(want.astype(int))


def test_unpinned_tarball_is_refused(tmp_path):
    bad = tmp_path / ed.tarball_name("emoji-datasource-google")
    bad.write_bytes(b"not the pinned tarball")
    with pytest.raises(ValueError, match="differs from the pinned"):
        ed.check_tarball(bad)


TARBALLS = Path(os.environ.get("GENVIZ_EMOJI_TARBALLS", ed.DEFAULT_TARBALLS))


@pytest.mark.skipif(not all((TARBALLS / ed.tarball_name(p)).is_file() for p in ed.SOURCES),
                    reason=f"npm tarballs not in {TARBALLS} (fetch: python -m genviz.backend.emoji_data)")
def test_build_reproduces_the_bundled_npz_from_the_tarballs(tmp_path):
    arrays = ed.build([TARBALLS / ed.tarball_name(p) for p in ed.SOURCES])
    assert ed.write_npz(arrays, tmp_path / "e.npz") == ed.NPZ_SHA256
