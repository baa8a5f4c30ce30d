"""The one registry of model families: what each family can do, declared once, with no Qt.

A family is declared by one ``register_family(FamilySpec(...))`` call next to its model class. Everything
else derives from it:

- the checkpoint loader (``checkpoints.load_checkpoint``) picks the model class and the network class named
  in a checkpoint's metadata from ``FAMILIES`` (and refuses any other);
- ``samplers_for(model)`` matches each ``SamplerSpec``'s ``kind``/``requires`` against ``model.traits``;
- the GUI's panel registry (``genviz.panels.PANELS``) decides from the traits which panels a model gets,
  and the checkpoint dock's "Can do" line is that same decision.

Traits describe what the model object offers (methods a sampler or a panel may call), not how it was trained.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # families.base imports this module
    from .families.base import BaseModel


@dataclass(frozen=True)
class Traits:
    """What a model family can do (Qt-free, one frozen record per family).

    Attributes:
        sampler_kinds: the ``SamplerSpec.kind`` values that step it (``samplers.base.KINDS``).
        eps: has ε̂(x_t, t) (``predict_eps``) on a discrete timestep grid (diffusion models).
        energy: has an energy E(x) (``energy``), so MALA's accept test and energy plots apply.
        score: has ∇log p (``score``), the drift of Langevin samplers.
        density: has an exact log p(x) (``log_prob``), e.g. normalizing flows.
        elbo: has a lower bound on log p(x) (``elbo``), e.g. toy VAEs.
        discriminator: has a discriminator D(x) (``discriminate``), e.g. toy GANs.
        latent: has a latent space that decodes to data (``prior_latent``/``decode``, or the DDIM latent of a
            diffusion model): interpolation applies.
        encoder: maps data to its latent (``encode``, or DDIM inversion), so real images can be endpoints.
        sdedit: can be conditioned on a drawing (SDEdit, masks: ``genviz.backend.conditioning``).
        classifier: is a classifier p(y | x) (``probs``), a judge rather than a generator.
    """

    sampler_kinds: frozenset = frozenset()
    eps: bool = False
    energy: bool = False
    score: bool = False
    density: bool = False
    elbo: bool = False
    discriminator: bool = False
    latent: bool = False
    encoder: bool = False
    sdedit: bool = False
    classifier: bool = False

    def flags(self) -> list[str]:
        """The names of the boolean traits that are set, in declaration order."""
        return [f.name for f in fields(self) if f.name != "sampler_kinds" and getattr(self, f.name)]

    def to_dict(self) -> dict:
        """JSON-ready form: ``{"sampler_kinds": [...], "flags": [...]}``."""
        return {"sampler_kinds": sorted(self.sampler_kinds), "flags": self.flags()}


def traits(*kinds: str, **flags: bool) -> Traits:
    """``Traits(sampler_kinds=frozenset(kinds), **flags)``: the short form used in family declarations."""
    return Traits(sampler_kinds=frozenset(kinds), **flags)


@dataclass(frozen=True)
class FamilySpec:
    """A model family: its metadata name, model class, the network classes its checkpoints may name,
    and, per network class, a more specific model class (e.g. the 2-D toy VAE with an ELBO).

    The model class carries the family's ``TRAITS`` (a class attribute), so a subclass for one network
    (``variants``) may add traits. Attributes:
        name: the ``family`` value in checkpoint metadata, e.g. ``"diffusion"``.
        title: a plain-words name for lists, e.g. ``"Diffusion model (DDPM/DDIM)"``.
        model_class: the ``families.BaseModel`` subclass built for it.
        networks: network class name -> a zero-argument callable returning the ``nn.Module`` class
            (lazy, so declaring a family imports no network code).
        variants: network class name -> model class to use instead of ``model_class``.
    """

    name: str
    title: str
    model_class: type[BaseModel]
    networks: dict = field(default_factory=dict)
    variants: dict[str, type[BaseModel]] = field(default_factory=dict)

    def model_class_for(self, network: str) -> type[BaseModel]:
        """The model class for a checkpoint of this family with network class ``network``."""
        return self.variants.get(network, self.model_class)

    def network_class(self, network: str):
        """The ``nn.Module`` class called ``network``; KeyError when this family does not load it."""
        return self.networks[network]()

    def all_traits(self) -> list[Traits]:
        """The traits of the model class and of every variant."""
        return [self.model_class.TRAITS, *(c.TRAITS for c in self.variants.values())]


FAMILIES: dict[str, FamilySpec] = {}


def register_family(spec: FamilySpec) -> FamilySpec:
    """Add (or extend: same name, new networks) a family in ``FAMILIES``; returns the stored spec."""
    old = FAMILIES.get(spec.name)
    if old is not None and old.model_class is not spec.model_class:
        raise ValueError(f"family {spec.name!r} is already registered with {old.model_class.__name__}")
    if old is not None:
        spec = replace(old, networks={**old.networks, **spec.networks}, variants={**old.variants, **spec.variants})
    FAMILIES[spec.name] = spec
    return spec


def get_family(name) -> FamilySpec:
    """The family called ``name``; ValueError lists the known ones."""
    _load_builtin()
    try:
        return FAMILIES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown family {name!r} (known: {', '.join(FAMILIES)})") from None


def family_names() -> tuple:
    """Names of all registered families."""
    _load_builtin()
    return tuple(FAMILIES)


# Modules whose import registers families (each calls ``register_family``). A new family adds its module here.
FAMILY_MODULES = ("genviz.backend.families", "genviz.backend.ddgan", "genviz.backend.toy_ddgan", "genviz.backend.glf",
                  "genviz.backend.vaebm", "genviz.backend.autoregressive", "genviz.backend.rbm")


def _load_builtin() -> None:
    import importlib
    for mod in FAMILY_MODULES:
        importlib.import_module(mod)
