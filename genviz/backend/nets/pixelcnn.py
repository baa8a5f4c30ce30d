"""A small gated PixelCNN for binary 28x28 images (van den Oord et al. 2016, "Pixel Recurrent Neural Networks",
Sec. 3.4 masks A and B; "Conditional Image Generation with PixelCNN Decoders", Sec. 2.2 gated blocks and the
vertical/horizontal stacks that remove the plain PixelCNN's blind spot).

Raster order: pixel i = r·W + c. The logit of pixel i may depend only on pixels j < i (rows above, and the pixels
to the left on its own row). Two stacks carry that:

- the vertical stack v: a k×k convolution masked to rows ≤ r (all columns); at row r it has seen input rows ≤ r.
  It feeds the horizontal stack only *shifted down one row*, so what reaches row r comes from rows < r;
- the horizontal stack h: a 1×k convolution on its own row, masked to columns < c in the first layer (mask A: the
  pixel itself is excluded) and columns ≤ c after it (mask B: the pixel's own *features*, which have not seen it).

Each layer gates its features, tanh(a) ⊙ σ(b) (the gated activation, Eq. 2 of the 2016 PixelCNN-decoder paper);
the horizontal stack is residual from the second layer on. ``tests/backend/test_autoregressive.py`` checks the
causality exactly: the Jacobian of every logit with respect to the input is zero on and after its pixel.

The output is one Bernoulli **logit** per pixel (no sigmoid here: the loss is BCE-with-logits, and a second
sigmoid is the classic NADE bug). Input: x in {0, 1}, fed as 2x − 1 so that zero padding differs from a black pixel.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class MaskedConv2d(nn.Conv2d):
    """A convolution whose kernel is multiplied by a fixed 0/1 mask (a buffer, not saved in checkpoints).

    ``mask`` is (kh, kw); the layer pads to keep H x W ("same" padding for odd kernels).
    """

    mask: torch.Tensor

    def __init__(self, c_in: int, c_out: int, kernel: tuple[int, int], mask: torch.Tensor):
        super().__init__(c_in, c_out, kernel, padding=(kernel[0] // 2, kernel[1] // 2))
        self.register_buffer("mask", mask.reshape(1, 1, *kernel).float(), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)


def vertical_mask(k: int) -> torch.Tensor:
    """(k, k) mask of the vertical stack: rows 0..k//2 (the centre row and above), every column."""
    m = torch.zeros(k, k)
    m[: k // 2 + 1] = 1
    return m


def horizontal_mask(k: int, include_centre: bool) -> torch.Tensor:
    """(1, k) mask of the horizontal stack: the columns left of the centre, plus the centre for mask B."""
    m = torch.zeros(1, k)
    m[0, : k // 2 + (1 if include_centre else 0)] = 1
    return m


def shift_down(x: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) shifted down one row (row 0 becomes zeros): what row r receives comes from rows < r."""
    return F.pad(x, (0, 0, 1, 0))[:, :, :-1]


class GatedLayer(nn.Module):
    """One gated PixelCNN layer (vertical and horizontal stacks), mask A when ``first`` else mask B."""

    def __init__(self, c_in: int, channels: int, kernel: int, first: bool):
        super().__init__()
        self.first = first
        self.v = MaskedConv2d(c_in, 2 * channels, (kernel, kernel), vertical_mask(kernel))
        self.h = MaskedConv2d(c_in, 2 * channels, (1, kernel), horizontal_mask(kernel, include_centre=not first))
        self.v_to_h = nn.Conv2d(2 * channels, 2 * channels, 1)
        self.h_out = nn.Conv2d(channels, channels, 1)

    @staticmethod
    def _gate(a: torch.Tensor) -> torch.Tensor:
        x, y = a.chunk(2, dim=1)
        return torch.tanh(x) * torch.sigmoid(y)

    def forward(self, v: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        v_pre = self.v(v)
        h_pre = self.h(h) + self.v_to_h(shift_down(v_pre))
        h_new = self.h_out(self._gate(h_pre))
        return self._gate(v_pre), h_new if self.first else h + h_new


class GatedPixelCNN(nn.Module):
    """(N, 1, H, W) binary images in {0, 1} -> (N, 1, H, W) Bernoulli logits of p(x_i = 1 | x_<i).

    Args:
        channels: feature channels per stack (the gates use twice as many pre-activations).
        layers: gated layers (the first with mask A); receptive field grows by kernel//2 rows/columns per layer.
        kernel: odd kernel size of the masked convolutions (the first layer uses 7, later ones ``kernel``).
        head: channels of the 1x1 output head.
    Raises:
        ValueError: non-positive sizes or an even kernel.
    """

    def __init__(self, channels: int = 32, layers: int = 6, kernel: int = 3, head: int = 64):
        super().__init__()
        if min(channels, layers, kernel, head) < 1 or kernel % 2 == 0:
            raise ValueError(f"need positive sizes and an odd kernel, got channels={channels}, layers={layers}, "
                             f"kernel={kernel}, head={head}")
        self.config = dict(channels=channels, layers=layers, kernel=kernel, head=head)
        self.layers = nn.ModuleList([GatedLayer(1, channels, 7, first=True)]
                                    + [GatedLayer(channels, channels, kernel, first=False) for _ in range(layers - 1)])
        self.out = nn.Sequential(nn.ReLU(), nn.Conv2d(channels, head, 1), nn.ReLU(), nn.Conv2d(head, 1, 1))

    @property
    def rows_above(self) -> int:
        """How many rows above its own a logit can see: 3 (first 7x7 layer) + kernel//2 per later layer + 1 (the
        vertical stack's shift). Row r's logits are exactly those of the crop of rows r − rows_above .. r."""
        c = self.config
        return 3 + (c["layers"] - 1) * (c["kernel"] // 2) + 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = 2 * x - 1
        v, h = s, s
        for layer in self.layers:
            v, h = layer(v, h)
        return self.out(h)
