"""Which judges go with which data set: the one place that says so.

A *judge* is a bundled classifier that measures a model's samples: the ``classifier`` (its classes' histogram,
the confident share and the Fréchet distance of its penultimate features to the held-out split) and the
``realism`` judge (real data vs crude stroke drawings, SDEdit's realism figure). ``genviz eval``, the SDEdit
measurements and the GUI's live class belief look the judge up here by the model's ``dataset`` (its
checkpoint's ``data.dataset``), so adding a data set is one ``Judges`` entry.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Judges:
    """The judges of one data set.

    Attributes:
        dataset: the ``data.dataset`` of the models judged (``"mnist"``, ``"emoji"``).
        classifier / realism: bundled checkpoint names.
        shape: (C, H, W) the judges read, in model space [-1, 1].
        loader: ``"module:function"`` returning (images uint8, labels) of a split; its module's
            ``to_model_space`` converts the images.
        what: the classes in words (captions, messages: "digit", "category").
    """

    dataset: str
    classifier: str
    realism: str
    shape: tuple[int, int, int]
    loader: str
    what: str


JUDGES = {
    "mnist": Judges("mnist", "mnist-classifier", "mnist-realism", (1, 28, 28), "genviz.backend.data:load_mnist",
                    "digit"),
    "emoji": Judges("emoji", "emoji-classifier", "emoji-realism", (3, 32, 32),
                    "genviz.backend.emoji_data:load_emoji", "category"),
}


def judges_for(model) -> Judges:
    """The judges of ``model``'s data set (its ``dataset`` and ``data_shape`` must match an entry).

    Raises:
        ValueError: no judge for that data set or shape (one line naming what there is).
    """
    j = JUDGES.get(getattr(model, "dataset", None) or "")
    if j is None or tuple(model.data_shape) != j.shape:
        known = ", ".join(f"{k} {'x'.join(map(str, v.shape))}" for k, v in JUDGES.items())
        raise ValueError(f"{model.name}: no bundled judge for data set {getattr(model, 'dataset', None)!r} at "
                         f"{'x'.join(map(str, model.data_shape))} (judges exist for: {known})")
    return j


def judges_for_dataset(dataset: str) -> Judges:
    """The judges of a data set by name; ValueError if there are none."""
    if dataset not in JUDGES:
        raise ValueError(f"no bundled judge for data set {dataset!r} (known: {', '.join(JUDGES)})")
    return JUDGES[dataset]


def real_images(dataset: str, split: str, n: int | None = None):
    """The first ``n`` real images of a split of ``dataset`` as a (N, C, H, W) float32 tensor in [-1, 1].

    Raises:
        ValueError: unknown data set or split.
    """
    import importlib
    mod_name, fn = judges_for_dataset(dataset).loader.split(":")
    mod = importlib.import_module(mod_name)
    images, _ = getattr(mod, fn)(split)
    return mod.to_model_space(images[:n] if n else images)
