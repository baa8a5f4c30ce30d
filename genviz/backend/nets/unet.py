"""A compact time-conditioned U-Net for small images (e.g. 28x28 MNIST).

The network follows the DDPM U-Net of Ho et al. 2020 (Appendix B) in miniature: residual blocks
with GroupNorm + SiLU, a sinusoidal time embedding added inside every block, stride-2 convolutions
down, nearest-neighbour upsampling, skip connections by concatenation and one self-attention block
at the lowest resolution. It is written with torch only (no diffusers import) so that the app starts
fast; bundled diffusion checkpoints store this class's config in their metadata.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal embedding of timesteps (Vaswani et al. 2017; Ho et al. 2020).

    Args:
        t: (N,) timesteps, integer or float, in training units 0..T-1.
        dim: embedding size (even).
    Returns:
        (N, dim) float32 embedding: [cos(t * f_k), sin(t * f_k)].
    """
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=1)


class ResBlock(nn.Module):
    """GroupNorm-SiLU-Conv residual block with an additive time embedding."""

    def __init__(self, cin: int, cout: int, temb_dim: int, groups: int = 8, dropout: float = 0.0):
        super().__init__()
        self.norm1 = nn.GroupNorm(min(groups, cin), cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.temb = nn.Linear(temb_dim, cout)
        self.norm2 = nn.GroupNorm(min(groups, cout), cout)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.temb(temb)[:, :, None, None]
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return h + self.skip(x)


class AttnBlock(nn.Module):
    """Single-head self-attention over spatial positions (used at the lowest resolution)."""

    def __init__(self, ch: int, groups: int = 8):
        super().__init__()
        self.norm = nn.GroupNorm(min(groups, ch), ch)
        self.qkv = nn.Conv2d(ch, 3 * ch, 1)
        self.proj = nn.Conv2d(ch, ch, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(n, 3, c, h * w).unbind(1)
        a = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2))
        return x + self.proj(a.transpose(1, 2).reshape(n, c, h, w))


class UNet(nn.Module):
    """Time-conditioned U-Net: (x_t (N, C, H, W), t (N,)) -> output (N, C, H, W).

    Args:
        in_channels: image channels C.
        base: channels at full resolution.
        mults: channel multipliers per resolution level; H and W must be divisible by
            2 ** (len(mults) - 1) after padding (28 -> 14 -> 7 for three levels).
        blocks: residual blocks per level on the way down (one more on the way up).
        attn_lowest: add a self-attention block at the lowest resolution.
    """

    def __init__(self, in_channels: int = 1, base: int = 32, mults=(1, 2, 2), blocks: int = 1,
                 attn_lowest: bool = True, dropout: float = 0.0):
        super().__init__()
        self.config = dict(in_channels=in_channels, base=base, mults=list(mults), blocks=blocks,
                           attn_lowest=attn_lowest, dropout=dropout)
        temb_dim = base * 4
        self.base = base
        self.temb = nn.Sequential(nn.Linear(base, temb_dim), nn.SiLU(), nn.Linear(temb_dim, temb_dim))
        self.conv_in = nn.Conv2d(in_channels, base, 3, padding=1)
        chans = [base * m for m in mults]
        self.down = nn.ModuleList()
        skip_ch = [base]
        ch = base
        for lvl, c in enumerate(chans):
            for _ in range(blocks):
                self.down.append(ResBlock(ch, c, temb_dim, dropout=dropout))
                ch = c
                skip_ch.append(ch)
            if lvl < len(chans) - 1:
                self.down.append(nn.Conv2d(ch, ch, 3, stride=2, padding=1))
                skip_ch.append(ch)
        self.mid1 = ResBlock(ch, ch, temb_dim, dropout=dropout)
        self.mid_attn = AttnBlock(ch) if attn_lowest else nn.Identity()
        self.mid2 = ResBlock(ch, ch, temb_dim, dropout=dropout)
        self.up = nn.ModuleList()
        for lvl, c in reversed(list(enumerate(chans))):
            for _ in range(blocks + 1):
                self.up.append(ResBlock(ch + skip_ch.pop(), c, temb_dim, dropout=dropout))
                ch = c
            if lvl > 0:
                self.up.append(nn.Upsample(scale_factor=2, mode="nearest"))
        self.norm_out = nn.GroupNorm(8, ch)
        self.conv_out = nn.Conv2d(ch, in_channels, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)
        assert self.conv_out.bias is not None  # Conv2d's default bias=True
        nn.init.zeros_(self.conv_out.bias)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        temb = self.temb(timestep_embedding(t.reshape(-1), self.base))  # (N or 1, dim); 1 broadcasts
        h = self.conv_in(x)
        hs = [h]
        for m in self.down:
            h = m(h, temb) if isinstance(m, ResBlock) else m(h)
            hs.append(h)
        h = self.mid2(self.mid_attn(self.mid1(h, temb)), temb)
        for m in self.up:
            if isinstance(m, ResBlock):
                h = m(torch.cat([h, hs.pop()], dim=1), temb)
            else:
                h = m(h)
        return self.conv_out(F.silu(self.norm_out(h)))
