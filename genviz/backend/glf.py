"""The generative latent flow family ``glf`` (Xiao, Yan & Amit 2019; Xiao 2022 Ch. 3).

A deterministic auto-encoder (encoder E, decoder G) whose latent z = E(x) gets a normalizing-flow prior:
f_η maps z to ε ~ N(0, I). Sampling: ε ~ N(0, I) → z = f⁻¹(ε) → x = G(z). The model's latent (what the
``decode`` sampler draws and interpolation walks by default) is the noise ε; walks can also run in z
(``latent_space(space="z")``). Training (Eq. 3.7): reconstruction of x plus the flow's negative
log-likelihood of sg(E(x)) (the stop-gradient keeps the flow loss from shrinking the latents; see
``training.mnist_glf``).
"""
from __future__ import annotations

from typing import cast

import torch

from .families.latent import LatentModel
from .interpolation import DecoderLatent
from .registry import FamilySpec, register_family, traits

SPACES = ("eps", "z")


class GLFModel(LatentModel):
    """A GLF: ``decode(eps)`` (N, latent_dim) noise -> (N, *data_shape) model space, G(f⁻¹(ε)) (sigmoid output
    mapped to the data range); ``encode(x)`` (N, *data_shape) -> ε = f(E(x)) (N, latent_dim). ``to_z(eps)``,
    ``to_eps(z)`` move between the two spaces; ``decode_z(z)`` = G(z), ``encode_z(x)`` = E(x);
    ``latent_log_prob(z)`` -> (N,) nats under the flow prior. ``prior_latent(n, seed)`` draws ε ~ N(0, I)
    exactly like every latent model. Raises ValueError on a wrongly shaped input.
    """

    family = "glf"
    TRAITS = traits("decode", latent=True, encoder=True)

    def __init__(self, net, metadata: dict, device="cpu"):
        if not all(hasattr(net, a) for a in ("encode_z", "decode_logits", "flow_forward", "flow_inverse")):
            raise ValueError(f"network {type(net).__name__} is not supported as a glf model (e.g. GLFNet)")
        super().__init__(net, metadata, device)

    def _check_x(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[1:]) != self.data_shape:
            raise ValueError(f"image has shape {tuple(x.shape)}, expected (N, {', '.join(map(str, self.data_shape))})")
        return x.to(self.device, torch.float32)

    @torch.inference_mode()
    def to_z(self, eps: torch.Tensor) -> torch.Tensor:
        return self.net.flow_inverse(self._check_z(eps))  # type: ignore[operator]

    @torch.inference_mode()
    def to_eps(self, z: torch.Tensor) -> torch.Tensor:
        return self.net.flow_forward(self._check_z(z))[0]  # type: ignore[operator]

    @torch.inference_mode()
    def latent_log_prob(self, z: torch.Tensor) -> torch.Tensor:
        return self.net.flow_log_prob(self._check_z(z))  # type: ignore[operator]

    @torch.inference_mode()
    def decode_z(self, z: torch.Tensor) -> torch.Tensor:
        return self.from_unit(torch.sigmoid(self.net.decode_logits(self._check_z(z))))  # type: ignore[operator]

    @torch.inference_mode()
    def encode_z(self, x: torch.Tensor) -> torch.Tensor:
        return cast(torch.Tensor, self.net.encode_z(self._check_x(x)))  # type: ignore[operator]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """ε (N, latent_dim) -> x = G(f⁻¹(ε)) (N, *data_shape)."""
        return self.decode_z(self.to_z(z))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """x (N, *data_shape) -> ε = f(E(x)) (N, latent_dim)."""
        return self.to_eps(self.encode_z(x))

    walk_space = "eps"  # the space ``interpolation.latent_space(model)`` walks (the interpolation panel's choice)

    def latent_space(self, space: str | None = None) -> "GLFLatent":
        """The space interpolation walks: ``"eps"`` (the flow's noise, Xiao 2022 Fig. 3.3) or ``"z"`` (the
        auto-encoder's latent); None: ``walk_space``. ValueError otherwise."""
        return GLFLatent(self, self.walk_space if space is None else space)


class GLFLatent(DecoderLatent):
    """Interpolation in a GLF's noise space ε or latent space z. Seed s is ε_s ~ N(0, I) in both: in z space
    its endpoint is z_s = f⁻¹(ε_s), so both spaces share endpoints and only the path between them differs."""

    def __init__(self, model: GLFModel, space: str = "eps"):
        if space not in SPACES:
            raise ValueError(f"space must be one of {', '.join(SPACES)}, got {space!r}")
        super().__init__(model)
        self.space = space
        self.glf = model

    def seed_latent(self, seed: int) -> torch.Tensor:
        eps = super().seed_latent(seed)
        return eps if self.space == "eps" else self.glf.to_z(eps[None])[0].float().cpu()

    def _decode_one(self, z):
        return self.glf.decode(z) if self.space == "eps" else self.glf.decode_z(z)

    def encode(self, x):
        out = self.glf.encode(x) if self.space == "eps" else self.glf.encode_z(x)
        return out.float().cpu()

    def describe(self) -> str:
        d = "x".join(map(str, self.latent_shape))
        return (f"GLF noise space, ε ∈ R^{d} (x = G(f⁻¹(ε)))" if self.space == "eps"
                else f"GLF latent space, z ∈ R^{d} (x = G(z))")


def _glf_net():
    from .nets.glf import GLFNet
    return GLFNet


register_family(FamilySpec("glf", "Generative latent flow (auto-encoder + flow prior)", GLFModel,
                           networks={"GLFNet": _glf_net}))
