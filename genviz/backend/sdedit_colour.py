"""Measure SDEdit's faithfulness/realism trade-off over t0 on the colour measuring set (resources/drawings_colour/).

``python -m genviz.backend.sdedit_colour [--checkpoint emoji-ddpm] [--k 4] [--steps 25] [--out FILE.json]``

For a colour model and the 12 drawings of ``colour_drawings.make_colour_drawing_set`` (a yellow face, a red heart,
a green tree; 4 each), at each t0:

- colour faithfulness: for every flat colour region of a drawing (``stroke_regions``: pixels within 40 of one of
  its non-white colours, at least 12 pixels), the distance (Euclidean, RGB 0..255) between the region's colour
  and the output's mean colour over those pixels, averaged over regions and outputs (0 = every region kept its
  colour; ~100 = a different colour);
- category agreement: share of outputs the data set's classifier (``judges``: ``emoji-classifier``) puts in
  the same category as the drawing itself;
- realism: share of outputs the realism judge (``emoji-realism``: real emoji art vs crude colour drawings)
  judges real (p(real) > 0.5), next to the same share for the drawings themselves.

Heavy (K outputs x 12 drawings x each t0): run it through the training lock. Torch on one thread.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

T0S = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
DRAWINGS = Path(__file__).resolve().parents[2] / "resources" / "drawings_colour"


def load_colour_drawings(folder: Path = DRAWINGS) -> tuple[np.ndarray, list[str]]:
    """The measuring set: (12, 32, 32, 3) uint8 RGB drawings and their file stems (``face_0``...), sorted.
    Raises FileNotFoundError when the folder has no PNG."""
    from PIL import Image
    paths = sorted(Path(folder).glob("*.png"))
    if not paths:
        raise FileNotFoundError(f"no drawings in {folder} (make them: python -m genviz.backend.colour_drawings)")
    return np.stack([np.asarray(Image.open(p).convert("RGB")) for p in paths]), [p.stem for p in paths]


def stroke_regions(drawing: np.ndarray, tol: int = 40, min_pixels: int = 12) -> list[tuple[np.ndarray, np.ndarray]]:
    """The flat colour regions of a (H, W, 3) uint8 drawing on white: [(colour (3,) float, mask (H, W) bool)],
    one per flat colour: exact colours that cover at least ``min_pixels`` pixels, most frequent first, each
    taking the not yet taken pixels within ``tol`` per channel. Antialiased edges (mixtures with the paper,
    each exact mixture rare) fall outside every region."""
    px = drawing.reshape(-1, 3).astype(np.int64)
    ink = px.min(1) < 235
    colours, counts = np.unique(px[ink], axis=0, return_counts=True)
    regions: list[tuple[np.ndarray, np.ndarray]] = []
    taken = np.zeros(len(px), bool)
    for c in colours[np.argsort(-counts, kind="stable")][np.sort(counts)[::-1] >= min_pixels]:
        near = (np.abs(px - c) <= tol).all(1) & ink & ~taken
        if near.sum() >= min_pixels:
            regions.append((c.astype(np.float64), near.reshape(drawing.shape[:2])))
            taken |= near
    return regions


def colour_error(drawing: np.ndarray, outputs: np.ndarray) -> float:
    """Mean over the drawing's regions and the (K, H, W, 3) uint8 ``outputs`` of |region colour − mean output
    colour over the region| (Euclidean, RGB 0..255). NaN when the drawing has no region."""
    regions = stroke_regions(drawing)
    if not regions:
        return float("nan")
    errs = [np.linalg.norm(o[m].astype(np.float64).mean(0) - c) for o in outputs for c, m in regions]
    return float(np.mean(errs))


@torch.inference_mode()
def measure(model, t0s=T0S, k: int = 4, steps: int = 25, seed: int = 0, classifier=None, realism=None,
            folder: Path = DRAWINGS, log=print) -> dict:
    """The trade-off table: for each t0, ``colour_error``, ``category_agreement``, ``realism`` (and the
    drawings' own realism share). ``classifier``/``realism``: loaded judges (default: the model's data set's,
    ``judges.judges_for``). Raises ValueError for a model without judges or of another shape."""
    from .checkpoints import load_checkpoint
    from .conditioning import sdedit
    from .emoji_data import to_model_space
    from .judges import judges_for
    j = judges_for(model)
    clf = classifier or load_checkpoint(j.classifier, device="cpu")
    real = realism or load_checkpoint(j.realism, device="cpu")
    drawings, names = load_colour_drawings(folder)
    y = to_model_space(drawings)
    drawn_cat = clf.probs(y).argmax(1)
    out = {"checkpoint": model.name, "k": k, "steps": steps, "seed": seed, "drawings": names,
           "drawings_realism": float((real.probs(y)[:, 1] > 0.5).float().mean()), "rows": []}
    for t0 in t0s:
        t = time.time()
        errs, agree, realistic = [], [], []
        for i in range(len(y)):
            res = sdedit(model, y[i], t0=float(t0), n=k, steps=steps, seed=seed + i)
            x = res.samples.clamp(-1, 1)
            u8 = np.round((x.permute(0, 2, 3, 1).numpy() + 1) * 127.5).astype(np.uint8)
            errs.append(colour_error(drawings[i], u8))
            agree.append(float((clf.probs(x).argmax(1) == drawn_cat[i]).float().mean()))
            realistic.append(float((real.probs(x)[:, 1] > 0.5).float().mean()))
        row = {"t0": float(t0), "colour_error": round(float(np.nanmean(errs)), 2),
               "category_agreement": round(float(np.mean(agree)), 3), "realism": round(float(np.mean(realistic)), 3),
               "seconds": round(time.time() - t, 1)}
        out["rows"].append(row)
        log(json.dumps(row))
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m genviz.backend.sdedit_colour")
    p.add_argument("--checkpoint", default="emoji-ddpm")
    p.add_argument("--t0", type=float, nargs="+", default=list(T0S))
    p.add_argument("--k", type=int, default=4)
    p.add_argument("--steps", type=int, default=25)
    p.add_argument("--out", default=None, help="write the table as JSON")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    from .checkpoints import load_checkpoint
    res = measure(load_checkpoint(a.checkpoint, device="cpu"), a.t0, a.k, a.steps)
    if a.out:
        Path(a.out).write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
