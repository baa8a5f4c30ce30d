"""genviz's U-Net as a diffusers model class, so that ``DDPMPipeline.from_pretrained`` loads genviz's export.

Why not a ``UNet2DModel``: genviz's U-Net (``nets.unet``) matches diffusers' UNet2DModel with DownBlock2D /
UpBlock2D blocks in everything but one place: each genviz residual block projects the time embedding directly
(``temb(e)``), while diffusers' ``ResnetBlock2D`` applies SiLU first (``time_emb_proj(silu(e))``) and UNet2DModel
has no option to skip it (its upsampling conv, the attention layout and the timestep embedding could all be
matched exactly). So the export carries genviz's own network in this thin ``ModelMixin`` wrapper; nothing in the
exported folder is code. To load an export with diffusers, import this module first (diffusers resolves a
component class named in ``model_index.json`` from the modules the caller has imported)::

    import genviz.backend.nets.diffusers_unet  # noqa: F401  (makes GenvizUNet2DModel resolvable)
    from diffusers import DDPMPipeline
    pipe = DDPMPipeline.from_pretrained(OUT_DIR)
    images = pipe(batch_size=4).images

Importing this module imports diffusers (~4 s); genviz itself opens its exports without it.
"""
from __future__ import annotations

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from diffusers.models.unets.unet_2d import UNet2DOutput

from .unet import UNet


class GenvizUNet2DModel(ModelMixin, ConfigMixin):
    """genviz's ``UNet`` behind diffusers' model interface: ``forward(sample, timestep) -> UNet2DOutput``.

    Args: the ``UNet`` config (``in_channels``, ``base``, ``mults``, ``blocks``, ``attn_lowest``, ``dropout``),
    ``sample_size`` (H, or [H, W]; what pipelines read) and ``genviz_metadata`` (the checkpoint's genviz
    metadata, kept for the round trip; unused by the network). Weights are the ``UNet``'s under ``net.``.
    """

    config_name = "config.json"  # type: ignore[assignment]  # ConfigMixin declares None; subclasses set it

    @register_to_config
    def __init__(self, in_channels: int = 1, base: int = 32, mults=(1, 2, 2), blocks: int = 1,
                 attn_lowest: bool = True, dropout: float = 0.0, sample_size=28, genviz_metadata: dict | None = None):
        super().__init__()
        self.net = UNet(in_channels=in_channels, base=base, mults=tuple(mults), blocks=blocks,
                        attn_lowest=attn_lowest, dropout=dropout)

    def forward(self, sample: torch.Tensor, timestep, return_dict: bool = True):
        """sample (N, C, H, W), timestep a number or a (N,) / 0-dim tensor in training units; returns ε̂ (or
        the model's prediction type) as ``UNet2DOutput(sample=...)`` (a tuple when ``return_dict`` is False)."""
        t = torch.as_tensor(timestep, device=sample.device)
        out = self.net(sample, t)
        return UNet2DOutput(sample=out) if return_dict else (out,)
