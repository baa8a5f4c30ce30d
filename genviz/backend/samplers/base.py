"""What every sampler shares: the per-step record, parameter specs and the sampler registry."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import torch


@dataclass
class ChainStep:
    """One record of a chain.

    A chain of ``steps`` steps yields ``steps + 1`` records: record 0 is the initial state
    (``x`` = x_init, no prediction), record i (1..steps) the state after step i.

    Attributes:
        index: 0..steps.
        steps: total number of steps of this chain.
        t: the timestep the network was evaluated at in this step (training units 0..T-1; for record
            0, the timestep of x_init). ``None`` where the sampler has no timestep.
        t_next: timestep of the output state ``x`` (−1 = clean data).
        sigma: noise level of the output state, σ = √((1−ᾱ)/ᾱ) (0 for clean data).
        x: (N, *data_shape) the state after this step (x_{t_next}), model space, on the model's device.
        x0_hat: (N, *data_shape) the step's prediction of the clean sample (None for record 0).
        eps_hat: (N, *data_shape) the network's ε̂ at this step (None for record 0).
        noise: (N, *data_shape) the noise term added in this step (already scaled), or None.
        drift: (N, *data_shape) the deterministic (gradient) term of the update, for Langevin-type
            samplers (x_new = x + drift + noise before any accept/reject), or None.
        level: for annealed samplers, the index of the noise level (0-based), else None.
        stats: per-step figures as (N,) tensors or floats, e.g. ``x_norm``, ``eps_norm``.
    """

    index: int
    steps: int
    t: Any
    t_next: Any
    sigma: float
    x: torch.Tensor
    x0_hat: torch.Tensor | None = None
    eps_hat: torch.Tensor | None = None
    noise: torch.Tensor | None = None
    drift: torch.Tensor | None = None
    level: int | None = None
    stats: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Param:
    """A sampler parameter, described for the GUI and the CLI.

    ``kind`` is ``"int"``, ``"float"``, ``"bool"`` or ``"choice"``; ``minimum``/``maximum`` bound
    numbers; ``choices`` lists the allowed values of a choice.
    """

    name: str
    kind: str
    default: Any
    help: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple = ()

    def validate(self, value):
        """Return ``value`` converted to this kind; raise ValueError when it is out of range."""
        try:
            if self.kind == "int":
                value = int(value)
            elif self.kind == "float":
                value = float(value)
            elif self.kind == "bool":
                if isinstance(value, str):
                    if value.lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                        raise ValueError
                    value = value.lower() in ("1", "true", "yes", "on")
                else:
                    value = bool(value)
        except (TypeError, ValueError):
            raise ValueError(f"{self.name} must be a {self.kind}, got {value!r}") from None
        if self.kind == "choice" and value not in self.choices:
            raise ValueError(f"{self.name} must be one of {', '.join(map(str, self.choices))}, got {value!r}")
        if self.kind in ("int", "float"):
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError(f"{self.name} must be finite, got {value!r}")
            if self.minimum is not None and value < self.minimum:
                raise ValueError(f"{self.name} must be >= {self.minimum}, got {value!r}")
            if self.maximum is not None and value > self.maximum:
                raise ValueError(f"{self.name} must be <= {self.maximum}, got {value!r}")
        return value


@dataclass(frozen=True)
class SamplerSpec:
    """A registered sampler: its name, which families it serves, its parameters and its function.

    ``fn`` is a generator function of ``ChainStep``: ``fn(model, x_init, timesteps, *, generator,
    **params)`` when ``grid == "timesteps"`` (denoising samplers on diffusion models), or
    ``fn(model, x_init, *, steps, generator, **params)`` when ``grid == "steps"`` (Langevin-type).
    """

    name: str
    title: str
    families: tuple
    fn: Callable[..., Iterator[ChainStep]]
    params: tuple
    stochastic: bool
    description: str = ""
    grid: str = "timesteps"  # "timesteps": fn(model, x, timesteps, ...); "steps": fn(model, x, steps=..., ...);
    # "latent": fn(model, z, steps=..., ...) with z (N, *model.latent_shape) drawn from the prior

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def defaults(self) -> dict:
        return {p.name: p.default for p in self.params}


SAMPLERS: dict[str, SamplerSpec] = {}


def register(spec: SamplerSpec) -> SamplerSpec:
    SAMPLERS[spec.name] = spec
    return spec


def get_sampler(name: str) -> SamplerSpec:
    """Return the registered sampler ``name``; ValueError lists the known ones."""
    try:
        return SAMPLERS[name]
    except KeyError:
        raise ValueError(f"unknown sampler {name!r}; available: {', '.join(sorted(SAMPLERS))}") from None


def samplers_for(model) -> list[SamplerSpec]:
    """The samplers that can run on ``model`` (by family)."""
    return [s for s in SAMPLERS.values() if model.family in s.families]
