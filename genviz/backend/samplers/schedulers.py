"""diffusers' schedulers as genviz samplers: the library does the arithmetic, genviz steps, records and branches.

One table (``ENTRIES``) names each sampler once: its genviz name (what ``--sampler`` takes), the label users know
from AUTOMATIC1111 / ComfyUI ("Euler a", "DPM++ 2M Karras"), the diffusers class, the keyword arguments genviz
passes to it besides the model's own schedule (``diffusers_config``), its parameters and its paper. Every entry
becomes one ``SamplerSpec`` (``register`` at the bottom); ``genviz samplers --json`` lists the class and config
(``SamplerSpec.info``).

Driving (``step_scheduler``): the scheduler is built from the model's own schedule (its betas as
``trained_betas``, its ``num_train_timesteps`` and ``prediction_type``) plus the entry's config, then
``set_timesteps(steps)``; the loop is diffusers' own: ``x_in = scale_model_input(sample, t)``, one network call
on (x_in, t), ``step(output, t, sample)``. One genviz record per ``step`` call, i.e. per network evaluation: a
second-order scheduler (Heun, DPM2) makes 2·steps − 1 records, its predictor and corrector evaluations in turn.
Every record carries x_t in model space (the variance-preserving state the network sees; Euler-type schedulers
keep x̃ = x_t·√(σ²+1) internally), x̂₀ (the scheduler's ``pred_original_sample``, else x̂₀ from the output) and
``state``: a deep copy of the scheduler after the step and its internal sample, so that a branch from any record
(``api.chain(resume=record.state)``) continues a multistep scheduler with its history restored exactly.
Noise (ancestral and SDE schedulers) comes from the chain's CPU generator, as diffusers draws it.
"""
from __future__ import annotations

import copy
import importlib
import inspect
import math
from dataclasses import dataclass, field
from typing import Iterator

import torch

from .base import ChainStep, Param, SamplerSpec, register

SPACINGS = ("leading", "trailing", "linspace")
STEP_KWARGS = ("eta", "order")  # parameters that go to ``step()``; all others are constructor keywords


def _spacing(default: str = "leading") -> Param:
    return Param("timestep_spacing", "choice", default, "how the chain's timesteps are spread over 0..T-1 "
                 "(diffusers' timestep_spacing; on a cosine schedule, trailing and linspace start at t = T-1, where "
                 "σ is ~2e4 and unclipped x0_hat blows up)", choices=SPACINGS)


def _karras(default: bool) -> Param:
    return Param("use_karras_sigmas", "bool", default, "space the noise levels as Karras et al. 2022, Eq. 5 "
                 "(ρ = 7): more steps at low noise")


def _order(default: int, maximum: int = 3) -> Param:
    return Param("solver_order", "int", default, "the solver's order (how many past model outputs a step uses)",
                 minimum=1, maximum=maximum)


@dataclass(frozen=True)
class Entry:
    """One wrapped scheduler.

    Attributes:
        name: genviz sampler name. label: the name users know. cls: the diffusers class name.
        config: constructor keywords besides the model's schedule (fixed for this entry).
        params: the user-facing options; a parameter named like a constructor keyword is passed to the
            constructor, ``eta``/``order`` to ``step()``.
        paper: one line with the method and its paper. caption: what one step does, in everyday words.
        stochastic: True when the seed changes the chain beyond x_T (ancestral / SDE steps draw noise).
    """

    name: str
    label: str
    cls: str
    paper: str
    caption: str
    config: dict = field(default_factory=dict)
    params: tuple = ()
    stochastic: bool = False


_C1 = "took one step along the denoising path"
ENTRIES: tuple[Entry, ...] = (
    Entry("diffusers-ddpm", "DDPM (diffusers)", "DDPMScheduler", "Ho et al. 2020, Alg. 2: ancestral sampling",
          "removed a little noise and added back fresh noise (DDPM)", params=(_spacing(),), stochastic=True),
    Entry("diffusers-ddim", "DDIM (diffusers)", "DDIMScheduler", "Song et al. 2021, Eq. 12: DDIM, η = 0 is an ODE",
          "jumped along the DDIM path", params=(Param("eta", "float", 0.0, "η: 0 = deterministic, 1 = DDPM-like "
                                                      "noise", minimum=0.0, maximum=10.0), _spacing()), stochastic=True),
    Entry("plms", "PLMS", "PNDMScheduler", "Liu et al. 2022 (PNDM): pseudo linear multistep, 4th order",
          _C1 + " (linear multistep on past ε̂)", config={"skip_prk_steps": True}, params=(_spacing(),)),
    Entry("lms", "LMS", "LMSDiscreteScheduler", "Karras et al. 2022 / Crowson's k-diffusion: linear multistep "
          "on the σ grid", _C1 + " (linear multistep)", params=(
              _karras(False), Param("order", "int", 4, "how many past derivatives a step uses", minimum=1, maximum=4),
              _spacing())),
    Entry("lms-karras", "LMS Karras", "LMSDiscreteScheduler", "LMS on Karras et al. 2022's noise levels",
          _C1 + " (linear multistep)", params=(
              _karras(True), Param("order", "int", 4, "how many past derivatives a step uses", minimum=1, maximum=4),
              _spacing())),
    Entry("euler", "Euler", "EulerDiscreteScheduler", "Karras et al. 2022, Alg. 2 without churn: Euler on the "
          "probability-flow ODE", _C1 + " (Euler)", params=(_karras(False), _spacing())),
    Entry("euler-a", "Euler a", "EulerAncestralDiscreteScheduler", "Euler steps with ancestral noise "
          "(k-diffusion's sample_euler_ancestral; Song et al. 2021)", _C1 + " and added fresh noise (Euler a)",
          params=(_spacing(),), stochastic=True),
    Entry("heun", "Heun", "HeunDiscreteScheduler", "Karras et al. 2022, Alg. 1: Heun's 2nd-order method "
          "(two evaluations per step)", _C1 + " (Heun: a predictor, then a corrector evaluation)",
          params=(_karras(False), _spacing())),
    Entry("dpm2", "DPM2", "KDPM2DiscreteScheduler", "DPM-Solver-2 (Lu et al. 2022) on the σ grid, as k-diffusion",
          _C1 + " (DPM2: a midpoint evaluation, then the full step)", params=(_karras(False), _spacing())),
    Entry("dpm2-karras", "DPM2 Karras", "KDPM2DiscreteScheduler", "DPM2 on Karras et al. 2022's noise levels",
          _C1 + " (DPM2: a midpoint evaluation, then the full step)", params=(_karras(True), _spacing())),
    Entry("dpm2-a", "DPM2 a", "KDPM2AncestralDiscreteScheduler", "DPM2 with ancestral noise (k-diffusion)",
          _C1 + " and added fresh noise (DPM2 a)", params=(_karras(False), _spacing()), stochastic=True),
    Entry("dpm2-a-karras", "DPM2 a Karras", "KDPM2AncestralDiscreteScheduler",
          "DPM2 a on Karras et al. 2022's noise levels", _C1 + " and added fresh noise (DPM2 a)",
          params=(_karras(True), _spacing()), stochastic=True),
    Entry("dpmpp-2m", "DPM++ 2M", "DPMSolverMultistepScheduler", "Lu et al. 2022b (DPM-Solver++), multistep, "
          "2nd order", _C1 + " (DPM++ 2M: reuses the previous x̂₀)", config={"algorithm_type": "dpmsolver++"},
          params=(_karras(False), _order(2), _spacing())),
    Entry("dpmpp-2m-karras", "DPM++ 2M Karras", "DPMSolverMultistepScheduler", "DPM++ 2M on Karras et al. "
          "2022's noise levels", _C1 + " (DPM++ 2M: reuses the previous x̂₀)",
          config={"algorithm_type": "dpmsolver++"}, params=(_karras(True), _order(2), _spacing())),
    Entry("dpmpp-2m-sde", "DPM++ 2M SDE", "DPMSolverMultistepScheduler", "Lu et al. 2022b, the SDE variant "
          "(sde-dpmsolver++)", _C1 + " and added fresh noise (DPM++ 2M SDE)",
          config={"algorithm_type": "sde-dpmsolver++"}, params=(_karras(False), _order(2), _spacing()),
          stochastic=True),
    Entry("dpmpp-2m-sde-karras", "DPM++ 2M SDE Karras", "DPMSolverMultistepScheduler", "DPM++ 2M SDE on Karras "
          "et al. 2022's noise levels", _C1 + " and added fresh noise (DPM++ 2M SDE)",
          config={"algorithm_type": "sde-dpmsolver++"}, params=(_karras(True), _order(2), _spacing()),
          stochastic=True),
    Entry("dpmpp-2s", "DPM++ 2S", "DPMSolverSinglestepScheduler", "Lu et al. 2022b, singlestep (each step's "
          "intermediate evaluations are steps of the chain)", _C1 + " (DPM++ singlestep)",
          config={"algorithm_type": "dpmsolver++"}, params=(_karras(False), _order(2), _spacing())),
    Entry("deis", "DEIS", "DEISMultistepScheduler", "Zhang & Chen 2023: exponential integrator, multistep",
          _C1 + " (DEIS)", params=(_karras(False), _order(2), _spacing())),
    Entry("unipc", "UniPC", "UniPCMultistepScheduler", "Zhao et al. 2023: unified predictor-corrector (bh2)",
          _C1 + " (UniPC: corrects with the new evaluation, then predicts)",
          params=(_karras(False), _order(2), _spacing())),
)
BY_NAME = {e.name: e for e in ENTRIES}


def diffusers_config(entry: Entry, params: dict | None = None) -> dict:
    """The constructor keywords genviz passes to ``entry.cls`` besides the model's schedule: the entry's fixed
    config plus its constructor parameters (``params``, else their defaults)."""
    params = params or {}
    cfg = dict(entry.config)
    for p in entry.params:
        if p.name not in STEP_KWARGS:
            cfg[p.name] = params.get(p.name, p.default)
    return cfg


def schedule_kwargs(model) -> dict:
    """The model's own schedule as diffusers keywords: T, its betas (exactly, as ``trained_betas``) and its
    prediction type (``make_scheduler`` adds ``clip_sample`` for the classes that clip x̂₀)."""
    return {"num_train_timesteps": int(model.num_train_timesteps),
            "trained_betas": model._betas_cpu.double().numpy().tolist(),
            "prediction_type": model.prediction_type}


def make_scheduler(entry: Entry, model, params: dict | None = None):
    """A fresh diffusers scheduler for ``entry`` on ``model``'s schedule (imports diffusers, ~4 s the first time).
    Classes that clip x̂₀ (DDPM, DDIM) clip it to the data range's largest |bound| unless the checkpoint's schedule
    says ``clip_sample: false``; keywords a class does not take are dropped.

    Raises:
        ValueError: diffusers is not installed, or rejects the configuration.
    """
    try:
        mod = importlib.import_module("diffusers")
    except ImportError:
        raise ValueError(f"sampler {entry.name!r} needs the 'diffusers' package (pip install diffusers)") from None
    cls = getattr(mod, entry.cls)
    kw = {**schedule_kwargs(model), **diffusers_config(entry, params)}
    accepted = inspect.signature(cls.__init__).parameters
    if "clip_sample" in accepted:
        kw["clip_sample"] = bool(model.metadata.get("schedule", {}).get("clip_sample", True))
        lo, hi = model.data_range
        kw["clip_sample_range"] = float(max(abs(lo), abs(hi)))
    try:
        return cls(**{k: v for k, v in kw.items() if k in accepted})
    except (ValueError, TypeError, NotImplementedError) as e:
        raise ValueError(f"{entry.label}: diffusers refused the configuration ({e})") from None


def set_timesteps(sched, model, steps: int, settings: dict) -> None:
    """``sched.set_timesteps(steps)`` as a pipeline calls it, then ``set_begin_index(0)`` where the scheduler
    has one (its step index then counts calls instead of looking t up: Karras σ on a cosine schedule round to
    repeated integer timesteps, where the lookup goes wrong). A scheduler without a ``timestep_spacing``
    option (DPM-Solver singlestep) gets the grid of ``make_timesteps(T, steps, timestep_spacing)`` explicitly."""
    from .denoising import make_timesteps
    if "timestep_spacing" not in sched.config and "timesteps" in inspect.signature(sched.set_timesteps).parameters:
        ts = make_timesteps(model.num_train_timesteps, steps, settings.get("timestep_spacing", "leading"))
        sched.set_timesteps(timesteps=ts, device=model.device)
    else:
        sched.set_timesteps(steps, device=model.device)
    if hasattr(sched, "set_begin_index"):
        sched.set_begin_index(0)


def _static_memo(sched) -> dict:
    """id -> object for what stays fixed after ``set_timesteps`` (schedule tensors, the config): snapshots
    share these instead of copying them, so a record's state costs only the scheduler's history."""
    memo = {id(v): v for v in vars(sched).values() if torch.is_tensor(v)}
    memo[id(sched.config)] = sched.config
    return memo


def _snapshot(sched, memo: dict, sample: torch.Tensor | None, index: int, name: str, settings: dict) -> dict:
    """A record's ``state``: the scheduler deep-copied (sharing ``memo``'s fixed tensors), its internal sample
    (None where that is the record's x itself: variance-preserving schedulers), the next call's index."""
    return {"sampler": name, "settings": settings, "scheduler": copy.deepcopy(sched, dict(memo)),
            "memo": memo, "sample": sample, "index": index}


def _norms(v: torch.Tensor) -> torch.Tensor:
    return v.flatten(1).norm(dim=1)


def _acp_of(sched, j: int, t, model) -> float:
    """ᾱ of call j: from the scheduler's σ grid where it has one (σ² = (1−ᾱ)/ᾱ), else ᾱ of integer t."""
    sig = getattr(sched, "sigmas", None)
    if sig is not None and j < len(sig) and not hasattr(sched, "sigmas_interpol"):
        s = float(sig[j])
        return 1.0 / (1.0 + s * s)
    return float(model._acp_cpu[min(max(int(round(float(t))), 0), model.num_train_timesteps - 1)])


def _x0_eps(model, x_in, out, a: float):
    """(x̂₀, ε̂) from the network's raw output at ᾱ = a, by the model's prediction type (Salimans & Ho 2022)."""
    sa, s1 = math.sqrt(a), math.sqrt(max(1.0 - a, 1e-20))
    if model.prediction_type == "epsilon":
        eps = out
        return (x_in - s1 * eps) / sa, eps
    if model.prediction_type == "sample":
        return out, (x_in - sa * out) / s1
    return sa * x_in - s1 * out, sa * out + s1 * x_in


@torch.inference_mode()
def step_scheduler(entry: Entry, model, x: torch.Tensor, *, steps: int, generator: torch.Generator,
                   resume: dict | None = None, **params) -> Iterator[ChainStep]:
    """Step ``entry``'s diffusers scheduler on ``model``, one record per network evaluation.

    Args:
        x: (N, *data_shape) x_T ~ N(0, I) in model space (scaled by the scheduler's ``init_noise_sigma``, as a
            diffusers pipeline does), or, with ``resume``, the recorded state the branch starts from.
        steps: ``num_inference_steps`` (1..T): Heun/DPM2 make 2·steps − 1 evaluations, PLMS steps + 1.
        generator: CPU generator for the noise of ancestral/SDE steps.
        resume: a record's ``state``: continue that chain from that record with the scheduler's history
            (multistep buffers, a pending half step) restored exactly; the parameters must be the chain's.
        **params: the entry's parameters (validated by ``api.chain``).
    Yields:
        ChainStep records: record 0 the initial state, then one per ``step`` call; ``t`` is the (possibly
        fractional) timestep the network saw, ``sigma`` the VE noise level of the output state.
    Raises:
        ValueError: diffusers missing or refusing the configuration; ``resume`` from another sampler or other
        settings.
    """
    settings = {p.name: params.get(p.name, p.default) for p in entry.params}
    step_kw = {k: settings[k] for k in STEP_KWARGS if k in settings}
    if resume is None:
        sched = make_scheduler(entry, model, settings)
        set_timesteps(sched, model, int(steps), settings)
        memo = _static_memo(sched)
        sample = x.to(model.device) * sched.init_noise_sigma
        i0 = 0
    else:
        if resume.get("sampler") != entry.name or resume.get("settings") != settings:
            raise ValueError(f"a {entry.label} chain continues only as {resume.get('sampler')!r} with its own "
                             f"settings ({resume.get('settings')}): its scheduler history belongs to them")
        memo = resume["memo"]
        sched = copy.deepcopy(resume["scheduler"], dict(memo))
        i0 = int(resume["index"])
        sample = resume["sample"] if resume["sample"] is not None else x.to(model.device)
    if "generator" in inspect.signature(sched.step).parameters:
        step_kw["generator"] = generator
    ts = sched.timesteps
    total = len(ts) - i0
    ve = hasattr(sched, "sigmas") and float(sched.init_noise_sigma) != 1.0  # Euler-type: x̃ = x_t·√(σ²+1)

    def sigma_at(j: int) -> float:
        if j >= len(ts):
            return 0.0
        a = _acp_of(sched, j, ts[j], model)
        return math.sqrt((1 - a) / a)

    x_in = sched.scale_model_input(sample, ts[i0]) if i0 < len(ts) else sample
    if resume is not None and not torch.equal(x.to(x_in.device, x_in.dtype), x_in):
        raise ValueError("a resumed scheduler chain starts from its record's own x (pass that record's x as x_init)")
    yield ChainStep(index=0, steps=total, t=float(ts[i0]) if i0 < len(ts) else -1, t_next=float(ts[i0]) if i0 < len(ts)
                    else -1, sigma=sigma_at(i0), x=x_in, stats={"x_norm": _norms(x_in)},
                    state=_snapshot(sched, memo, None if x_in is sample else sample, i0, entry.name, settings))
    for j in range(i0, len(ts)):
        t = ts[j]
        a = _acp_of(sched, j, t, model)
        out = model._eps_net(x_in, t)
        res = sched.step(out, t, sample, **step_kw)
        x0_hat, eps = _x0_eps(model, x_in, out, a)
        if getattr(res, "pred_original_sample", None) is not None:
            x0_hat = res.pred_original_sample
        sample = res.prev_sample
        last = j + 1 >= len(ts)
        x_in = sample if last else sched.scale_model_input(sample, ts[j + 1])
        s_next = 0.0 if last else (float(sched.sigmas[sched.step_index]) if ve and sched.step_index is not None
                                   else sigma_at(j + 1))
        yield ChainStep(index=j - i0 + 1, steps=total, t=float(t), t_next=-1 if last else float(ts[j + 1]),
                        sigma=s_next, x=x_in, x0_hat=x0_hat, eps_hat=eps,
                        stats={"x_norm": _norms(x_in), "eps_norm": _norms(eps)},
                        state=_snapshot(sched, memo, None if x_in is sample else sample, j + 1, entry.name,
                                        settings))


def _fn(entry: Entry):
    def fn(model, x, *, steps, generator, resume=None, **params):
        return step_scheduler(entry, model, x, steps=steps, generator=generator, resume=resume, **params)
    fn.__name__ = f"step_{entry.name.replace('-', '_')}"
    fn.__doc__ = f"{entry.label}: diffusers' {entry.cls} stepped by ``step_scheduler``."
    return fn


def _register_all() -> None:
    for e in ENTRIES:
        register(SamplerSpec(
            name=e.name, title=e.label, kind="denoising", fn=_fn(e), params=e.params, stochastic=e.stochastic,
            description=f"{e.paper} (diffusers {e.cls})", caption=e.caption, grid="steps",
            plot_keys=("t", "x_norm", "eps_norm"), info={"diffusers_class": e.cls,
                                                         "diffusers_config": diffusers_config(e)}))


_register_all()
