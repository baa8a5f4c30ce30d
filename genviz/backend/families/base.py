"""What every model family shares: device handling, metadata, data-space conversions and traits.

Every model has ``name``, ``family``, ``metadata`` (the checkpoint's JSON), ``device``, ``data_shape``
(per-sample shape, e.g. (1, 28, 28)), ``data_range`` ((lo, hi) of model space, e.g. (-1, 1)), ``traits``
(``registry.Traits``: what it can do) and ``to(device)``; tensors of its chains live on ``model.device``.
"""
from __future__ import annotations

import torch
from torch import nn

from ..registry import Traits


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """Map ``"auto"`` to CUDA, then MPS, then CPU; pass anything else to ``torch.device``.

    Raises:
        ValueError: an unknown device string, or a device that is not available here.
    """
    if device is None or str(device) == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as e:
        raise ValueError(f"unknown device {device!r}") from e
    if dev.type not in ("cpu", "cuda", "mps") or (dev.type in ("cpu", "mps") and dev.index not in (None, 0)):
        raise ValueError(f"unknown device {device!r} (expected auto, cpu, cuda, cuda:N or mps)")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available on this machine")
    if dev.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError(f"device {device!r} requested but MPS is not available on this machine")
    return dev


class BaseModel:
    """Common part of every family: metadata, device handling and data-space conversions."""

    family = "base"
    TRAITS = Traits()  # what the family can do: each family class declares its own (registry.Traits)
    # the file the model came from: set by ``load_checkpoint`` (and ``training.toy.train(out=...)``; None for a
    # model trained in memory); declared here only, so a model built directly has no such attribute
    path: str | None

    def __init__(self, net: nn.Module, metadata: dict, device: str | torch.device = "cpu"):
        self.net = net.eval().requires_grad_(False)
        self.metadata = metadata
        self.name = metadata.get("name", "unnamed")
        data = metadata.get("data", {})
        self.data_shape = tuple(int(s) for s in data.get("shape", ()))
        rng = data.get("range", [-1.0, 1.0])
        self.data_range = (float(rng[0]), float(rng[1]))
        self.device = torch.device("cpu")
        self.to(device)

    @property
    def dataset(self) -> str:
        return self.metadata.get("data", {}).get("dataset", "unknown")

    @property
    def is_image(self) -> bool:
        return len(self.data_shape) == 3

    def to(self, device) -> "BaseModel":
        """Move the model (network and buffers) to ``device`` ("auto", "cpu", "cuda", ...).

        On the CPU, the convolution weights of image models are stored channels-last (NHWC): oneDNN's
        convolutions run 15-25 % faster that way here (mnist-ddpm's U-Net, batch 1-64; ``genviz bench``);
        inputs and outputs stay ordinary NCHW tensors, and results agree with NCHW weights to float32
        rounding. Other devices keep PyTorch's default layout.
        """
        dev = resolve_device(device)
        self.net.to(dev)
        fmt = torch.channels_last if dev.type == "cpu" and self.is_image else torch.contiguous_format
        self.net.to(memory_format=fmt)  # type: ignore[call-overload]  # documented form; torch's overloads omit it
        self.device = dev
        return self

    def to_unit(self, x: torch.Tensor) -> torch.Tensor:
        """Model space -> [0, 1] (clamped), same shape."""
        lo, hi = self.data_range
        return ((x - lo) / (hi - lo)).clamp(0, 1)

    def from_unit(self, u: torch.Tensor) -> torch.Tensor:
        """[0, 1] -> model space, same shape."""
        lo, hi = self.data_range
        return u * (hi - lo) + lo

    @property
    def traits(self) -> Traits:
        """This model's ``registry.Traits`` (its class's ``TRAITS``)."""
        return self.TRAITS

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, data_shape={self.data_shape}, device={self.device})"


def toy_data_sampler(metadata: dict):
    """``sample(n, generator) -> (n, 2)`` for a 2-D toy checkpoint's dataset (metadata ``data.dataset``
    and ``data.params``), or None when the dataset is not a known toy."""
    data = metadata.get("data", {})
    from ..toy.datasets import DATASETS, make_dataset
    if data.get("dataset") not in DATASETS or list(data.get("shape", [])) != [2]:
        return None
    ds = make_dataset(data["dataset"], **(data.get("params") or {}))
    return lambda n, generator: ds.sample(n, generator=generator)
