"""Synthetic colour stroke drawings on white, as a person paints them on the canvas for an emoji model.

Flat colours from the data's common colours (``PALETTE``, from ``common_colours``), round-brush strokes and filled shapes with
hard edges, drawn at canvas resolution (320 x 320) and area-averaged to the model's 32 x 32 (``downsample``:
the exact mean of each 10 x 10 block, as the canvas' "model sees" does). They serve two purposes:

- the measuring set (``make_colour_drawing_set``): a yellow disk with two dark dots and an arc (a face), a
  red heart and a green tree, 4 per kind (fixed seeds), for the t0 trade-off on the emoji model;
- the realism judge (``genviz train emoji-realism``) learns real emoji art against ``random_colour_drawings``
  (other seeds than the measuring set).
"""
from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np

CANVAS = 320
SIZE = 32
KINDS = ("face", "heart", "tree")


#: ``(0, 0, 0)`` plus ``common_colours(15)`` as computed on resources/emoji32.npz (scikit-learn 1.x): the
#: canvas palette for emoji models and the colours of ``random_colour_drawings`` (kept here so that neither
#: runs a clustering; ``python -m genviz.backend.colour_drawings --palette`` prints it again).
PALETTE = ((0, 0, 0), (247, 181, 34), (217, 214, 208), (251, 209, 95), (156, 176, 184), (213, 34, 47),
           (111, 139, 106), (53, 49, 47), (50, 136, 198), (220, 99, 71), (223, 149, 136), (20, 68, 145),
           (105, 183, 234), (133, 87, 50), (147, 88, 200), (21, 133, 55))


@lru_cache(maxsize=4)
def common_colours(k: int = 12) -> tuple[tuple[int, int, int], ...]:
    """``k`` common colours of the emoji training images (near-white paper excluded): the centres of a k-means
    clustering (scikit-learn, ``random_state=0``, 40,000 pixels drawn with seed 0) of the pixels whose
    channels are not all >= 215, sorted by cluster size (most frequent first).

    Returns ``k`` (r, g, b) tuples of ints in 0..255; deterministic. Raises FileNotFoundError if
    resources/emoji32.npz is missing.
    """
    from sklearn.cluster import KMeans

    from .emoji_data import load_emoji
    px = load_emoji("train")[0].reshape(-1, 3).astype(np.float64)
    px = px[px.min(1) < 215]
    px = px[np.random.default_rng(0).choice(len(px), min(40000, len(px)), replace=False)]
    km = KMeans(n_clusters=k, n_init=2, random_state=0).fit(px)
    order = np.argsort(-np.bincount(km.labels_, minlength=k), kind="stable")
    centres = np.clip(np.round(km.cluster_centers_[order]), 0, 255).astype(int)
    return tuple((int(r), int(g), int(b)) for r, g, b in centres)


def downsample(canvas: np.ndarray, size: int = SIZE) -> np.ndarray:
    """(S, S, 3) uint8 canvas -> (size, size, 3) uint8 by the mean of each block (S a multiple of size)."""
    s = canvas.shape[0]
    if s % size:
        raise ValueError(f"canvas size {s} is not a multiple of {size}")
    f = s // size
    a = canvas.astype(np.float64).reshape(size, f, size, f, 3).mean(axis=(1, 3))
    return np.clip(np.round(a), 0, 255).astype(np.uint8)


def _draw(fn, size: int = CANVAS) -> np.ndarray:
    from PIL import Image, ImageDraw
    im = Image.new("RGB", (size, size), (255, 255, 255))
    fn(ImageDraw.Draw(im), size)
    return np.asarray(im)


def _stroke(d, pts, colour, width):
    d.line(pts, fill=colour, width=int(width), joint="curve")
    r = width / 2
    for x, y in (pts[0], pts[-1]):
        d.ellipse((x - r, y - r, x + r, y + r), fill=colour)


def face(rng: np.random.Generator, size: int = CANVAS) -> np.ndarray:
    """A yellow disk with two dark dots (eyes) and a dark arc (a smile): (size, size, 3) uint8."""
    cx, cy = size * (0.5 + rng.uniform(-0.04, 0.04, 2))
    r = size * rng.uniform(0.36, 0.44)
    yellow = tuple(int(v) for v in np.clip(np.array([250, 200, 40]) + rng.integers(-15, 16, 3), 0, 255))
    dark = (int(rng.integers(40, 90)), int(rng.integers(25, 60)), int(rng.integers(10, 40)))
    w = size * rng.uniform(0.035, 0.06)

    def fn(d, s):
        d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=yellow)
        for ex in (-0.35, 0.35):
            er = r * rng.uniform(0.09, 0.14)
            x, y = cx + ex * r, cy - r * rng.uniform(0.2, 0.3)
            d.ellipse((x - er, y - er, x + er, y + er), fill=dark)
        a = np.radians(np.linspace(20, 160, 16))
        rr = r * rng.uniform(0.5, 0.62)
        _stroke(d, [(cx + rr * math.cos(t), cy + r * 0.05 + rr * 0.8 * math.sin(t)) for t in a], dark, w)
    return _draw(fn, size)


def heart(rng: np.random.Generator, size: int = CANVAS) -> np.ndarray:
    """A filled red heart (the curve x = 16 sin³t, y = 13 cos t − 5 cos 2t − 2 cos 3t − cos 4t)."""
    red = (int(rng.integers(200, 240)), int(rng.integers(20, 60)), int(rng.integers(30, 70)))
    sc = size * rng.uniform(0.024, 0.029)
    cx, cy = size * (0.5 + rng.uniform(-0.04, 0.04)), size * (0.47 + rng.uniform(-0.03, 0.03))
    t = np.linspace(0, 2 * np.pi, 120)
    xs = cx + sc * 16 * np.sin(t) ** 3
    ys = cy - sc * (13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))
    return _draw(lambda d, s: d.polygon(list(zip(xs.tolist(), ys.tolist())), fill=red), size)


def tree(rng: np.random.Generator, size: int = CANVAS) -> np.ndarray:
    """A green crown (a disk or a triangle) on a brown trunk."""
    green = (int(rng.integers(40, 90)), int(rng.integers(140, 190)), int(rng.integers(40, 80)))
    brown = (int(rng.integers(120, 150)), int(rng.integers(70, 95)), int(rng.integers(30, 50)))
    cx = size * (0.5 + rng.uniform(-0.04, 0.04))
    tw = size * rng.uniform(0.08, 0.12)
    pine = bool(rng.integers(0, 2))

    def fn(d, s):
        d.rectangle((cx - tw / 2, s * 0.55, cx + tw / 2, s * 0.9), fill=brown)
        if pine:
            d.polygon([(cx, s * 0.08), (cx - s * 0.33, s * 0.68), (cx + s * 0.33, s * 0.68)], fill=green)
        else:
            r = s * rng.uniform(0.26, 0.32)
            d.ellipse((cx - r, s * 0.4 - r, cx + r, s * 0.4 + r), fill=green)
    return _draw(fn, size)


def random_colour_drawing(rng: np.random.Generator, size: int = CANVAS) -> np.ndarray:
    """A random crude colour drawing: 0-2 filled blobs and 1-5 strokes in the data's common colours (PALETTE)."""
    pal = PALETTE

    def fn(d, s):
        for _ in range(int(rng.integers(0, 3))):
            c = pal[int(rng.integers(len(pal)))]
            x, y = rng.uniform(0.2, 0.8, 2) * s
            rx, ry = rng.uniform(0.1, 0.4, 2) * s
            d.ellipse((x - rx, y - ry, x + rx, y + ry), fill=c)
        for _ in range(int(rng.integers(1, 6))):
            c = pal[int(rng.integers(len(pal)))]
            n = int(rng.integers(2, 7))
            pts = np.cumsum(rng.normal(0, 0.15, (n, 2)), 0) + rng.uniform(0.2, 0.8, 2)
            _stroke(d, [tuple(p) for p in (np.clip(pts, 0.02, 0.98) * s).tolist()], c, rng.uniform(0.02, 0.1) * s)
    return _draw(fn, size)


def random_colour_drawings(n: int, seed: int, size: int = SIZE) -> np.ndarray:
    """``n`` drawings (random kinds: the three templates with 1/4 chance, else free strokes), (n, size,
    size, 3) uint8 on white; deterministic given ``seed``."""
    rng = np.random.default_rng(seed)
    makers = (face, heart, tree)
    out = np.empty((n, size, size, 3), np.uint8)
    for i in range(n):
        k = int(rng.integers(0, 12))
        out[i] = downsample((makers[k](rng) if k < 3 else random_colour_drawing(rng)), size)
    return out


def make_colour_drawing_set(folder: Path, per_kind: int = 4) -> list[Path]:
    """Write the measuring set: ``{kind}_{i}.png`` (32 x 32 RGB) for kind in KINDS, seeds 1000 + 10 k + i."""
    from PIL import Image
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k, kind in enumerate(KINDS):
        for i in range(per_kind):
            rng = np.random.default_rng(1000 + 10 * k + i)
            img = downsample((face, heart, tree)[k](rng))
            path = folder / f"{kind}_{i}.png"
            Image.fromarray(img).save(path)
            paths.append(path)
    return paths


if __name__ == "__main__":
    import sys
    if sys.argv[1:] == ["--palette"]:
        print(((0, 0, 0),) + common_colours(15))
        sys.exit(0)
    dest = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "resources" / "drawings_colour"
    print("\n".join(str(p) for p in make_colour_drawing_set(dest)))
