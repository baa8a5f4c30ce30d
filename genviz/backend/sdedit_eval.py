"""Measure SDEdit's faithfulness/realism trade-off on the drawn digits in resources/drawings/.

``python -m genviz.backend.sdedit_eval [--out resources/sdedit] [--k 4] [--steps 20]``

- faithfulness: share of outputs the bundled ``mnist-classifier`` assigns to the drawn digit;
- realism: share of outputs the bundled ``mnist-realism`` classifier (real digits vs mouse strokes,
  ``genviz train mnist-realism``) judges real (p(real) > 0.5), next to the same share for the model's
  unconditional samples (same sampler and steps) and for the drawings themselves.

Writes ``measurements.json``, ``tradeoff.png`` (faithfulness against realism, one curve per method,
labelled by t0) and sample grids ``samples_<method>_t<t0>.png`` (one row per drawing: the drawing,
then its K candidates). Torch on one thread; about 20 s per setting on one core.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from .checkpoints import load_checkpoint
from .conditioning import sdedit
from .drawings import load_drawing_set
from .imaging import make_grid, save_png

GUIDE = 2.0
T0S = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
METHODS = {
    "sdedit": dict(),
    "sdedit+ilvr4": dict(ilvr=4, ilvr_stop=0.3),
    "sdedit+ilvr7": dict(ilvr=7, ilvr_stop=0.3),
    "sdedit+ilvr4-s0.5": dict(ilvr=4, ilvr_stop=0.5),
    "sdedit+ilvr4-s0.1": dict(ilvr=4, ilvr_stop=0.1),
    "sdedit+ilvr4x0": dict(ilvr=4, ilvr_stop=0.3, ilvr_mode="x0"),
    "sdedit+ilvr4x0+guide": dict(ilvr=4, ilvr_stop=0.3, ilvr_mode="x0", guidance=GUIDE),
    "sdedit+guide": dict(guidance=GUIDE),
    "sdedit+ilvr4-s0.1+guide": dict(ilvr=4, ilvr_stop=0.1, guidance=GUIDE),
    "sdedit+ilvr4-s0.3+guide": dict(ilvr=4, ilvr_stop=0.3, guidance=GUIDE),
}


@torch.inference_mode()
def judge(x: torch.Tensor, labels: torch.Tensor | None, clf, realism, fd: bool = True) -> dict:
    """Faithfulness and realism of (N, 1, 28, 28) samples in [-1, 1] with drawn ``labels`` (N,); ``fd``:
    also the Fréchet distance of their mnist-classifier features to the 1,000 held-out real digits
    (sensitive to artefacts that the stroke-vs-real judge ignores; biased upward for small N)."""
    p_real = realism.probs(x)[:, 1]
    out = {"n": int(len(x)), "realism": float((p_real > 0.5).float().mean()), "mean_p_real": float(p_real.mean())}
    if fd:
        from .metrics import frechet_distance, reference_features
        out["fd"] = round(frechet_distance(clf.features(x).numpy(), reference_features(clf)[0]), 2)
    if labels is not None:
        pc = clf.probs(x)
        out["faithfulness"] = float((pc.argmax(1) == labels).float().mean())
        out["mean_p_drawn"] = float(pc.gather(1, labels[:, None]).mean())
    return out


def run_setting(model, ys, labels, k, steps, seed, t0, guide=None, **kw):
    """SDEdit of each drawing ``ys`` (D, 1, 28, 28) in [-1, 1], K candidates each, at ``t0`` (fraction of T)
    with ``kw`` (``conditioning.sdedit`` options). ``guide``: the guide classifier for the guided methods
    (loaded here when needed and not given). Returns (D, K, 1, 28, 28) in [-1, 1]."""
    if kw.get("guidance"):
        kw["guide_classifier"] = guide if guide is not None else load_checkpoint("mnist-guide", device="cpu")
    outs = []
    for i in range(len(ys)):
        outs.append(sdedit(model, ys[i], t0=t0, n=k, steps=steps, seed=seed + i, **kw).samples)
    return torch.stack(outs)  # (D, K, C, H, W)


def plot_tradeoff(path, results: dict, uncond_realism: float, drawn_realism: float, size=(1000, 700),
                  xmin: float = 0.4):
    """faithfulness (y) against realism (x), one polyline per method, points labelled with t0 (PIL)."""
    from PIL import Image, ImageDraw
    W, H = size
    L, R, Tm, B = 80, 250, 40, 70
    im = Image.new("RGB", size, "white")
    d = ImageDraw.Draw(im)

    def px(r, f):
        return L + (r - xmin) / (1.0 - xmin) * (W - L - R), H - B - f * (H - Tm - B)

    d.rectangle([L, Tm, W - R, H - B], outline="black")
    for v in np.linspace(xmin, 1, int(round((1 - xmin) * 10)) + 1):
        x, _ = px(v, 0)
        d.line([x, H - B, x, H - B + 5], fill="black")
        d.text((x - 10, H - B + 8), f"{v:.1f}", fill="black")
    for v in np.linspace(0, 1, 11):
        _, y = px(xmin, v)
        d.line([L - 5, y, L, y], fill="black")
        d.text((L - 35, y - 6), f"{v:.1f}", fill="black")
        d.line([L, y, W - R, y], fill=(235, 235, 235))
    d.text((L + 120, H - 35), "realism: share judged real by mnist-realism (p(real) > 0.5)", fill="black")
    d.text((10, 12), "faithfulness: share classified as the drawn digit (mnist-classifier)", fill="black")
    x, _ = px(uncond_realism, 0)
    d.line([x, Tm, x, H - B], fill=(120, 120, 120), width=1)
    d.text((x - 175, H - B - 16), f"unconditional samples: {uncond_realism:.2f}", fill=(90, 90, 90))
    _, y = px(xmin, 0.8)
    d.line([L, y, W - R, y], fill=(200, 120, 120))
    d.text((L + 4, y - 14), "target 0.8", fill=(180, 80, 80))
    colours = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
               (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]
    for j, (name, rows) in enumerate(results.items()):
        col = colours[j % len(colours)]
        rows = [r for r in rows if r["realism"] >= xmin]
        pts = [px(r["realism"], r["faithfulness"]) for r in rows]
        if len(pts) > 1:
            d.line(pts, fill=col, width=2)
        for r, (x, y) in zip(rows, pts):
            d.ellipse([x - 4, y - 4, x + 4, y + 4], fill=col)
            d.text((x + 5, y - 12), f"{r['t0']:.2g}", fill=col)
        d.text((W - R + 10, Tm + 20 * j), name, fill=col)
    d.text((W - R + 10, Tm + 20 * (len(results) + 1)), "the drawings themselves:", fill="black")
    d.text((W - R + 10, Tm + 20 * (len(results) + 2)), f"realism {drawn_realism:.2f} (off the chart)", fill="black")
    d.text((W - R + 10, Tm + 20 * (len(results) + 3)), "points: t0 / T", fill="black")
    im.save(path)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m genviz.backend.sdedit_eval")
    p.add_argument("--out", default="resources/sdedit")
    p.add_argument("--checkpoint", default="mnist-ddpm")
    p.add_argument("--k", type=int, default=4)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--t0s", default=",".join(map(str, T0S)))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--set", choices=("drawn", "crude"), default="drawn",
                   help="drawn: resources/drawings; crude: drawings.crude_drawing_set() (another style)")
    p.add_argument("--guidance", type=float, default=None, help="override the guidance scale of the +guide methods")
    p.add_argument("--suffix", default="", help="appended to the method names in the report")
    p.add_argument("--grids", default="0.3,0.5,0.7,0.8,0.9", help="t0 values whose sample grids are saved")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    model = load_checkpoint(a.checkpoint, device="cpu")
    clf = load_checkpoint("mnist-classifier", device="cpu")
    realism = load_checkpoint("mnist-realism", device="cpu")
    if a.set == "crude":
        from .drawings import crude_drawing_set
        imgs, labels = crude_drawing_set()
    else:
        imgs, labels, _ = load_drawing_set()
    ys = torch.from_numpy(imgs[:, None] * 2 - 1)
    lab = torch.from_numpy(labels)
    res_path = out / "measurements.json"
    report = json.loads(res_path.read_text()) if res_path.exists() else {}
    from .api import sample
    t = time.time()
    if "fd" not in report.get("unconditional", {}):
        unc = torch.cat([sample(model, "ddim", steps=a.steps, n=80, seed=1000 + i) for i in range(2)])
        report["unconditional"] = judge(unc, None, clf, realism)
    report["drawings"] = judge(ys, lab, clf, realism)
    report["setup"] = dict(checkpoint=a.checkpoint, k=a.k, steps=a.steps, sampler="ddim", eta=0.0, seed=a.seed,
                           drawings=len(ys), per_digit=int(np.bincount(labels).min()))
    print("unconditional", report["unconditional"], f"{time.time() - t:.0f}s", flush=True)
    print("drawings", report["drawings"], flush=True)
    grids = {float(v) for v in a.grids.split(",") if v}
    guide = None  # mnist-guide, loaded once for the guided methods
    methods = report.setdefault("methods", {})
    for name in a.methods.split(","):
        kw = dict(METHODS[name])
        if a.guidance is not None and "guidance" in kw:
            kw["guidance"] = a.guidance
        name = name + a.suffix
        rows = {r["t0"]: r for r in methods.get(name, [])}
        for t0 in [float(v) for v in a.t0s.split(",")]:
            t = time.time()
            if kw.get("guidance") and guide is None:
                guide = load_checkpoint("mnist-guide", device="cpu")
            x = run_setting(model, ys, labels, a.k, a.steps, a.seed, t0, guide=guide, **kw)
            flat = x.flatten(0, 1)
            r = judge(flat, lab.repeat_interleave(a.k), clf, realism)
            r.update(t0=t0, seconds=round(time.time() - t, 1))
            rows[t0] = r
            print(name, r, flush=True)
            if t0 in grids:
                g = torch.cat([ys[:, None], x], 1).flatten(0, 1)
                save_png(out / f"samples_{name}_t{t0:.1f}.png",
                         make_grid(model.to_unit(g).numpy(), nrow=(a.k + 1) * 2, scale=2))
            methods[name] = [rows[k] for k in sorted(rows)]
            if res_path.exists():  # merge with what other runs wrote meanwhile
                disk = json.loads(res_path.read_text())
                for k2, v2 in disk.get("methods", {}).items():
                    if k2 != name:
                        methods[k2] = v2
            res_path.write_text(json.dumps(report, indent=2))
            plot_tradeoff(out / "tradeoff.png", methods, report["unconditional"]["realism"],
                          report["drawings"]["realism"])
    return report


if __name__ == "__main__":
    main()
