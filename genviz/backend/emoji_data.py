"""Real colour data shipped in ``resources/``: emoji artwork at 3x32x32 (``resources/emoji32.npz``).

Built by ``python -m genviz.backend.emoji_data`` from two npm packages (fetched with ``npm pack``, pinned
below with their sha256): ``emoji-datasource-google`` (Noto Emoji art, Apache-2.0) and
``emoji-datasource-twitter`` (Twemoji art, CC-BY-4.0); the packages themselves are MIT (iamcal/emoji-data).
Each ships ``emoji.json`` (name, unified code points, category) and one 64x64 RGBA PNG per emoji.

Conversion (exact, no resampling library): alpha composited on white at 64x64 in float
(``rgb * a + 255 * (1 - a)``), then a 2x2 box filter (the mean of each 2x2 block, the area filter for an
exact halving), rounded to uint8. Kept: the 1,906 base emoji of each set in the 9 categories below (the
5 "Component" swatches are dropped; skin-tone variants are left out because they would make "People &
Body" 60 % of the data with near-duplicates), so 3,812 images. Split: a fixed 10 % of the emoji of each
category (seeded permutation, seed 0) is held out with both of its artworks, so no emoji appears in both
splits. The zip is written with fixed timestamps, so the file's sha256 is reproducible from the tarballs.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import subprocess
import sys
import tarfile
import zipfile
from functools import lru_cache
from pathlib import Path

import numpy as np

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
EMOJI_PATH = RESOURCES / "emoji32.npz"
CATEGORIES = ("Smileys & Emotion", "People & Body", "Animals & Nature", "Food & Drink", "Travel & Places",
              "Activities", "Objects", "Symbols", "Flags")
#: npm package -> (version, sha256 of the tarball ``npm pack`` fetches, image folder inside it).
SOURCES = {
    "emoji-datasource-google": ("16.0.0", "fb5fd131b362aab7a55542d2a147a79708cce0a8b1c1bbacd470172708b5c438",
                                "package/img/google/64/"),
    "emoji-datasource-twitter": ("16.0.0", "f64a530c63bca463bd8317fdc4615ce63a53a0c65018e4ce2d848aaba7a28877",
                                 "package/img/twitter/64/"),
}
ARTWORK_LICENCE = {"emoji-datasource-google": "Noto Emoji artwork, Apache-2.0 (Google)",
                   "emoji-datasource-twitter": "Twemoji artwork, CC-BY-4.0 (Twitter, Inc. and contributors)"}
#: sha256 of resources/emoji32.npz as ``write_npz(build(...))`` writes it from the pinned tarballs.
NPZ_SHA256 = "56174afeeaf3ec403ae8ce0124654b8ebf0b7c2a559a83711357731073d2f6e4"
HELDOUT_FRACTION = 0.10
SIZE = 32
DEFAULT_TARBALLS = Path(__file__).resolve().parents[2] / "out" / "emoji-tarballs"


def tarball_name(package: str) -> str:
    """The file name ``npm pack PACKAGE@VERSION`` writes, e.g. ``emoji-datasource-google-16.0.0.tgz``."""
    return f"{package}-{SOURCES[package][0]}.tgz"


def fetch_tarballs(folder: Path = DEFAULT_TARBALLS) -> list[Path]:
    """Fetch the pinned tarballs with ``npm pack`` into ``folder`` (skipped for those already there).

    Raises:
        ValueError: npm failed or a tarball's sha256 differs from the pinned one.
    """
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for pkg, (version, _sha, _img) in SOURCES.items():
        path = folder / tarball_name(pkg)
        if not path.exists():
            r = subprocess.run(["npm", "pack", f"{pkg}@{version}"], cwd=folder, capture_output=True, text=True)
            if r.returncode != 0:
                raise ValueError(f"npm pack {pkg}@{version} failed: {r.stderr.strip().splitlines()[-1:]}")
        check_tarball(path)
        paths.append(path)
    return paths


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_tarball(path: Path) -> str:
    """Return the sha256 of a tarball; ValueError if it is not the pinned one for its package."""
    pkg = next((p for p in SOURCES if path.name == tarball_name(p)), None)
    if pkg is None:
        raise ValueError(f"{path.name} is not one of {[tarball_name(p) for p in SOURCES]}")
    sha = _sha256(path)
    if sha != SOURCES[pkg][1]:
        raise ValueError(f"{path.name}: sha256 {sha} differs from the pinned {SOURCES[pkg][1]}")
    return sha


def _to_rgb32(png: bytes) -> np.ndarray:
    """64x64 RGBA PNG bytes -> (32, 32, 3) uint8: alpha on white, then the exact 2x2 box filter."""
    from PIL import Image
    im = np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"), dtype=np.float64)
    if im.shape != (2 * SIZE, 2 * SIZE, 4):
        raise ValueError(f"expected a 64x64 PNG, got {im.shape[1]}x{im.shape[0]}")
    a = im[..., 3:] / 255.0
    rgb = im[..., :3] * a + 255.0 * (1.0 - a)
    rgb = rgb.reshape(SIZE, 2, SIZE, 2, 3).mean(axis=(1, 3))
    return np.clip(np.round(rgb), 0, 255).astype(np.uint8)


def _read_package(path: Path) -> tuple[list[dict], dict[str, bytes]]:
    pkg = next(p for p in SOURCES if path.name == tarball_name(p))
    prefix = SOURCES[pkg][2]
    pngs: dict[str, bytes] = {}
    with tarfile.open(path, "r:gz") as tar:
        meta = None
        for member in tar:
            if member.name == "package/emoji.json":
                meta = json.load(tar.extractfile(member))  # type: ignore[arg-type]
            elif member.name.startswith(prefix) and member.name.endswith(".png"):
                pngs[member.name[len(prefix):]] = tar.extractfile(member).read()  # type: ignore[union-attr]
    if meta is None:
        raise ValueError(f"{path.name} has no package/emoji.json")
    return meta, pngs


def _split(unified: list[str], labels: np.ndarray) -> np.ndarray:
    """Boolean (N,) held-out mask: 10 % of each category's emoji (by code point), seeded, both artworks."""
    codes = sorted(set(unified))
    cat_of = {u: int(lab) for u, lab in zip(unified, labels)}
    rng = np.random.default_rng(0)
    held: set[str] = set()
    for c in range(len(CATEGORIES)):
        members = [u for u in codes if cat_of[u] == c]
        perm = rng.permutation(len(members))
        held.update(members[i] for i in perm[:round(HELDOUT_FRACTION * len(members))])
    return np.array([u in held for u in unified])


def build(tarballs: list[Path]) -> dict[str, np.ndarray]:
    """Build the data set's arrays from the pinned tarballs (order: google then twitter).

    Returns:
        ``images`` (N, 32, 32, 3) uint8 RGB on white, ``labels`` (N,) uint8 in 0..8 (index into
        ``CATEGORIES``), ``source`` (N,) uint8 (0 Noto/google, 1 Twemoji/twitter), ``unified`` (N,) str
        (code points), ``heldout`` (N,) bool, ``categories`` (9,) str and ``provenance`` () str (JSON).
    Raises:
        ValueError: a tarball is not a pinned one, lacks emoji.json or an image.
    """
    by_name = {p.name: p for p in tarballs}
    images, labels, source, unified = [], [], [], []
    sources: list[dict] = []
    prov = {"built_by": "python -m genviz.backend.emoji_data", "sources": sources,
            "conversion": "alpha composited on white at 64x64, exact 2x2 box filter to 32x32, rounded",
            "kept": "base emoji of the 9 categories (no 'Component', no skin-tone variants)",
            "split": f"{HELDOUT_FRACTION:.0%} of each category's emoji held out (seed 0), both artworks"}
    for s, pkg in enumerate(SOURCES):
        path = by_name.get(tarball_name(pkg))
        if path is None:
            raise ValueError(f"missing tarball {tarball_name(pkg)} (fetch it with: npm pack {pkg}@{SOURCES[pkg][0]})")
        sha = check_tarball(path)
        meta, pngs = _read_package(path)
        kept = sorted((e for e in meta if e["category"] in CATEGORIES), key=lambda e: e["sort_order"])
        for e in kept:
            if e["image"] not in pngs:
                raise ValueError(f"{path.name} lacks the image {e['image']}")
            images.append(_to_rgb32(pngs[e["image"]]))
            labels.append(CATEGORIES.index(e["category"]))
            source.append(s)
            unified.append(e["unified"])
        sources.append({"package": pkg, "version": SOURCES[pkg][0], "tarball_sha256": sha,
                                "artwork": ARTWORK_LICENCE[pkg], "package_licence": "MIT",
                                "images": len(kept)})
    lab = np.array(labels, dtype=np.uint8)
    return {"images": np.stack(images), "labels": lab, "source": np.array(source, dtype=np.uint8),
            "unified": np.array(unified), "heldout": _split(unified, lab),
            "categories": np.array(CATEGORIES), "provenance": np.array(json.dumps(prov, sort_keys=True))}


def write_npz(arrays: dict[str, np.ndarray], path: Path) -> str:
    """Write ``arrays`` as a deflate-compressed .npz with fixed zip timestamps; return the file's sha256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for key in sorted(arrays):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asanyarray(arrays[key]), allow_pickle=False)
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, buf.getvalue(), compresslevel=9)
    return _sha256(path)


@lru_cache(maxsize=1)
def _arrays(path: str) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def load_emoji(split: str = "train", path: Path = EMOJI_PATH) -> tuple[np.ndarray, np.ndarray]:
    """Return (images, labels) of a split of the bundled emoji data.

    Args:
        split: ``"train"`` (3,432 images), ``"test"`` (the 380 held out) or ``"all"`` (3,812).
    Returns:
        images (N, 32, 32, 3) uint8 RGB on white, labels (N,) int64 in 0..8 (``CATEGORIES``).
    Raises:
        ValueError: unknown split. FileNotFoundError: resources/emoji32.npz missing.
    """
    a = _arrays(str(path))
    images, labels, held = a["images"], a["labels"].astype(np.int64), a["heldout"]
    if split == "all":
        return images, labels
    if split == "train":
        return images[~held], labels[~held]
    if split == "test":
        return images[held], labels[held]
    raise ValueError(f"unknown split {split!r}; expected 'train', 'test' or 'all'")


def to_model_space(images_uint8: np.ndarray):
    """(N, H, W, 3) uint8 RGB -> (N, 3, H, W) float32 torch tensor in [-1, 1] (channel order R, G, B)."""
    import torch
    x = torch.from_numpy(images_uint8.astype(np.float32) / 127.5 - 1.0)
    return x.permute(0, 3, 1, 2).contiguous()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m genviz.backend.emoji_data",
                                description="Build resources/emoji32.npz from the pinned npm tarballs.")
    p.add_argument("--tarballs", type=Path, default=DEFAULT_TARBALLS,
                   help="folder with the tarballs (fetched there with npm pack if missing)")
    p.add_argument("--out", type=Path, default=EMOJI_PATH)
    a = p.parse_args(argv)
    try:
        paths = fetch_tarballs(a.tarballs)
        arrays = build(paths)
    except ValueError as e:
        print(f"genviz: error: {e}", file=sys.stderr)
        return 2
    sha = write_npz(arrays, a.out)
    n, held = len(arrays["labels"]), int(arrays["heldout"].sum())
    print(f"wrote {a.out} ({a.out.stat().st_size / 1e6:.2f} MB, sha256 {sha}): {n} images, {n - held} train, "
          f"{held} held out; per category {np.bincount(arrays['labels'], minlength=9).tolist()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
