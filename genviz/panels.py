"""The one list of panels (Qt-free): key, title, widget class and which models each panel supports.

The main window builds its tabs from ``PANELS``; presets, sessions, screenshots, demo mode and the checkpoint
dock's "Can do" line iterate it; each panel asks its own spec (``get_panel(key).why_not(model)``) whether the
loaded model fits. A panel's decision uses only the model's data shape, its ``traits``
(``genviz.backend.registry.Traits``) and the samplers that run on it, so a new family gets the right panels
by declaring its traits, and a new panel is one ``PanelSpec`` here plus its widget class.

Every panel widget class implements the same small protocol (see CONTRIBUTING.md, "Add a panel"):
``__init__(engine)``, a ``message(str, bool)`` signal, ``set_model(loaded)``, ``run_default(batch) -> bool``,
``default_done() -> bool``, ``session_state() -> dict``, ``restore_session(state, on_done)``,
``advanced_controls() -> dict``, ``run()``, ``refresh()`` (redraw now, for screenshots) and ``shutdown()``
(``Panel`` below). Presentation mode also calls ``set_presenting(on: bool, scale: float)`` where a panel has it
(``genviz.gui.presentation``): on, draw captions, titles and plot text ``scale`` times larger (2.0 at 1920×1080),
widen control columns to their texts, give images the room; off (scale 1), give back every size it changed.
A panel without it gets the generic part (every pyqtgraph plot and caption in it, scaled).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable, Protocol, runtime_checkable


@runtime_checkable
class Panel(Protocol):
    """What every panel widget class implements (checked by ``tests/backend/test_registry.py``)."""

    def set_model(self, loaded) -> None: ...
    def supported(self) -> bool: ...
    def run(self) -> None: ...
    def run_default(self, batch: int = 16) -> bool: ...
    def default_done(self) -> bool: ...
    def session_state(self) -> dict: ...
    def restore_session(self, data: dict, on_done=None) -> None: ...
    def advanced_controls(self) -> dict: ...
    def refresh(self) -> None: ...
    def set_presenting(self, on: bool, scale: float = 1.0) -> None: ...
    def shutdown(self) -> None: ...


PROTOCOL = tuple(n for n in Panel.__dict__ if not n.startswith("_"))


REMOTE_PANELS = ("chain", "fewsteps", "dynamics")  # the panels that work on a model served by `genviz serve` (genviz.remote)


@dataclass(frozen=True)
class PanelSpec:
    """One panel: ``key`` (what ``--panel`` and presets name), ``title`` (the tab), ``widget`` (the Qt class as
    ``"module:Class"``, imported only when a window is built) and ``check(model) -> str | None`` (None when the
    panel supports the model, else one sentence saying why not, for the panel's notice)."""

    key: str
    title: str
    widget: str
    check: Callable[[object], str | None]
    summary: str = ""

    def supports(self, model) -> bool:
        """True when this panel can show ``model`` (a backend model; False for None)."""
        return model is not None and self.why_not(model) is None

    def why_not(self, model) -> str | None:
        """None when the panel supports ``model``, else the reason in one sentence."""
        if model is None:
            return "No model is loaded."
        if getattr(model, "remote", False) and self.key not in REMOTE_PANELS:  # a model on a genviz server
            return (f"{model.name} runs on the server {model.server}: the {self.title} panel needs a local model "
                    "(File ▸ Disconnect from server, then load it here).")
        return self.check(model)

    def widget_class(self) -> type:
        """Import and return the panel's Qt widget class."""
        module, _, name = self.widget.partition(":")
        return getattr(importlib.import_module(module), name)


def _shape(model) -> str:
    return "×".join(map(str, model.data_shape)) or "scalar"


def _chain(model) -> str | None:
    from .backend.samplers import samplers_for
    steppable = [s for s in samplers_for(model) if s.kind != "decode"]
    if not model.is_image:
        return (f"{model.name} has {_shape(model)} vector data: its chains run as moving particles in the "
                "Density panel.")
    if not steppable:
        return (f"{model.name} is a {model.family} model: no chain sampler steps it (it makes an image in one "
                "decoder call; see the Interpolation panel).")
    return None


def _interpolation(model) -> str | None:
    if not model.is_image:
        return f"{model.name} has {_shape(model)} vector data: interpolation shows image models."
    if not model.traits.latent:
        return f"{model.name} is a {model.family} model: it has no latent space to walk through."
    return None


def _density(model) -> str | None:
    t = model.traits
    if tuple(model.data_shape) != (2,):
        return f"{model.name} has {_shape(model)} data: the density lab shows 2-D models."
    if not (t.density or t.energy or t.score or t.elbo or t.discriminator or "ddgan" in t.sampler_kinds):
        return f"{model.name} is a {model.family} model with no density, energy, score or discriminator to draw."
    return None


def _canvas(model) -> str | None:
    if not model.is_image:
        return f"{model.name} has {_shape(model)} vector data: the canvas draws images."
    if not model.traits.sdedit:
        return (f"{model.name} is a {model.family} model: turning a drawing into images needs a diffusion model "
                "(SDEdit), a denoising diffusion GAN, or an autoregressive model or RBM (filling masked pixels).")
    return None


def _compare(model) -> str | None:
    from .backend.samplers import samplers_for
    if not model.is_image:
        return f"{model.name} has {_shape(model)} vector data: the sampler grid shows images."
    if not any(s.kind == "denoising" for s in samplers_for(model)):
        return (f"{model.name} is a {model.family} model: the sampler grid compares denoising samplers "
                "(DDIM, Euler, DPM++, ...) on a diffusion model.")
    return None


def _fewsteps(model) -> str | None:
    """A teaching view (1-D toy data, no network): it fits every model."""
    return None


def _vaebm(model) -> str | None:
    if "vaebm" not in model.traits.sampler_kinds:
        return (f"{model.name} is a {model.family} model: the before/after view shows a VAEBM's samples before and "
                "after its Langevin steps in the VAE's noise space.")
    if not model.is_image:
        return f"{model.name} has {_shape(model)} vector data: its chains run as moving particles in the Density panel."
    return None


def _dynamics(model) -> str | None:
    """A teaching view (the 2-D Dirac-GAN, no network): it fits every model."""
    return None


PANELS: tuple[PanelSpec, ...] = (
    PanelSpec("chain", "Chain", "genviz.gui.panels.chain:ChainPanel", _chain,
              "step a denoising or Langevin chain, scrub back and branch"),
    PanelSpec("interpolation", "Interpolation", "genviz.gui.panels.interpolation:InterpolationPanel",
              _interpolation, "walk a latent line or grid between samples or real images"),
    PanelSpec("density", "Density", "genviz.gui.panels.density:DensityPanel", _density,
              "density, score field and moving particles of a 2-D model; train one live"),
    PanelSpec("canvas", "Canvas", "genviz.gui.panels.canvas:CanvasPanel", _canvas,
              "draw strokes and let a diffusion model turn them into images"),
    PanelSpec("vaebm", "Before/after", "genviz.gui.panels.vaebm.panel:VAEBMPanel", _vaebm,
              "a VAEBM's VAE samples and the same samples after K Langevin steps in ε, K on a slider"),
    PanelSpec("compare", "Samplers", "genviz.gui.panels.compare:ComparePanel", _compare,
              "samplers × step counts from one seed: final digits, every chain's curves, which needs fewest steps"),
    PanelSpec("fewsteps", "Few steps", "genviz.gui.panels.fewsteps:FewStepsPanel", _fewsteps,
              "why a few big denoising steps need a GAN: the true step vs a Gaussian for 1000, 100, 8, 4 steps"),
    PanelSpec("dynamics", "GAN dynamics", "genviz.gui.panels.dynamics:DynamicsPanel", _dynamics,
              "why GAN training circles: the Dirac-GAN's vector field, gradient steps and their stability (R1, CLC)"),
)


def panel_keys() -> tuple[str, ...]:
    """The panels' keys in tab order."""
    return tuple(p.key for p in PANELS)


def get_panel(key: str) -> PanelSpec:
    """The panel called ``key``; ValueError lists the known ones."""
    for p in PANELS:
        if p.key == key:
            return p
    raise ValueError(f"unknown panel {key!r}; expected one of {', '.join(panel_keys())}")


def panels_for(model) -> list[PanelSpec]:
    """The panels that support ``model``, in tab order (the checkpoint dock's "Can do")."""
    return [p for p in PANELS if p.supports(model)]
