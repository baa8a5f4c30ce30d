"""Networks of the denoising diffusion GAN (Xiao et al. 2022), sized for 28x28 digits on a CPU.

- ``DDGANGenerator`` G(x_t, z, t) → x̂₀: a compact U-Net (28 → 14 → 7 px) whose residual blocks are modulated
  by adaptive GroupNorm (AdaGN: GroupNorm, then (1 + γ) h + β with γ, β linear in a conditioning vector),
  the conditioning being the sum of a sinusoidal embedding of t and a mapping-network embedding of z
  (as StyleGAN's mapping network feeds AdaIN; Karras et al. 2019). Output tanh, in [−1, 1].
- ``DDGANDiscriminator`` D(x_{t−1}, x_t, t) → logit: a strided conv net on the channel-concatenated pair,
  with t added to its features and a projection term ⟨e(t), h⟩ (Miyato & Koyama 2018) on the pooled ones.
  Used only by the training recipe (not stored in the checkpoint). No BatchNorm (R1 penalty).

The time index i is genviz's 0..T−1 (the paper's t − 1); both networks embed the continuous t' = (i + 1)/T, scaled
by 1000 before the sinusoidal embedding so that its frequencies spread over the few steps.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .unet import timestep_embedding


def _time_features(i: torch.Tensor, T: int, dim: int) -> torch.Tensor:
    """(N, dim) sinusoidal embedding of 1000 (i + 1)/T for (N,) indices i in 0..T−1."""
    return timestep_embedding(1000.0 * (i.reshape(-1).float() + 1) / T, dim)


class AdaGNResBlock(nn.Module):
    """Residual block GN-mod-SiLU-Conv ×2; each GroupNorm modulated by (1 + γ(c)) h + β(c)."""

    def __init__(self, cin: int, cout: int, cond_dim: int, groups: int = 8):
        super().__init__()
        self.norm1 = nn.GroupNorm(min(groups, cin), cin, affine=False)
        self.mod1 = nn.Linear(cond_dim, 2 * cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.norm2 = nn.GroupNorm(min(groups, cout), cout, affine=False)
        self.mod2 = nn.Linear(cond_dim, 2 * cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()
        for m in (self.mod1, self.mod2):
            nn.init.zeros_(m.weight)
            nn.init.zeros_(m.bias)

    @staticmethod
    def _mod(h, norm, mod, c):
        g, b = mod(c)[:, :, None, None].chunk(2, dim=1)
        return norm(h) * (1 + g) + b

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self._mod(x, self.norm1, self.mod1, c)))
        h = self.conv2(F.silu(self._mod(h, self.norm2, self.mod2, c)))
        return (h + self.skip(x)) * 2 ** -0.5


class DDGANGenerator(nn.Module):
    """G(x_t, z, i): (N, C, 28, 28) state, (N, latent_dim) latent, (N,) index in 0..T−1 → (N, C, 28, 28) x̂₀ in [−1, 1].

    Args:
        in_channels: image channels C.
        latent_dim: L, the size of z.
        num_timesteps: T (the embedding uses (i + 1)/T).
        channels: U-Net widths at 28, 14 and 7 px.
        cond_dim: size of the conditioning vector (time + z embedding) fed to every block.
        map_layers: depth of the z mapping MLP.
    Raises:
        ValueError: from ``forward``, on a batch-size mismatch between x_t, z and i.
    """

    def __init__(self, in_channels: int = 1, latent_dim: int = 64, num_timesteps: int = 4, channels=(32, 64, 96),
                 cond_dim: int = 128, map_layers: int = 3):
        super().__init__()
        self.config = dict(in_channels=in_channels, latent_dim=latent_dim, num_timesteps=num_timesteps,
                           channels=list(channels), cond_dim=cond_dim, map_layers=map_layers)
        self.latent_dim, self.num_timesteps, self.cond_dim = int(latent_dim), int(num_timesteps), int(cond_dim)
        c1, c2, c3 = channels
        self.temb = nn.Sequential(nn.Linear(cond_dim, cond_dim), nn.SiLU(), nn.Linear(cond_dim, cond_dim))
        layers, d = [], latent_dim
        for _ in range(map_layers):
            layers += [nn.Linear(d, cond_dim), nn.SiLU()]
            d = cond_dim
        self.zmap = nn.Sequential(*layers, nn.Linear(d, cond_dim))
        self.conv_in = nn.Conv2d(in_channels, c1, 3, padding=1)
        self.enc1 = AdaGNResBlock(c1, c1, cond_dim)
        self.down1 = nn.Conv2d(c1, c1, 3, stride=2, padding=1)
        self.enc2 = AdaGNResBlock(c1, c2, cond_dim)
        self.down2 = nn.Conv2d(c2, c2, 3, stride=2, padding=1)
        self.enc3 = AdaGNResBlock(c2, c3, cond_dim)
        self.mid = AdaGNResBlock(c3, c3, cond_dim)
        self.dec2 = AdaGNResBlock(c3 + c2, c2, cond_dim)
        self.dec1 = AdaGNResBlock(c2 + c1, c1, cond_dim)
        self.norm_out = nn.GroupNorm(8, c1)
        self.conv_out = nn.Conv2d(c1, in_channels, 3, padding=1)

    def forward(self, x_t: torch.Tensor, z: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
        n = x_t.shape[0]
        i = i.reshape(-1)
        if z.shape[0] != n or i.shape[0] not in (1, n):
            raise ValueError(f"batch sizes differ: x_t {n}, z {z.shape[0]}, t {i.shape[0]}")
        c = F.silu(self.temb(_time_features(i, self.num_timesteps, self.cond_dim).to(x_t.dtype)) + self.zmap(z))
        h0 = self.conv_in(x_t)
        h1 = self.enc1(h0, c)
        h2 = self.enc2(self.down1(h1), c)
        h3 = self.enc3(self.down2(h2), c)
        h = self.mid(h3, c)
        h = F.interpolate(h, size=h2.shape[-2:], mode="nearest")
        h = self.dec2(torch.cat([h, h2], 1), c)
        h = F.interpolate(h, size=h1.shape[-2:], mode="nearest")
        h = self.dec1(torch.cat([h, h1], 1), c)
        return torch.tanh(self.conv_out(F.silu(self.norm_out(h))))


class DDGANDiscriminator(nn.Module):
    """D(x_{t−1}, x_t, i): two (N, C, 28, 28) states and (N,) indices → (N,) logits of "a real pair".

    Args:
        in_channels: C of each state (the input has 2C channels).
        num_timesteps: T.
        width: channels of the first layer (then 2w, 4w, 4w at 14, 7, 4 px).
        mbstd_group: 0 (off), or G >= 2: the minibatch standard deviation layer of Karras et al. 2018 (ProGAN,
            Sec. 3) on the 4 px features: per group of G consecutive samples, the standard deviation of each
            feature over the group, averaged to one number, appended as a channel (so D can see a batch of fakes
            that lacks the data's variety: mode collapse). The batch size must then be a multiple of G (the recipe
            gives each group one t); ValueError otherwise, and for a group of 1 or below 0 (no spread to see).
    """

    def __init__(self, in_channels: int = 1, num_timesteps: int = 4, width: int = 32, mbstd_group: int = 0):
        super().__init__()
        self.num_timesteps, w = int(num_timesteps), width
        self.mbstd_group = int(mbstd_group)
        if self.mbstd_group < 0 or self.mbstd_group == 1:
            raise ValueError(f"mbstd_group must be 0 (off) or at least 2, got {mbstd_group}")
        self.tdim = 4 * w
        self.temb = nn.Sequential(nn.Linear(self.tdim, self.tdim), nn.LeakyReLU(0.2), nn.Linear(self.tdim, self.tdim))
        self.conv_in = nn.Conv2d(2 * in_channels, w, 3, padding=1)
        self.t_in = nn.Linear(self.tdim, w)
        self.conv1 = nn.Conv2d(w, w, 3, padding=1)
        self.body = nn.Sequential(
            nn.Conv2d(w, 2 * w, 4, stride=2, padding=1), nn.LeakyReLU(0.2),          # 14
            nn.Conv2d(2 * w, 4 * w, 4, stride=2, padding=1), nn.LeakyReLU(0.2),      # 7
            nn.Conv2d(4 * w, 4 * w, 3, stride=2, padding=1), nn.LeakyReLU(0.2),      # 4
        )
        self.mbstd_conv = (nn.Conv2d(4 * w + 1, 4 * w, 3, padding=1) if self.mbstd_group else None)
        self.out = nn.Linear(4 * w, 1)
        self.proj = nn.Linear(self.tdim, 4 * w, bias=False)

    def _mbstd(self, h: torch.Tensor) -> torch.Tensor:
        """(N, 1, H, W): each sample's group's mean feature standard deviation (ProGAN's minibatch stddev)."""
        n, c, hh, ww = h.shape
        g = self.mbstd_group
        if n % g:
            raise ValueError(f"batch size {n} is not a multiple of the minibatch-stddev group {g}")
        s = h.reshape(n // g, g, c, hh, ww).var(dim=1, unbiased=False).add(1e-8).sqrt().mean(dim=(1, 2, 3))
        return s.repeat_interleave(g)[:, None, None, None].expand(n, 1, hh, ww)

    def forward(self, x_prev: torch.Tensor, x_t: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
        e = self.temb(_time_features(i, self.num_timesteps, self.tdim).to(x_t.dtype))
        h = F.leaky_relu(self.conv_in(torch.cat([x_prev, x_t], 1)) + self.t_in(e)[:, :, None, None], 0.2)
        h = F.leaky_relu(self.conv1(h), 0.2)
        h = self.body(h)
        if self.mbstd_conv is not None:
            h = F.leaky_relu(self.mbstd_conv(torch.cat([h, self._mbstd(h)], 1)), 0.2)
        h = h.sum(dim=(2, 3))
        return self.out(h).squeeze(1) + (self.proj(e) * h).sum(1)
