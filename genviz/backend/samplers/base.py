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
        state: what a branch from this record needs besides ``x`` to continue exactly (a diffusers scheduler's
            deep-copied history, ``samplers.schedulers``; pass it as ``api.chain(resume=...)``), or None.
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
    state: Any = None


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
        except OverflowError:  # int(inf)
            raise ValueError(f"{self.name} must be finite, got {value!r}") from None
        except (TypeError, ValueError):
            raise ValueError(f"{self.name} must be a {self.kind}, got {value!r}") from None
        if self.kind == "choice" and value not in self.choices:
            raise ValueError(f"{self.name} must be one of {', '.join(map(str, self.choices))}, got {value!r}")
        if self.kind in ("int", "float"):
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError(f"{self.name} must be finite, got {value!r}")
            if abs(value) > 1e12:  # no parameter of any sampler means anything out there (absurd values: issue 20)
                raise ValueError(f"{self.name} must be within ±1e12, got {value!r}")
            if self.minimum is not None and value < self.minimum:
                raise ValueError(f"{self.name} must be >= {self.minimum}, got {value!r}")
            if self.maximum is not None and value > self.maximum:
                raise ValueError(f"{self.name} must be <= {self.maximum}, got {value!r}")
        return value


KINDS = ("denoising", "langevin", "annealed", "flow", "decode", "ddgan", "autoregressive", "gibbs", "vaebm")
"""Sampler kinds. A family's ``Traits.sampler_kinds`` says which kinds step it; a sampler has one kind:

- ``denoising``: reverse diffusion over a timestep grid (DDPM, DDIM, ODE, PC, SDE); needs ε̂(x_t, t).
- ``langevin``: a Markov chain driven by ∇log p(x) (ULA, MALA, gradient flow); needs a score or an energy.
- ``annealed``: Langevin over decreasing noise levels (NCSN); needs a noise-conditional score.
- ``flow``: the inverse layers of a normalizing flow.
- ``decode``: one decoder call on a prior latent (VAE, GAN).
- ``ddgan``: the denoising diffusion GAN's few large steps (Xiao et al. 2022).
- ``autoregressive``: one pixel (or row) of p(x_i | x_<i) per step, in raster order (PixelCNN).
- ``gibbs``: one block Gibbs sweep h ~ p(h | v), v ~ p(v | h) per step (restricted Boltzmann machines).
- ``vaebm``: Langevin in a VAEBM's noise space ε (or its (x, z) space), drift and noise (Xiao et al. 2021).
"""


@dataclass(frozen=True)
class SamplerSpec:
    """A registered sampler: the one declaration of its name, kind, parameters, words and plots.

    Everything else is derived from it: the CLI's flags (from ``params``), the chain panel's form and
    plots (``params``, ``plot_keys``), the captions (``caption``) and which models it runs on (``kind`` and
    ``requires`` against each family's ``Traits``; ``families()`` lists them).

    ``fn`` is a generator function of ``ChainStep``: ``fn(model, x_init, timesteps, *, generator,
    **params)`` when ``grid == "timesteps"`` (denoising samplers), ``fn(model, x_init, *, steps, generator,
    **params)`` when ``grid == "steps"`` (Langevin-type), or ``fn(model, z, *, steps, generator, **params)``
    with z (N, *model.latent_shape) drawn from the prior when ``grid == "latent"``.

    Attributes:
        name: what ``--sampler`` takes, e.g. ``"ddim"``.
        title: the name users know, e.g. ``"DDIM"``.
        kind: one of ``KINDS``.
        fn: the generator function above.
        params: its ``Param`` declarations (typed, ranged, with help).
        stochastic: True when the seed changes the chain beyond x_init.
        description: one line with the paper, for lists and tooltips.
        caption: what one step does, in everyday words (completes "the model …"), for captions.
        plot_keys: the per-step figures the chain panel plots (``ChainStep.stats`` keys, plus ``"t"``,
            ``"energy"``, ``"grad_norm"``, ``"accept"``, ``"sigma"``); ``"energy"`` is dropped for models
            without an energy. ``None``: derived from ``grid`` (denoising: t, ‖x_t‖, ‖ε̂‖; others ‖∇‖, ‖x‖).
        requires: ``Traits`` flags the model must have besides the kind (e.g. ``("energy",)`` for MALA).
        grid: how ``fn`` is called (above).
        info: further facts ``genviz samplers --json`` lists (a wrapped diffusers scheduler's
            ``diffusers_class`` and ``diffusers_config``).
    """

    name: str
    title: str
    kind: str
    fn: Callable[..., Iterator[ChainStep]]
    params: tuple
    stochastic: bool
    description: str = ""
    caption: str = ""
    plot_keys: tuple | None = None
    requires: tuple = ()
    grid: str = "timesteps"
    info: dict = field(default_factory=dict, hash=False, compare=False)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"sampler {self.name!r}: unknown kind {self.kind!r} (known: {', '.join(KINDS)})")
        if self.grid not in ("timesteps", "steps", "latent"):
            raise ValueError(f"sampler {self.name!r}: unknown grid {self.grid!r}")

    def param(self, name: str) -> Param:
        """The parameter called ``name``; KeyError when this sampler has none."""
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def defaults(self) -> dict:
        """Parameter name -> default value."""
        return {p.name: p.default for p in self.params}

    @property
    def moves_by_drift(self) -> bool:
        """True for Langevin-type kinds (a step is drift + noise on x; the chain panel shows that split); False
        for samplers that predict the clean sample x̂₀ at each step (denoising, DDGAN, flow, decode)."""
        return self.kind in ("langevin", "annealed", "vaebm")

    def runs_on(self, traits) -> bool:
        """True when a model with these ``Traits`` can be sampled by this sampler."""
        return self.kind in traits.sampler_kinds and all(getattr(traits, r) for r in self.requires)

    def families(self) -> tuple:
        """Names of the registered families (``genviz.backend.registry.FAMILIES``) this sampler runs on."""
        from ..registry import family_names, get_family
        return tuple(n for n in family_names() if any(self.runs_on(t) for t in get_family(n).all_traits()))

    def plots(self, has_energy: bool = False, has_classifier: bool = False) -> tuple:
        """The per-step figures for a chain of this sampler: ``plot_keys`` (or the grid's default), without
        ``"energy"`` unless the model has one, plus ``"p_final"`` for digit models (a classifier judges them)."""
        keys = list(self.plot_keys if self.plot_keys is not None else
                    (("t", "x_norm", "eps_norm") if self.grid == "timesteps" else ("energy", "grad_norm", "x_norm")))
        if not has_energy and "energy" in keys:
            keys.remove("energy")
        if has_classifier:
            keys.append("p_final")
        return tuple(keys)


SAMPLERS: dict[str, SamplerSpec] = {}


def register(spec: SamplerSpec) -> SamplerSpec:
    """Add ``spec`` to ``SAMPLERS`` (the one registry); ValueError when the name is taken."""
    if spec.name in SAMPLERS and SAMPLERS[spec.name] is not spec:
        raise ValueError(f"a sampler called {spec.name!r} is already registered")
    SAMPLERS[spec.name] = spec
    return spec


def get_sampler(name: str) -> SamplerSpec:
    """Return the registered sampler ``name``; ValueError lists the known ones."""
    try:
        return SAMPLERS[name]
    except KeyError:
        raise ValueError(f"unknown sampler {name!r}; available: {', '.join(sorted(SAMPLERS))}") from None


def samplers_for(model) -> list[SamplerSpec]:
    """The samplers that can run on ``model``: those whose kind and requirements its ``traits`` meet."""
    traits = model.traits
    return [s for s in SAMPLERS.values() if s.runs_on(traits)]
