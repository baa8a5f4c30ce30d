"""Sample-quality figures for image models, measured with their data set's bundled classifier
(``judges.JUDGES``: ``mnist-classifier`` for digits, ``emoji-classifier`` for the colour emoji data).

- confident share: fraction of samples whose top class probability is >= 0.9;
- class histogram: counts of the classifier's argmax over its classes (ten digits, nine emoji categories);
- Fréchet distance (Heusel et al. 2017, Eq. 6 — FID's formula) between Gaussian fits of the
  classifier's penultimate features of the samples and of held-out real digits:
  ‖μ_1 − μ_2‖² + tr(Σ_1 + Σ_2 − 2 (Σ_1 Σ_2)^{1/2}).
"""
from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

import numpy as np
import torch

if TYPE_CHECKING:
    from .families import ClassifierModel


def frechet_distance(f1: np.ndarray, f2: np.ndarray) -> float:
    """Fréchet distance between Gaussian fits of two feature sets (N1, F) and (N2, F); >= 0.

    Raises:
        ValueError: a set with fewer than 2 samples (its covariance is undefined) or non-finite features.
    """
    f1, f2 = np.asarray(f1, np.float64), np.asarray(f2, np.float64)
    if min(len(f1), len(f2)) < 2:
        raise ValueError(f"a Fréchet distance needs at least 2 samples per set, got {min(len(f1), len(f2))}")
    if not (np.isfinite(f1).all() and np.isfinite(f2).all()):
        raise ValueError("a Fréchet distance needs finite features (the samples hold NaN or inf)")
    mu1, mu2 = f1.mean(0), f2.mean(0)
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    # tr((S1 S2)^{1/2}) via the eigenvalues of sqrt(S1) S2 sqrt(S1), which are real and >= 0
    w, v = np.linalg.eigh(s1)
    sq1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    ev = np.linalg.eigvalsh(sq1 @ s2 @ sq1)
    tr_sqrt = np.sqrt(np.clip(ev, 0, None)).sum()
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * tr_sqrt)


# classifier -> (held-out features, real-vs-real Fréchet floor)
_REFERENCE: weakref.WeakKeyDictionary[ClassifierModel, tuple[np.ndarray, float]] = weakref.WeakKeyDictionary()


def _features(classifier, x: torch.Tensor, batch: int = 250):
    """(probs (N, K) CPU tensor, features (N, F) numpy) of ``classifier`` on x (N, C, H, W) in [-1, 1]."""
    ps, fs = [], []
    for i in range(0, len(x), batch):
        xb = x[i:i + batch].to(classifier.device, torch.float32)
        ps.append(classifier.probs(xb).cpu())
        fs.append(classifier.features(xb).cpu())
    return torch.cat(ps), torch.cat(fs).numpy()


@torch.inference_mode()
def reference_features(classifier):
    """Features (M, F) of the held-out split of the classifier's data set (``judges.real_images``: the 1,000
    held-out digits of resources/mnist10k.npz, the 380 held-out emoji of resources/emoji32.npz) and the
    Fréchet distance between them and as many training images drawn at random (a fixed seed: the floor a model's
    samples are compared against), computed once per loaded classifier. (A random draw, not the first images:
    the emoji training split is stored by category, so its first 380 images are all Smileys & Emotion, which
    gave a "floor" of 225.6 instead of 13.2.)"""
    if classifier not in _REFERENCE:
        from .judges import real_images
        ds = getattr(classifier, "dataset", None) or "mnist"
        _, f_ref = _features(classifier, real_images(ds, "test"))
        train = real_images(ds, "train")
        pick = np.sort(np.random.default_rng(0).choice(len(train), size=min(len(f_ref), len(train)), replace=False))
        _, f_train = _features(classifier, train[torch.from_numpy(pick)])
        _REFERENCE[classifier] = (f_ref, frechet_distance(f_train, f_ref))
    return _REFERENCE[classifier]


@torch.inference_mode()
def digit_report(samples: torch.Tensor, classifier, reference: torch.Tensor | None = None,
                 threshold: float = 0.9, batch: int = 250) -> dict:
    """Judge samples with their data set's classifier (digits, emoji categories: ``judges.JUDGES``).

    Args:
        samples: (N, *classifier.data_shape) in model space [-1, 1], e.g. (N, 1, 28, 28) digits.
        classifier: a loaded ``ClassifierModel`` (``load_checkpoint("mnist-classifier")``,
            ``"emoji-classifier"``).
        reference: (M, 1, 28, 28) real digits in [-1, 1] for the Fréchet distance (default: the 1,000
            held-out digits of resources/mnist10k.npz).
    Returns:
        dict with ``n``, ``confident_share`` (in [0, 1]), ``class_histogram`` (K ints, one per class),
        ``mean_max_prob``, ``frechet_distance`` and ``frechet_distance_real_vs_real`` (held-out vs as many
        training images: the floor to compare against).
    """
    p, f = _features(classifier, samples, batch)
    if reference is None:
        f_ref, floor = reference_features(classifier)
    else:
        from .judges import real_images
        _, f_ref = _features(classifier, reference, batch)
        ds = getattr(classifier, "dataset", None) or "mnist"
        _, f_train = _features(classifier, real_images(ds, "train", len(reference)), batch)
        floor = frechet_distance(f_train, f_ref)
    top = p.max(1)
    return {
        "n": int(len(samples)),
        "confident_share": float((top.values >= threshold).float().mean()),
        "class_histogram": torch.bincount(top.indices, minlength=p.shape[1]).tolist(),
        "mean_max_prob": float(top.values.mean()),
        "frechet_distance": frechet_distance(f, f_ref),
        "frechet_distance_real_vs_real": floor,
    }
