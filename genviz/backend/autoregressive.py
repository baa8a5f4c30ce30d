"""Autoregressive models of binary images: p(x) = ∏_i p(x_i | x_<i) over the pixels in raster order
(Larochelle & Murray 2011, NADE; van den Oord et al. 2016, PixelCNN), with Bernoulli conditionals.

The network (``nets.pixelcnn.GatedPixelCNN``) returns one logit ℓ_i per pixel, p(x_i = 1 | x_<i) = σ(ℓ_i); all
784 conditionals of an image come from one forward pass (training and likelihoods), sampling needs one pass per
pixel (``samplers.autoregressive``). Log-likelihoods are in nats::

    log p(x) = Σ_i [x_i log σ(ℓ_i) + (1 − x_i) log(1 − σ(ℓ_i))] = −Σ_i BCEWithLogits(ℓ_i, x_i).

Binarisation (``binarise``): the training recipe draws x_i ~ Bernoulli(grey_i / 255) afresh for every batch
(stochastic binarisation, Salakhutdinov & Murray 2008; it also augments the 9,000 digits); the held-out NLL uses
one such draw of the 1,000 test digits, fixed by seed 0 (as the published binarised-MNIST figures do). Images a user
gives (the canvas, ``genviz complete``, a held-out digit in a view) are binarised with the fixed threshold 0.5, so
a pixel is exactly what the user sees.

Spaces: the network works on v ∈ {0, 1}; the model's data range is [−1, 1] like every bundled MNIST model (the
digit classifier, ``genviz eval`` and the canvas read it), so in model space a pixel is x = 2v − 1 ∈ {−1, +1}.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .families.base import BaseModel
from .registry import FamilySpec, register_family, traits


def binarise(u, mode: str = "threshold", generator: torch.Generator | None = None) -> torch.Tensor:
    """Grey levels in [0, 1] -> {0, 1} float32, same shape.

    Args:
        u: tensor or array in [0, 1] (uint8 arrays are divided by 255 first).
        mode: ``"threshold"`` (x = 1 where u >= 0.5) or ``"stochastic"`` (x ~ Bernoulli(u), needs ``generator``).
    Raises:
        ValueError: an unknown mode, or stochastic without a generator.
    """
    if isinstance(u, np.ndarray):
        u = torch.from_numpy(u.astype(np.float32) / (255.0 if u.dtype == np.uint8 else 1.0))
    u = torch.as_tensor(u).float().clamp(0, 1)
    if mode == "threshold":
        return (u >= 0.5).float()
    if mode == "stochastic":
        if generator is None:
            raise ValueError("stochastic binarisation needs a generator")
        return (torch.rand(u.shape, generator=generator) < u).float()
    raise ValueError(f"binarisation mode must be 'threshold' or 'stochastic', got {mode!r}")


def binarised_mnist(split: str = "test", mode: str = "stochastic", seed: int = 0) -> torch.Tensor:
    """The MNIST split of ``data.load_mnist`` binarised: (N, 1, 28, 28) float32 in {0, 1} (stochastic: seed fixes
    the draw)."""
    from .data import load_mnist
    imgs, _ = load_mnist(split)
    g = torch.Generator().manual_seed(int(seed))
    return binarise(imgs[:, None], mode, g if mode == "stochastic" else None)


class AutoregressiveModel(BaseModel):
    """A PixelCNN p(x) = ∏_i Bernoulli(x_i; σ(ℓ_i(x_<i))) on (1, H, W) binary images.

    Inputs x are in model space (data range [−1, 1]: a pixel is −1 off, +1 on; read as v = (x + 1)/2, so a grey
    value acts as a soft target). ``logits(x)`` (N, 1, H, W) -> (N, 1, H, W) logits ℓ; ``log_prob(x)`` -> (N,) exact log p(x) in nats;
    ``nll_map(x)`` -> (N, 1, H, W) per-pixel −log p(x_i | x_<i) in nats (sums to −log p(x)). Sampling: the
    ``pixelcnn`` sampler (one pixel or one row per chain step, raster order). Completion with clamped pixels:
    ``genviz.backend.completion``.

    Raises:
        ValueError: from the constructor when the data shape is not (1, H, W); from the methods, for inputs of the
            wrong shape.
    """

    family = "autoregressive"
    TRAITS = traits("autoregressive", density=True, sdedit=True)  # sdedit: the canvas fills masked pixels

    def __init__(self, net, metadata: dict, device="cpu"):
        super().__init__(net, metadata, device)
        if len(self.data_shape) != 3 or self.data_shape[0] != 1:
            raise ValueError(f"an autoregressive model needs data.shape [1, H, W], got {list(self.data_shape)}")

    @property
    def num_pixels(self) -> int:
        """H·W, the length of the raster order."""
        return int(self.data_shape[1] * self.data_shape[2])

    @property
    def default_sampler(self) -> dict:
        """{"name": "pixelcnn", "steps": H·W} (one pixel per step)."""
        return dict(self.metadata.get("sampler", {"name": "pixelcnn", "steps": self.num_pixels}))

    def unit(self, x: torch.Tensor) -> torch.Tensor:
        """Model space (N, 1, H, W) -> v in [0, 1] on the model's device (exactly {0, 1} for binary x)."""
        if x.dim() != 4 or tuple(x.shape[1:]) != self.data_shape:
            raise ValueError(f"x has shape {tuple(x.shape)}, expected (N, {', '.join(map(str, self.data_shape))})")
        return self.to_unit(x.to(self.device, torch.float32))

    @torch.inference_mode()
    def logits_unit(self, v: torch.Tensor) -> torch.Tensor:
        """(N, 1, H, W) v in {0, 1} (on the model's device) -> (N, 1, H, W) logits (the network itself)."""
        return self.net(v).float()

    @torch.inference_mode()
    def logits_row(self, v: torch.Tensor, r: int) -> torch.Tensor:
        """(N, 1, H, W) v in {0, 1} (on the model's device) -> (N, W) logits of row r, computed on the crop of the
        rows the network can see from there (``rows_above``; the same values as ``logits_unit(v)[:, 0, r]`` up to
        float rounding, 2-3x cheaper: what sampling calls once per pixel)."""
        top = max(0, int(r) - int(getattr(self.net, "rows_above", r)))
        return self.net(v[:, :, top:int(r) + 1]).float()[:, 0, -1]

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 1, H, W) model space -> (N, 1, H, W) logits of p(v_i = 1 | v_<i) (every pixel from one pass)."""
        return self.logits_unit(self.unit(x))

    def nll_map(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 1, H, W) model space -> (N, 1, H, W) per-pixel −log p(v_i | v_<i) in nats, >= 0."""
        v = self.unit(x)
        return F.binary_cross_entropy_with_logits(self.logits_unit(v), v, reduction="none")

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 1, H, W) binary -> (N,) log p(x) in nats (<= 0): minus the sum of the per-pixel BCEs."""
        return -self.nll_map(x).flatten(1).sum(1)

    def sample_data(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """n training digits, threshold-binarised, in model space: (n, 1, 28, 28) in {−1, 1}. ValueError for a
        non-MNIST model."""
        if self.dataset != "mnist":
            raise ValueError(f"{self.name}: no data samples available")
        from .data import load_mnist
        imgs, _ = load_mnist("train")
        idx = torch.randint(0, len(imgs), (int(n),), generator=generator).numpy()
        return self.from_unit(binarise(imgs[idx][:, None]))


def _net(name: str):
    def load():
        from .nets import pixelcnn
        return getattr(pixelcnn, name)
    return load


FAMILY = register_family(FamilySpec("autoregressive", "Autoregressive model (PixelCNN)", AutoregressiveModel,
                                    networks={"GatedPixelCNN": _net("GatedPixelCNN")}))
