"""Model families: thin, documented wrappers around a network plus what a sampler needs to know.

Every model has ``name``, ``family``, ``metadata`` (the checkpoint's JSON), ``device``, ``data_shape``
(per-sample shape, e.g. (1, 28, 28)), ``data_range`` ((lo, hi) of model space, e.g. (-1, 1)) and
``to(device)``; tensors of its chains live on ``model.device``.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from .schedules import alphas_cumprod_from_betas, make_betas


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
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available on this machine")
    if dev.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError(f"device {device!r} requested but MPS is not available on this machine")
    return dev


class BaseModel:
    """Common part of every family: metadata, device handling and data-space conversions."""

    family = "base"

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
        self.net.to(memory_format=fmt)
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

    def capabilities(self) -> list[str]:
        """Panel names this model supports (``chain``, ``interpolation``, ``density``, ``canvas``)."""
        return []

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, data_shape={self.data_shape}, device={self.device})"


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
        from .nets.unet import UNet
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

    def capabilities(self) -> list[str]:
        return ["chain", "interpolation", "canvas"] if self.is_image else ["chain", "density"]

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


class ClassifierModel(BaseModel):
    """An image classifier p(y | x) (e.g. the bundled MNIST digit classifier).

    ``probs(x)`` takes (N, *data_shape) in model space and returns (N, K) class probabilities;
    ``features(x)`` returns (N, F) penultimate-layer features (used for the Fréchet distance).
    """

    family = "classifier"

    @property
    def classes(self) -> list[str]:
        return list(self.metadata.get("classes", [str(i) for i in range(10)]))

    @torch.inference_mode()
    def probs(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.net(x.to(self.device)), dim=1)

    @torch.inference_mode()
    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.features(x.to(self.device))


class EnergyModel(BaseModel):
    """An energy-based model p(x) ∝ exp(−E(x)) (LeCun et al. 2006; Nijkamp et al. 2019).

    The network (or function) output is read with the checkpoint's sign convention,
    ``metadata["energy"]["sign"]``: ``"energy"`` (output = E(x), the default) or ``"log_density"``
    (output = log p̃(x) = −E(x)); the literature uses both. The drift of every Langevin sampler is
    always toward lower energy: ∇log p = −∇E.

    ``energy(x)``: (N, *data_shape) -> (N,) energies (unitless, up to an additive constant).
    ``score(x)``: −∇E(x) by autograd, same shape as x.
    """

    family = "ebm"

    def __init__(self, net, metadata: dict, device="cpu", sample_data=None):
        super().__init__(net, metadata, device)
        sign = metadata.get("energy", {}).get("sign", "energy")
        if sign not in ("energy", "log_density"):
            raise ValueError(f"energy.sign must be 'energy' or 'log_density', got {sign!r}")
        self.sign = sign
        self._sample_data = sample_data

    @classmethod
    def from_function(cls, fn, data_shape, *, name: str = "analytic", sign: str = "energy",
                      data_range=(-4.0, 4.0), sample_data=None, metadata: dict | None = None) -> "EnergyModel":
        """Wrap a callable energy ``fn(x: (N, *data_shape)) -> (N,)`` (differentiable in x).

        ``sample_data(n, generator) -> (n, *data_shape)`` optionally draws exact data samples (used
        by ``init="data"`` and by tests). ``sign="log_density"`` when ``fn`` returns log p̃ instead.
        """
        class _Fn(nn.Module):
            def forward(self, x):
                return fn(x)
        meta = {"name": name, "family": "ebm", "network": {"class": "function"},
                "data": {"shape": list(data_shape), "range": list(data_range), "dataset": name,
                         "kind": "image" if len(data_shape) == 3 else "vector"},
                "energy": {"sign": sign}, "sampler": {"name": "ula", "steps": 100, "step_size": 0.01}}
        meta.update(metadata or {})
        return cls(_Fn(), meta, "cpu", sample_data=sample_data)

    @property
    def default_sampler(self) -> dict:
        return dict(self.metadata.get("sampler", {"name": "ula", "steps": 100, "step_size": 0.01}))

    def capabilities(self) -> list[str]:
        return ["chain"] if self.is_image else ["chain", "density"]

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        out = self.net(x).reshape(x.shape[0])
        return out if self.sign == "energy" else -out

    def score(self, x: torch.Tensor, level=None) -> torch.Tensor:
        return energy_and_score(self, x)[1]

    def sample_data(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """n exact data samples, for ``init="data"``; ValueError where the model has none."""
        if self._sample_data is not None:
            return self._sample_data(n, generator)
        if self.metadata.get("data", {}).get("dataset") == "mnist":
            from .data import load_mnist, to_model_space
            imgs, _ = load_mnist("train")
            idx = torch.randint(0, len(imgs), (n,), generator=generator)
            return to_model_space(imgs[idx.numpy()])
        toy = toy_data_sampler(self.metadata)
        if toy is not None:
            return toy(n, generator)
        raise ValueError(f"{self.name}: no data samples available for init='data'")


def energy_and_score(model: EnergyModel, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(E(x) (N,), −∇E(x) same shape as x), by autograd, with gradients enabled even under
    ``torch.inference_mode`` callers (x is detached first)."""
    with torch.inference_mode(False), torch.enable_grad():
        xg = x.detach().clone().requires_grad_(True)
        e = model.energy(xg)
        (g,) = torch.autograd.grad(e.sum(), xg)
    return e.detach(), -g.detach()


class ScoreModel(BaseModel):
    """A noise-conditional score model s(x, σ) ≈ ∇_x log p_σ(x) (Song & Ermon 2019, NCSN).

    ``score(x, sigma)``: x (N, *data_shape), sigma a float or (N,) tensor -> same shape as x.
    ``sigma_max``/``sigma_min`` (metadata ``score``) bound the noise levels annealed Langevin uses.
    """

    family = "score"

    def __init__(self, net, metadata: dict, device="cpu", sample_data=None):
        super().__init__(net, metadata, device)
        sc = metadata.get("score", {})
        self.sigma_max = float(sc.get("sigma_max", 1.0))
        self.sigma_min = float(sc.get("sigma_min", 0.01))
        self._sample_data = sample_data

    @classmethod
    def from_function(cls, fn, data_shape, *, name: str = "analytic", sigma_max: float = 1.0,
                      sigma_min: float = 0.01, data_range=(-4.0, 4.0), sample_data=None) -> "ScoreModel":
        """Wrap ``fn(x, sigma) -> score`` (sigma a (N,) tensor) as a ScoreModel."""
        class _Fn(nn.Module):
            def forward(self, x, sigma):
                return fn(x, sigma)
        meta = {"name": name, "family": "score", "network": {"class": "function"},
                "data": {"shape": list(data_shape), "range": list(data_range), "dataset": name,
                         "kind": "image" if len(data_shape) == 3 else "vector"},
                "score": {"sigma_max": sigma_max, "sigma_min": sigma_min},
                "sampler": {"name": "annealed", "steps": 500, "steps_per_level": 50}}
        return cls(_Fn(), meta, "cpu", sample_data=sample_data)

    @property
    def default_sampler(self) -> dict:
        return dict(self.metadata.get("sampler", {"name": "annealed", "steps": 500, "steps_per_level": 50}))

    def capabilities(self) -> list[str]:
        return ["chain"] if self.is_image else ["chain", "density"]

    @torch.inference_mode()
    def score(self, x: torch.Tensor, sigma) -> torch.Tensor:
        if not torch.is_tensor(sigma):
            sigma = torch.full((x.shape[0],), float(sigma), device=x.device)
        return self.net(x, sigma)

    def sample_data(self, n: int, generator: torch.Generator) -> torch.Tensor:
        if self._sample_data is None:
            raise ValueError(f"{self.name}: no data samples available for init='data'")
        return self._sample_data(n, generator)


class LatentModel(BaseModel):
    """A decoder from a Gaussian latent z ~ N(0, I) of shape ``latent_shape`` to data (VAE, GAN).

    Seed s maps to the latent ``z_s = torch.randn(latent_shape, generator=torch.Generator().manual_seed(s))``
    (``prior_latent(1, s)[0]``); the ``decode`` sampler (``genviz sample CKPT --n 1 --seed s``) and
    every interpolation path decode exactly this latent.
    """

    family = "latent"

    def __init__(self, net: nn.Module, metadata: dict, device="cpu"):
        super().__init__(net, metadata, device)
        shape = metadata.get("latent", {}).get("shape")
        if shape is None:
            shape = [int(net.latent_dim)] if hasattr(net, "latent_dim") else None
        if not shape or not all(isinstance(s, int) and s > 0 for s in shape):
            raise ValueError(f"latent.shape must be a list of positive integers, got {shape!r}")
        self.latent_shape = tuple(shape)

    @property
    def default_sampler(self) -> dict:
        return dict(self.metadata.get("sampler", {"name": "decode", "steps": 1}))

    def capabilities(self) -> list[str]:
        return ["interpolation"]

    def prior_latent(self, n: int = 1, seed: int = 0, generator: torch.Generator | None = None) -> torch.Tensor:
        """(n, *latent_shape) z ~ N(0, I): one ``torch.randn`` draw on a CPU generator seeded ``seed``.

        n = 1 gives exactly z_seed. (For n > 1, row 0 is *not* z_seed in general: torch's CPU ``randn``
        fills tensors of 16 or more elements with a different, vectorised algorithm.)
        """
        g = generator if generator is not None else torch.Generator().manual_seed(int(seed))
        return torch.randn((n, *self.latent_shape), generator=g)

    def _check_z(self, z: torch.Tensor) -> torch.Tensor:
        if tuple(z.shape[1:]) != self.latent_shape:
            raise ValueError(f"latent has shape {tuple(z.shape)}, expected (N, {', '.join(map(str, self.latent_shape))})")
        return z.to(self.device, torch.float32)

    def decode(self, z: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError


class VAEModel(LatentModel):
    """A variational autoencoder (Kingma & Welling 2014).

    ``encode(x)``: (N, *data_shape) model space -> (μ, log σ²), each (N, *latent_shape): q(z|x) = N(μ, σ²).
    ``decode(z)``: (N, *latent_shape) -> (N, *data_shape) in model space: the mean of p(x|z)
    (for the Bernoulli likelihood, sigmoid(logits) mapped from [0, 1] to the data range).
    Raises ValueError on a wrongly shaped input.
    """

    family = "vae"

    @torch.inference_mode()
    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if tuple(x.shape[1:]) != self.data_shape:
            raise ValueError(f"image has shape {tuple(x.shape)}, expected (N, {', '.join(map(str, self.data_shape))})")
        mu, logvar = self.net.encode(x.to(self.device, torch.float32))
        return mu, logvar

    @torch.inference_mode()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        logits = self.net.decode_logits(self._check_z(z))
        return self.from_unit(torch.sigmoid(logits))


class GANModel(LatentModel):
    """A GAN generator G: z ~ N(0, I) -> x (Goodfellow et al. 2014; DCGAN, Radford et al. 2016).

    ``generate(z)`` (alias ``decode``): (N, *latent_shape) -> (N, *data_shape) in model space. The
    network runs in eval mode (BatchNorm uses stored statistics), so an image does not depend on the
    batch it is generated in. A GAN has no encoder: ``encode`` raises ValueError.
    """

    family = "gan"

    @torch.inference_mode()
    def generate(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(self._check_z(z))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.generate(z)

    def encode(self, x):
        raise ValueError(f"{self.name}: a GAN has no encoder; real images can be endpoints for a VAE "
                         "(encoder) or a diffusion model (DDIM inversion)")


def toy_data_sampler(metadata: dict):
    """``sample(n, generator) -> (n, 2)`` for a 2-D toy checkpoint's dataset (metadata ``data.dataset``
    and ``data.params``), or None when the dataset is not a known toy."""
    data = metadata.get("data", {})
    from .toy.datasets import DATASETS, make_dataset
    if data.get("dataset") not in DATASETS or list(data.get("shape", [])) != [2]:
        return None
    ds = make_dataset(data["dataset"], **(data.get("params") or {}))
    return lambda n, generator: ds.sample(n, generator=generator)


class FlowModel(BaseModel):
    """A normalizing flow with exact density (Dinh et al. 2017; Durkan et al. 2019, neural spline flows).

    The network maps data x to base noise z ~ N(0, I) invertibly; ``log_prob(x)`` = log N(f(x); 0, I)
    + log|det ∂f/∂x| (change of variables), exact. Sampling pushes z through f⁻¹; the ``flow`` sampler
    yields the state after each inverse layer (``steps`` = number of layers).

    ``log_prob(x)``: (N, *data_shape) -> (N,) nats. ``sample_from(z)``: (N, *data_shape) -> same.
    """

    family = "flow"

    def __init__(self, net, metadata: dict, device="cpu"):
        if not all(hasattr(net, a) for a in ("log_prob", "inverse_layers", "sample_from")):
            raise ValueError(f"network {type(net).__name__} is not supported as a flow model "
                             "(needs log_prob, inverse_layers and sample_from, e.g. ToySplineFlow)")
        super().__init__(net, metadata, device)

    @property
    def n_layers(self) -> int:
        return int(getattr(self.net, "n_layers", 1))

    @property
    def default_sampler(self) -> dict:
        return dict(self.metadata.get("sampler", {"name": "flow", "steps": self.n_layers, "temperature": 1.0}))

    def capabilities(self) -> list[str]:
        return ["chain"] if self.is_image else ["chain", "density"]

    @torch.inference_mode()
    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.log_prob(x.to(self.device))

    @torch.inference_mode()
    def sample_from(self, z: torch.Tensor) -> torch.Tensor:
        return self.net.sample_from(z.to(self.device))

    def inverse_layers(self, z: torch.Tensor):
        with torch.inference_mode():
            yield from self.net.inverse_layers(z.to(self.device))

    @property
    def latent_shape(self) -> tuple:
        """The base space has the data's shape (a flow is a bijection)."""
        return tuple(self.data_shape)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """x = f⁻¹(z): (N, *data_shape) base noise to data (what interpolation decodes)."""
        return self.sample_from(z)

    @torch.inference_mode()
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """z = f(x): (N, *data_shape) data to base noise; ValueError for a network without ``encode``."""
        if not callable(getattr(self.net, "encode", None)):
            raise ValueError(f"{self.name}: this flow network cannot map data to its base space")
        return self.net.encode(x.to(self.device))

    def sample_data(self, n: int, generator: torch.Generator) -> torch.Tensor:
        toy = toy_data_sampler(self.metadata)
        if toy is None:
            raise ValueError(f"{self.name}: no data samples available for init='data'")
        return toy(n, generator)


class ToyVAEModel(VAEModel):
    """A 2-D toy VAE (``ToyVAE`` network): Gaussian decoder p(x|z) = N(dec(z), obs_std² I), so ``decode``
    returns the decoder mean in data units (no sigmoid), and ``elbo(x)`` -> (N,) nats is a lower bound
    on log p(x) (Kingma & Welling 2014, Eq. 3), averaged over ``k`` fixed-seed posterior draws."""

    def __init__(self, net, metadata: dict, device="cpu"):
        if not all(hasattr(net, a) for a in ("latent_dim", "decode", "elbo")):
            raise ValueError(f"network {type(net).__name__} is not supported as a toy vae model "
                             "(needs latent_dim, decode and elbo, e.g. ToyVAE)")
        super().__init__(net, metadata, device)

    def capabilities(self) -> list[str]:
        return ["density"]

    @torch.inference_mode()
    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.net.encode(x.to(self.device, torch.float32))

    @torch.inference_mode()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.net.decode(self._check_z(z))

    @torch.inference_mode()
    def elbo(self, x: torch.Tensor, k: int = 8) -> torch.Tensor:
        return self.net.elbo(x.to(self.device), k=k, generator=torch.Generator().manual_seed(0))

    def sample_data(self, n: int, generator: torch.Generator) -> torch.Tensor:
        toy = toy_data_sampler(self.metadata)
        if toy is None:
            raise ValueError(f"{self.name}: no data samples available for init='data'")
        return toy(n, generator)


class ToyGANModel(GANModel):
    """A 2-D toy GAN (``ToyGAN`` network: generator and discriminator). No density; ``discriminate(x)``
    -> (N,) logits of D (Goodfellow et al. 2014)."""

    def __init__(self, net, metadata: dict, device="cpu"):
        if not all(hasattr(net, a) for a in ("latent_dim", "generate", "discriminate")):
            raise ValueError(f"network {type(net).__name__} is not supported as a toy gan model "
                             "(needs latent_dim, generate and discriminate, e.g. ToyGAN)")
        super().__init__(net, metadata, device)

    def capabilities(self) -> list[str]:
        return ["density"]

    def elbo(self, x, k: int = 8):
        raise ValueError(f"a {self.family} model has no density or ELBO")

    @torch.inference_mode()
    def discriminate(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.discriminate(x.to(self.device))

    sample_data = ToyVAEModel.sample_data
