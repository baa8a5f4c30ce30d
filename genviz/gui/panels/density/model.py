"""The density panel's state without Qt: its settings (and their session form), what is running, the latest
computed views, live particles, training progress and loss curve, and every number and text the panel shows
(readouts, status, progress, chain and figure captions). Plain Python + NumPy: testable without a widget.

The widgets write settings here through ``DensityState.set``; the engine's answers come in through the
``on_*`` / ``*_done`` methods; the panel draws from what this object says.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

import numpy as np

from .texts import DENSITY_SOURCES, image_units, moves_text, readout_html  # noqa: F401 (re-exported)

REFRESH_MS = 33          # >= 30 fps while particles move
MAX_DOTS = 5000          # above this, live particles are drawn as a density image
ARROWS = 64              # Langevin particle chains: drift and noise arrows of the last move for this many
TRAIL = 4                # frames of particle trails
TRAIL_MAX = 1000         # trails only for up to this many particles (they cost more than the dots)
USER_STD = 0.1           # kernel std of the user-drawn dataset
USER_BOUNDS = (-5.0, 5.0)
DATASETS = ("25gaussians", "8gaussians", "9gaussians", "swissroll", "moons", "circles", "checkerboard",
            "pinwheel", "2spirals")
LAYOUTS = {"plot": "one plot", "figure": "figure (Xiao 2022 Fig 5.3)"}
IMAGE_VIEWS = {
    "none": "none",
    "logp": "−E(x) / log p(x) on the grid",
    "density": "normalised density (grid)",
    "data": "data density (exact)",
}
LAYERS = (("data", "data samples", True), ("samples", "model samples", True), ("particles", "live particles", True),
          ("score", "score arrows", False), ("moves", "drift / noise of each move", True))
PATH_METHODS = ("lerp", "slerp", "rho")
GAN_REGS = {"none": "none", "r1": "R1 γ", "clc": "CLC λ"}  # the toy GAN's regularisers (training.gan_reg)
GAN_REG_WEIGHT = (0.01, 10.0)
# inclusive ranges of the integer settings (the spin boxes use the same); t's top follows the model (T − 1)
RANGES = {"t": (0, 999), "res": (20, 400), "n": (1, 100000), "train_steps": (10, 100000), "path_frames": (2, 200),
          "path_seed_a": (0, 2**31 - 1), "path_seed_b": (0, 2**31 - 1), "chain_seed": (0, 2**63 - 1)}
LOGP_LABELS = {"ebm": "−E(x) on the grid", "flow": "log p(x) (flow, exact)",
               "diffusion": "log p(x) (probability-flow ODE)", "vae": "ELBO(x) (VAE)", "gan": "D(x) logit (GAN: no density)",
               "ddgan": "log sample histogram (DDGAN)", "vaebm": "log p_VAE(x) − E(x) (VAEBM)"}
KIND_TITLES = {"neg_energy": "−E(x) on grid", "flow": "flow log p(x) (exact)", "ode": "ODE log p(x)",
               "elbo": "ELBO(x) on grid", "discriminator": "D(x) logit (GAN has no density)",
               "samples": "log histogram of model samples (no density)",
               "vaebm": "log p_VAE − E on grid (VAEBM)"}
SESSION_KEYS = ("dataset", "layout", "image", "views", "t", "res", "n", "slow", "chain_seed")


def trainable_families() -> tuple:
    """The families the lab can train: ``genviz.backend.training.toy.MODELS`` (the recipes' own list)."""
    from genviz.backend.training.toy import MODELS
    return tuple(MODELS)


def live_defaults() -> dict:
    """{family: (steps, note)}: each family's default live-training steps and what they trade
    (``genviz.backend.training.toy.LIVE``, the recipes' own declaration; imports torch)."""
    from genviz.backend.training.toy import LIVE
    return {f: (v.steps, v.note) for f, v in LIVE.items()}


def __getattr__(name: str):  # ``FAMILIES`` is read from the recipes when first asked for (torch import)
    if name == "FAMILIES":
        return trainable_families()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def supports(model) -> bool:
    """Whether the panel can show ``model`` (a backend model): the density panel's own spec decides
    (``genviz.panels.get_panel("density")``: 2-D data with a density, energy, score, ELBO or discriminator)."""
    from genviz.panels import get_panel
    return get_panel("density").supports(model)


def model_label(model) -> str:
    """The "Model" line (rich text) for ``model`` (None, refused with the spec's reason, or shown)."""
    if model is None:
        return "no 2-D model loaded"
    if not supports(model):
        from genviz.panels import get_panel
        return (f"{model.name} ({model.family}) is not a 2-D toy model: showing data only. "
                f"{get_panel('density').why_not(model) or ''}").strip()
    return f"<b>{model.name}</b> ({model.family})"


def grid_mass(result: dict) -> float:
    """Σ density · h² of a views result (1 when normalised); NaN without a density."""
    if result.get("density") is None:
        return float("nan")
    lo, hi, res = result["grid"]
    return float(np.sum(result["density"]) * ((hi - lo) / res) ** 2)


@dataclass
class Settings:
    """Every user setting of the panel (the widgets show these)."""

    dataset: str = "25gaussians"
    layout: str = "plot"
    image: str = "logp"
    views: dict = field(default_factory=lambda: {k: on for k, _, on in LAYERS})
    t: int = 0
    res: int = 150
    n: int = 2000
    slow: bool = True
    chain_seed: int = 0            # seed of the next particle chain (each run takes the next one)
    family: str = "ebm"
    train_steps: int = 600
    path_method: str = "slerp"
    path_seed_a: int = 0
    path_seed_b: int = 1
    path_frames: int = 24
    gan_reg: str = "none"          # the toy GAN's discriminator regulariser when training live: GAN_REGS
    gan_reg_weight: float = 1.0    # its weight: R1 γ or CLC λ


class DensityState:
    """The panel as data. Attributes read by the panel:

    settings (``Settings``); families (the trainable families, ``trainable_families()``; empty: any);
    t_max (the score timestep's top); result (the latest ``compute_views`` dict of the shown model, or None);
    preview (a view of the model being trained); busy / training / chain_running; train_progress
    ((step, steps, loss) or None); loss_history ((K, 2) [step, loss]); live (the latest ``ParticleFrame``);
    trail (recent particle positions); frames_drawn; latent_path ({"z": (F, D), "x": (F, D)} or None);
    user_points (list of [x, y]); status (the status line, rich text); live_steps ({family: (steps, note)}, the
    recipes' live defaults, ``live_defaults()``; empty until known).
    """

    def __init__(self, families: tuple = ()):
        self.settings = Settings()
        self.families: tuple = tuple(families)
        self.live_steps: dict = {}
        self.t_max = RANGES["t"][1]
        self.result: dict | None = None
        self.preview: dict | None = None
        self._preview_step = None
        self.busy = False
        self.training = False
        self.chain_running = False
        self.train_progress: tuple | None = None
        self.loss_history = np.empty((0, 2))
        self.progress_text, self.progress_value = "idle", 0
        self.live = None
        self.trail: list = []
        self.frames_drawn = 0
        self.chain_text = ""
        self.latent_path: dict | None = None
        self.user_points: list = []
        self.dataset_params: dict = {}     # parameters of the named dataset (a loaded model's, e.g. std)
        self.status = ""
        self._token = 0
        self._drawn = None

    # ---- settings ------------------------------------------------------------------------------------
    def set(self, key: str, value):
        """Set one setting; returns the stored value (integers clamped to ``RANGES``, as the spin boxes do).

        Raises:
            ValueError: an unknown setting, dataset, layout, image view, layer, path method or family.
        """
        s = self.settings
        if key not in {f.name for f in fields(Settings)}:
            raise ValueError(f"density panel: unknown setting {key!r}")
        if key == "dataset" and value not in DATASETS + ("user",):
            raise ValueError(f"unknown dataset {value!r}")
        choices = {"layout": LAYOUTS, "image": IMAGE_VIEWS, "path_method": PATH_METHODS, "gan_reg": GAN_REGS,
                   "family": self.families or (value,)}
        if key in choices and value not in choices[key]:
            raise ValueError(f"density panel: unknown {key} {value!r}")
        if key == "views":
            value = {**s.views, **{k: bool(v) for k, v in dict(value).items() if k in s.views}}
        elif key in RANGES:
            lo, hi = RANGES[key]
            hi = self.t_max if key == "t" else hi
            value = min(max(int(value), lo), hi)
        elif key == "slow":
            value = bool(value)
        elif key == "gan_reg_weight":
            value = min(max(float(value), GAN_REG_WEIGHT[0]), GAN_REG_WEIGHT[1])
        setattr(s, key, value)
        return value

    def choose_family(self, family: str) -> int:
        """Pick the family to train (ValueError for an unknown one); the steps become its live default (when
        known). Returns the steps."""
        self.set("family", family)
        if family in self.live_steps:
            self.set("train_steps", self.live_steps[family][0])
        return self.settings.train_steps

    def train_overrides(self) -> dict:
        """Recipe overrides of the next live training: ``{"r1": γ}`` or ``{"clc": λ}`` for a GAN with a regulariser
        chosen (``training.gan_reg``), else {}."""
        s = self.settings
        return {s.gan_reg: s.gan_reg_weight} if s.family == "gan" and s.gan_reg != "none" else {}

    def train_note(self) -> str:
        """What the chosen family's live default trades (empty when unknown)."""
        steps, note = self.live_steps.get(self.settings.family, (None, ""))
        return f"{self.settings.family}: default {steps} steps. {note}".strip() if steps else ""

    def set_layer(self, key: str, on: bool) -> None:
        """Show or hide one layer (``LAYERS``); ValueError for an unknown one."""
        if key not in self.settings.views:
            raise ValueError(f"density panel: unknown layer {key!r}")
        self.settings.views[key] = bool(on)

    def set_t_max(self, t_max: int) -> None:
        """The score timestep's top (a diffusion model's T − 1); t is clamped into it."""
        self.t_max = max(0, int(t_max))
        self.settings.t = min(self.settings.t, self.t_max)

    def session_state(self) -> dict:
        """The panel as data: dataset, layout, image view, shown layers, t, grid resolution, particles, slow and
        the seed of the next particle chain (and the painted points, for the user-drawn dataset)."""
        s = asdict(self.settings)
        out = {k: s[k] for k in SESSION_KEYS}
        if self.user_points:
            out["user_points"] = np.asarray(self.user_points, float).reshape(-1, 2).tolist()
        return out

    def apply_session(self, data: dict) -> None:
        """Take ``session_state()``-style data (also a preset's ``state``); keys left out keep their values.
        All values are checked before any is applied (ValueError names the first bad one)."""
        trial = DensityState()
        trial.settings, trial.families, trial.t_max = Settings(**asdict(self.settings)), self.families, self.t_max
        for key in SESSION_KEYS:
            if key in data:
                trial.set(key, data[key])
        pts = data.get("user_points")
        if pts:
            pts = np.asarray(pts, float)
            if pts.ndim != 2 or pts.shape[1] != 2 or not np.isfinite(pts).all():
                raise ValueError("density panel: user_points must be finite [x, y] pairs")
        self.settings = trial.settings
        if pts is not None and len(pts):
            self.user_points = pts.tolist()

    def next_chain_seed(self) -> int:
        """The seed of the chain about to run (the setting moves on to the next one)."""
        seed = self.settings.chain_seed
        self.settings.chain_seed += 1
        return seed

    # ---- user-drawn data -----------------------------------------------------------------------------
    def add_user_points(self, pts) -> np.ndarray:
        """Append (M, 2) points (data coordinates); returns all drawn points (K, 2) float32."""
        self.user_points.extend(np.asarray(pts, np.float32).reshape(-1, 2).tolist())
        return self.user_points_array()

    def brush(self, x: float, y: float, k: int = 3, spread: float = 0.05) -> np.ndarray:
        """Points one brush dab at (x, y) adds: (k, 2) around it, N(0, spread²) jitter seeded by how many points
        are drawn already (the same dab replays exactly)."""
        rng = np.random.default_rng(len(self.user_points))
        return np.array([[x, y]], np.float64) + spread * rng.standard_normal((k, 2))

    def user_points_array(self) -> np.ndarray:
        """The drawn points as a (K, 2) float32 array (K may be 0)."""
        return np.asarray(self.user_points, np.float32).reshape(-1, 2)

    # ---- views ---------------------------------------------------------------------------------------
    def begin_compute(self) -> int:
        """A view computation starts: busy; returns its token (only the latest one's answer counts)."""
        self._token += 1
        self.busy = True
        self.status = "computing views…"
        return self._token

    def finish_compute(self, token: int, result: dict, model) -> bool:
        """The engine answered computation ``token``; True when ``result`` is now the shown result (the latest
        computation, for the model still shown)."""
        if token != self._token:
            return False
        self.busy = False
        self.status = ""
        if result.get("model") is not model:
            return False
        self.result, self.preview = result, None
        return True

    def compute_failed(self, token: int) -> None:
        """Computation ``token`` failed: not busy any more if it was the latest (the result stays)."""
        if token == self._token:
            self.busy = False

    def invalidate(self) -> None:
        """Drop the result and ignore every computation still under way (e.g. no data to show)."""
        self._token += 1
        self.busy = False
        self.result = None

    def shown(self) -> dict | None:
        """The views to draw: the preview of the model being trained while there is one (it stays until the
        trained model's views come in); while training without one yet, the latest result's data only (not the
        previous model's picture); else the latest result."""
        if self.preview is not None:
            return self.preview
        if self.training and self.result is not None:
            return {**self.result, "samples": None, "logp": None, "density": None, "score": None, "kind": None,
                    "readouts": None}
        return self.result

    def model_changed(self, keep_preview: bool = False) -> None:
        """Another model is shown (loaded, or just trained: ``keep_preview`` keeps its training preview on screen
        until its views come in): the previous model's result, particles and chain text are dropped at once."""
        self.result = None
        if not keep_preview:
            self.preview = None
        self.live, self.trail, self._drawn, self.chain_text = None, [], None, ""

    def readout_html(self, model_name: str | None = None) -> str:
        """The readout strip for the shown model (see ``readout_html``); while training or before the first
        views of ``model_name`` come in, a line saying so."""
        if self.training:
            return (f"<i>training {self.settings.family} live: its readouts come when training finishes "
                    "(the plot shows the model as it learns)</i>")
        if self.result is None and self.busy and model_name:
            return f"<i>computing the views and readouts of {model_name}…</i>"
        return readout_html((self.result or {}).get("readouts"))

    def image_units(self) -> str:
        """The colour bar's label for the shown image (``texts.image_units``)."""
        r = self.shown()
        return image_units(self.settings.image, None if r is None else r.get("kind"))

    def figure_titles(self, r: dict) -> tuple[str, str]:
        """(title of the third column, title of the fourth) of the figure layout for views ``r``."""
        return (KIND_TITLES.get(r["kind"], "−E(x) on grid"),
                "normalised density" if r.get("density") is not None else "— (no density)")

    def figure_caption(self, r: dict, model_name: str | None, dataset_name: str) -> str:
        """The figure's caption line: model, dataset, grid and the density's total mass."""
        lo, hi, res = r["grid"]
        if self.training or (r is self.preview and r is not None):
            step = self._preview_step if self._preview_step is not None else 0
            name = f"{'training' if self.training else 'trained'} {self.settings.family} (step {step})"
        else:
            name = model_name or "(no model)"
        mass = (f"normalised density sums to {grid_mass(r):.4f}" if r.get("density") is not None
                else "no density to normalise (a GAN has none)")
        return f"{name} on {dataset_name} — grid [{lo:g}, {hi:g}]², {res}×{res}; {mass}"

    # ---- training ------------------------------------------------------------------------------------
    def start_training(self) -> None:
        """Live training starts (``settings.family``, ``settings.train_steps``)."""
        self.training = True
        self.preview, self._preview_step = None, None
        self.train_progress = (0, self.settings.train_steps, None)
        self.loss_history = np.empty((0, 2))
        self.live, self.trail, self._drawn, self.chain_text = None, [], None, ""   # the previous model's particles
        self.progress_value, self.progress_text = 0, f"training {self.settings.family}: starting…"
        self.status = ""

    def on_training(self, p: dict) -> bool:
        """A progress value of ``backend.toy.live.train_live``; True when a new preview should be drawn."""
        if not self.training:
            return False
        i, n, loss = p["step"], p["steps"], p["loss"]
        self.train_progress = (i, n, loss)
        self.loss_history = p["history"]
        self.progress_value = int(100 * i / max(n, 1))
        real = loss is not None and i > 0 and np.isfinite(loss)
        self.progress_text = (f"training: step {i}/{n} · loss {loss:+.3f}" if real
                              else f"training {self.settings.family}: starting…")
        if p.get("preview") is not None and p["preview"] is not self.preview:
            self.preview, self._preview_step = p["preview"], p.get("preview_step")
            return True
        return False

    def training_done(self, model) -> str:
        """Training finished with ``model`` (named ``live-<dataset>-<family>`` here); returns the message."""
        self.training = False     # the preview stays until the trained model's views come in
        model.metadata["name"] = model.name = f"live-{model.dataset}-{model.family}"
        secs = model.metadata["training"]["seconds"]
        self.progress_value, self.progress_text = 100, f"trained {model.family} ({secs} s)"
        return f"trained {model.name} in {secs} s"

    def training_stopped(self, msg: str | None = None) -> None:
        """Training was cancelled (``msg`` None) or failed with ``msg``."""
        step = self.train_progress[0] if self.train_progress else 0
        self.training, self.preview = False, None
        if msg is None or "cancelled" in msg:
            self.progress_text, self.status = "cancelled", msg or f"training cancelled at step {step}"
        else:
            self.progress_text = "failed"
            self.fail(msg)

    # ---- particle chains -----------------------------------------------------------------------------
    def start_chain(self) -> None:
        """A particle chain starts: no frames, no trail."""
        self.chain_running = True
        self.live, self.trail, self._drawn = None, [], None

    def on_frame(self, frame) -> None:
        """The latest ``ParticleFrame`` from the engine."""
        self.live = frame

    def frame_to_draw(self, force: bool = False):
        """The live frame if it was not drawn yet (or ``force``), else None; a new frame joins the trail."""
        f = self.live
        if f is None or (f is self._drawn and not force):
            return None
        if f is not self._drawn:
            x = np.nan_to_num(np.asarray(f.x).reshape(-1, 2), nan=0.0, posinf=1e6, neginf=-1e6)
            self.trail = (self.trail + [x])[-TRAIL:]
        self._drawn = f
        self.frames_drawn += 1
        return f

    def particles_text(self) -> str:
        """"step i / n · N particles …" for the live frame (with the Langevin move when shown)."""
        f = self.live
        n = len(f.x)
        moves = moves_text(f.moves) if f.moves is not None and self.settings.views["moves"] else ""
        self.chain_text = f"step {f.step} / {f.steps} · {n} particles" + (" (density image)" if n > MAX_DOTS else "") + moves
        return self.chain_text

    def chain_done(self, last, cancelled: bool = False) -> None:
        """The chain ended (``last`` = (step, steps) or None)."""
        self.chain_running = False
        if last is not None:
            self.chain_text = f"step {last[0]} / {last[1]}" + (" (cancelled)" if cancelled else " — done")

    # ---- errors --------------------------------------------------------------------------------------
    def fail(self, msg: str) -> None:
        """Something on the engine failed: nothing is running any more; the status shows ``msg`` in red."""
        self.busy = self.training = self.chain_running = False
        self.preview = None
        self.status = f"<span style='color:#ff6b6b'>{msg}</span>"

    @property
    def idle(self) -> bool:
        """Nothing computing, training or running."""
        return not (self.busy or self.training or self.chain_running)
