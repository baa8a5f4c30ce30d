"""Diffusion models (seen through ε-prediction) and the image classifiers that judge samples."""
from __future__ import annotations

from typing import Callable, Protocol, cast

import torch
from torch import nn

from ..registry import FamilySpec, register_family, traits
from ..schedules import alphas_cumprod_from_betas, make_betas
from .base import BaseModel


class DiffusionModel(BaseModel):
    """A discrete-time diffusion model (Ho et al. 2020) seen through its ε-prediction.

    Attributes:
        alphas_cumprod: (T,) float32 on ``device``, ᾱ_t for t = 0..T-1 (diffusers' convention).
        betas: (T,) float32 on ``device``.
        num_train_timesteps: T.
        prediction_type: what the network outputs: ``"epsilon"``, ``"sample"`` (x0) or
            ``"v_prediction"``; ``predict_eps`` converts to ε.
    """

    family = "diffusion"
    TRAITS = traits("denoising", "langevin", "annealed", eps=True, score=True, latent=True, encoder=True, sdedit=True)

    def __init__(self, net: nn.Module, metadata: dict, device="cpu",
                 forward: Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor] | None = None):
        sched = metadata.get("schedule", {})
        if "trained_betas" in sched and sched["trained_betas"] is not None:
            betas = torch.tensor(sched["trained_betas"], dtype=torch.float32)
        else:
            betas = make_betas(sched.get("beta_schedule", "linear"), int(sched.get("num_train_timesteps", 1000)),
                               float(sched.get("beta_start", 1e-4)), float(sched.get("beta_end", 0.02)))
        self._betas_cpu = betas
        self._acp_cpu = alphas_cumprod_from_betas(betas)
        self.num_train_timesteps = len(betas)
        self.prediction_type = sched.get("prediction_type", "epsilon")
        if self.prediction_type not in ("epsilon", "sample", "v_prediction"):
            raise ValueError(f"unsupported prediction_type {self.prediction_type!r}")
        self._forward = forward or (lambda net, x, t: net(x, t))
        from ..nets.unet import UNet
        # genviz's own U-Net called plainly: traceable (see _eps_net); other networks always run eagerly
        self._traceable = forward is None and type(net) is UNet
        self._traced = None
        super().__init__(net, metadata, device)

    def to(self, device) -> "DiffusionModel":
        super().to(device)
        self.betas = self._betas_cpu.to(self.device)
        self.alphas_cumprod = self._acp_cpu.to(self.device)
        self._traced = None  # traced for the old device and parameter tensors
        return self

    def _eps_net(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The network's raw output. On the CPU and without autograd (sampling), genviz's U-Net runs as a
        TorchScript trace (``torch.jit.trace``, made on first use in ~0.1 s): the whole forward is then one
        call that runs without Python's GIL, so a GUI thread painting meanwhile no longer slows each of
        its ~150 operations (measured: a forward at batch 16 went from 28 ms to 770 ms while another
        Python thread was busy, and stayed at 32 ms traced). Outputs are bit-identical to the eager
        network (tested). Should autograd be on, or tracing fail, the eager network runs."""
        if self._traceable and self.device.type == "cpu" and not torch.is_grad_enabled():
            if self._traced is None:
                self._traced = self._trace(x_t.shape[1:])
            if self._traced is not None:
                return self._traced(x_t, t)
        return self._forward(self.net, x_t, t)

    def _trace(self, sample_shape):
        import warnings
        try:
            with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # TracerWarnings about shapes: the traced ops are shape-generic
                example = (torch.zeros((1, *sample_shape), device=self.device),
                           torch.zeros((), dtype=torch.long, device=self.device))
                return torch.jit.trace(self.net, example, check_trace=False)
        except Exception:  # tracing is an optimisation: never let it break sampling
            self._traceable = False
            return None

    @property
    def default_sampler(self) -> dict:
        """The checkpoint's default sampler, e.g. ``{"name": "ddim", "steps": 50, "eta": 0.0}``."""
        return dict(self.metadata.get("sampler", {"name": "ddim", "steps": 50, "eta": 0.0}))


    @torch.inference_mode()
    def predict_eps(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """ε̂(x_t, t).

        Args:
            x_t: (N, *data_shape) float32 on ``device``, model space.
            t: (N,) LongTensor of training timesteps in 0..T-1, or a Python int: one timestep for the
                whole batch, which the network embeds once and broadcasts (what the samplers pass; for a
                2-D toy MLP at N = 1,000 this skips a third of the network's work).
        Returns:
            (N, *data_shape) ε̂, converted from x0 or v predictions where the network predicts those
            (Salimans & Ho 2022, v = √ᾱ ε − √(1−ᾱ) x0).
        """
        if not torch.is_tensor(t):
            t = torch.tensor(int(t), dtype=torch.long, device=x_t.device)  # 0-dim: shared by the batch
        out = self._eps_net(x_t, t)
        if self.prediction_type == "epsilon":
            return out
        a = self.alphas_cumprod[t].view(-1, *([1] * (x_t.dim() - 1)))
        if self.prediction_type == "sample":
            return (x_t - a.sqrt() * out) / (1 - a).sqrt()
        return a.sqrt() * out + (1 - a).sqrt() * x_t

    def score(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """∇log p_t(x_t) = −ε̂(x_t, t)/√(1−ᾱ_t) (Song et al. 2021, Eq. 12 with VP SDE); same shape."""
        a = self.alphas_cumprod[t].view(-1, *([1] * (x_t.dim() - 1)))  # t: (N,) or an int for all
        return -self.predict_eps(x_t, t) / (1 - a).sqrt()


class _FeatureNet(Protocol):
    """What ``ClassifierModel.features`` needs of its network (e.g. ``nets.classifier.DigitCNN``)."""

    def features(self, x: torch.Tensor) -> torch.Tensor: ...


class ClassifierModel(BaseModel):
    """An image classifier p(y | x) (e.g. the bundled MNIST digit classifier).

    ``probs(x)`` takes (N, *data_shape) in model space and returns (N, K) class probabilities;
    ``features(x)`` returns (N, F) penultimate-layer features (used for the Fréchet distance).
    """

    family = "classifier"
    TRAITS = traits(classifier=True)

    @property
    def classes(self) -> list[str]:
        return list(self.metadata.get("classes", [str(i) for i in range(10)]))

    @torch.inference_mode()
    def probs(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.net(x.to(self.device)), dim=1)

    @torch.inference_mode()
    def features(self, x: torch.Tensor) -> torch.Tensor:
        return cast(_FeatureNet, self.net).features(x.to(self.device))


def _unet():
    from ..nets.unet import UNet
    return UNet


def _toy_eps():
    from ..nets.toy import ToyEpsMLP
    return ToyEpsMLP


def _digit_cnn():
    from ..nets.classifier import DigitCNN
    return DigitCNN


register_family(FamilySpec("diffusion", "Diffusion model (DDPM, DDIM, score SDE)", DiffusionModel,
                           networks={"UNet": _unet, "ToyEpsMLP": _toy_eps}))
register_family(FamilySpec("classifier", "Image classifier (judges samples)", ClassifierModel,
                           networks={"DigitCNN": _digit_cnn}))
