"""Energy-based models and noise-conditional score models: the families Langevin samplers step."""
from __future__ import annotations

import torch
from torch import nn

from ..registry import FamilySpec, register_family, traits
from .base import BaseModel, toy_data_sampler


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
    TRAITS = traits("langevin", energy=True, score=True)

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
            from ..data import load_mnist, to_model_space
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
    TRAITS = traits("langevin", "annealed", score=True)

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


    @torch.inference_mode()
    def score(self, x: torch.Tensor, sigma) -> torch.Tensor:
        if not torch.is_tensor(sigma):
            sigma = torch.full((x.shape[0],), float(sigma), device=x.device)
        return self.net(x, sigma)

    def sample_data(self, n: int, generator: torch.Generator) -> torch.Tensor:
        if self._sample_data is None:
            raise ValueError(f"{self.name}: no data samples available for init='data'")
        return self._sample_data(n, generator)


def _conv_energy():
    from ..nets.energy import ConvEnergy
    return ConvEnergy


def _toy_energy():
    from ..nets.toy import ToyEnergyMLP
    return ToyEnergyMLP


register_family(FamilySpec("ebm", "Energy-based model (Langevin)", EnergyModel,
                           networks={"ConvEnergy": _conv_energy, "ToyEnergyMLP": _toy_energy}))
register_family(FamilySpec("score", "Score model (NCSN, annealed Langevin)", ScoreModel))
