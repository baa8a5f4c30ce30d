"""Conditioning a diffusion model on a drawing: SDEdit, masked editing (inpainting) and ILVR guidance.
(~450 lines, kept whole: ``sdedit`` is one loop whose options interleave per step; other editors live apart:
``ddgan_edit``, ``completion``, ``sdedit_schedulers``.)

SDEdit (Meng et al. 2022, "SDEdit: Guided Image Synthesis and Editing with Stochastic Differential
Equations", Alg. 1): from a drawing y (model space), take

    x_{t0} = √ᾱ_{t0} y + √(1 − ᾱ_{t0}) ε,    ε ~ N(0, I)

and run the reverse chain (DDIM or DDPM, any number of steps) from t0 to 0. Small t0 keeps the drawing
(faithful, but it still looks drawn); large t0 gives a realistic sample that forgets the drawing.

Masked editing (SDEdit's masked mode, Meng et al. 2022 Alg. 3; RePaint, Lugmayr et al. 2022, Eq. 8):
after every step to t', the known region is replaced by the drawing re-noised to that level,
x_{t'} ← m ⊙ x_{t'} + (1 − m) ⊙ (√ᾱ_{t'} y + √(1 − ᾱ_{t'}) z); after the last step (ᾱ = 1) the known
region is exactly y. m = 1 where the model regenerates, 0 where the drawing is kept.

ILVR (Choi et al. 2021, "ILVR: Conditioning Method for Denoising Diffusion Probabilistic Models",
Eq. 8 / Alg. 1): after every step to t' (while t' >= ``ilvr_stop``·T),
x_{t'} ← x_{t'} − φ_N(x_{t'}) + φ_N(y_{t'}), y_{t'} = √ᾱ_{t'} y + √(1−ᾱ_{t'}) z, where φ_N is a low-pass
filter (downsample by N with area averaging, upsample bilinearly). The chain keeps the drawing's
coarse layout (where the ink is, at 28/N px) while the model draws the fine detail.

Classifier guidance toward the drawn digit (Dhariwal & Nichol 2021, Alg. 2, applied to the clean
estimate as in "universal guidance", Bansal et al. 2023, Eq. 6): after every step to t' (while
t' >= ``guide_stop``·T), x_{t'} ← x_{t'} + s √ᾱ_{t'} ∇_{x̂_0} log p(c | x̂_0), i.e. DDIM's next state
built from x̂_0 moved up the classifier's log-probability of class c; c is the class the guide
classifier gives the drawing itself (or ``guide_class``). The last steps run unguided, so the
final image is the model's, not an adversarial perturbation.

SDEdit's repeats (Meng et al. 2022, Sec. 4 "K repeats"): the noise-then-denoise cycle is run
``repeats`` times, each starting from the previous output.

Everything here is torch + numpy + pillow; nothing imports Qt.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Generator, cast

import numpy as np
import torch
import torch.nn.functional as F

from .imaging import to_uint8
from .samplers import ChainStep, get_sampler, make_timesteps
from .sdedit_defaults import DEFAULT_T0, GUIDE_CHECKPOINT, RECOMMENDED, recommended_settings  # noqa: F401  (re-exported)

if TYPE_CHECKING:
    import PIL.Image

SDEDIT_SAMPLERS = ("ddim", "ddpm")
DEFAULT_ILVR_N = 4
DEFAULT_ILVR_STOP = 0.3
DEFAULT_GUIDE_STOP = 0.2


# ---- images <-> model space ------------------------------------------------------------------------

def load_image(path) -> PIL.Image.Image:
    """Open an image file (any format pillow reads) fully into memory.

    Raises:
        ValueError: the file does not exist, is not a regular file, is not a readable image, or is larger than
            ``safe_io.MAX_IMAGE_SIDE`` on a side (checked from its header, before decoding or padding); the
            message names the file.
    """
    from .safe_io import open_image
    return open_image(path)


def _convention(model) -> str:
    conv = str(model.metadata.get("data", {}).get("convention", "")).lower()
    if conv:
        return conv
    if model.metadata.get("data", {}).get("dataset", "") in ("mnist", "fashion-mnist", "emnist"):
        return "white ink on black"
    return ""


def _to_pil(image):
    from PIL import Image
    if isinstance(image, (str, Path)):
        return load_image(image)
    from .safe_io import check_image_size
    if isinstance(image, Image.Image):
        check_image_size(*image.size, "image")
        return image
    if torch.is_tensor(image):
        image = image.detach().cpu().numpy()
    a = np.asarray(image)
    if a.ndim == 3 and a.shape[0] in (1, 3, 4) and a.shape[-1] not in (1, 3, 4):
        a = a.transpose(1, 2, 0)  # (C, H, W) -> (H, W, C)
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[-1] not in (3, 4)) or a.size == 0:
        raise ValueError(f"expected an image array (H, W), (H, W, 3|4) or (C, H, W), got shape {a.shape}")
    check_image_size(a.shape[1], a.shape[0], "image")  # before padding to a square
    if a.dtype != np.uint8:
        a = to_uint8(a.astype(np.float32))
    return Image.fromarray(a)


def image_to_model(image, model, invert: bool | str = "auto") -> torch.Tensor:
    """Convert any image to one model input in model space.

    Steps: alpha is composited onto the background (black for light ink, white for dark ink); the
    image is converted to grey (C = 1) or RGB (C = 3), padded to a square with its border colour,
    resized to the model's H x W (area averaging when shrinking — antialiased —, bicubic when
    enlarging), inverted where needed to follow the model's convention (``metadata.data.convention``,
    e.g. MNIST's "white ink on black": with ``invert="auto"`` an image whose border is light is
    inverted), and mapped from [0, 1] to the model's data range.

    Args:
        image: a path, a PIL image, or an array/tensor (H, W), (H, W, C) or (C, H, W); uint8 in
            0..255 or float in [0, 1].
        model: a loaded image model (``data_shape`` (C, H, W), ``data_range``, ``metadata``).
        invert: ``"auto"``, True or False.
    Returns:
        (C, H, W) float32 tensor on the CPU, in the model's data range (e.g. [-1, 1]).
    Raises:
        ValueError: unreadable file, an array that is not an image, or a model that is not an image model.
    """
    from PIL import Image
    if len(model.data_shape) != 3:
        raise ValueError(f"{model.name} is not an image model (data shape {model.data_shape})")
    c, h, w = model.data_shape
    im = _to_pil(image)
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        im = im.convert("RGBA")
        rgba = np.asarray(im, dtype=np.float32) / 255.0
        alpha = rgba[..., 3:]
        ink = rgba[..., :3][alpha[..., 0] > 0.5]
        light_ink = ink.size > 0 and float(ink.mean()) > 0.5
        bg = 0.0 if light_ink else 1.0
        rgb = rgba[..., :3] * alpha + bg * (1 - alpha)
        im = Image.fromarray(to_uint8(rgb))
    im = im.convert("L" if c == 1 else "RGB")
    a = np.asarray(im)
    border = np.concatenate([a[0].reshape(-1), a[-1].reshape(-1), a[:, 0].reshape(-1), a[:, -1].reshape(-1)])
    if im.width != im.height:
        side = max(im.width, im.height)
        fill = int(np.median(border)) if c == 1 else tuple(int(v) for v in np.median(
            np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]]), axis=0))
        sq = Image.new(im.mode, (side, side), fill)
        sq.paste(im, ((side - im.width) // 2, (side - im.height) // 2))
        im = sq
    if (im.width, im.height) != (w, h):
        shrink = im.width > w
        im = im.resize((w, h), Image.Resampling.BOX if shrink else Image.Resampling.BICUBIC)
    u = np.asarray(im, dtype=np.float32) / 255.0
    u = u[None] if c == 1 else u.transpose(2, 0, 1)
    conv = _convention(model)
    if invert == "auto":
        light_border = float(border.mean()) / 255.0 > 0.5
        invert = (light_border and conv.startswith("white ink")) or (not light_border and conv.startswith("black ink"))
    if invert:
        u = 1.0 - u
    return model.from_unit(torch.from_numpy(np.ascontiguousarray(u)))


def mask_to_model(mask, model) -> torch.Tensor:
    """Convert a mask image to (1, H, W) float32 in [0, 1] at the model's resolution.

    1 (white) = the model regenerates this pixel, 0 (black) = the drawing is kept. Area-averaged
    when shrinking, so a partly covered pixel gets a soft value (a feathered edge). Alpha, where
    present, is the mask. Same inputs and errors as ``image_to_model``.
    """
    from PIL import Image
    if len(model.data_shape) != 3:
        raise ValueError(f"{model.name} is not an image model (data shape {model.data_shape})")
    _, h, w = model.data_shape
    im = _to_pil(mask)
    if im.mode in ("RGBA", "LA"):
        im = im.getchannel("A")
    im = im.convert("L")
    if (im.width, im.height) != (w, h):
        im = im.resize((w, h), Image.Resampling.BOX if im.width > w else Image.Resampling.BILINEAR)
    return torch.from_numpy(np.asarray(im, dtype=np.float32) / 255.0)[None]


def model_to_unit(x: torch.Tensor, model) -> np.ndarray:
    """Model space (N, C, H, W) or (C, H, W) -> numpy float32 in [0, 1] (clipped), same shape."""
    return model.to_unit(x.detach().float().cpu()).numpy().astype(np.float32)


# ---- low-pass filter (ILVR's φ_N) ---------------------------------------------------------------------

def lowpass(x: torch.Tensor, factor: int) -> torch.Tensor:
    """φ_N (Choi et al. 2021): downsample (N, C, H, W) by ``factor`` with area averaging and upsample
    back bilinearly; same shape. ``factor`` 1 returns x."""
    if factor <= 1:
        return x
    h, w = x.shape[-2:]
    small = F.interpolate(x, size=(max(1, h // factor), max(1, w // factor)), mode="area")
    return F.interpolate(small, size=(h, w), mode="bilinear", align_corners=False)


# ---- SDEdit ----------------------------------------------------------------------------------------

@dataclass
class SDEditResult:
    """What ``sdedit`` returns.

    Attributes:
        samples: (K, C, H, W) final images, model space, CPU.
        x_t0: (K, C, H, W) the noised drawing the (first) reverse chain started from, model space, CPU.
        y: (C, H, W) the drawing at model resolution, model space, CPU.
        mask: (1, H, W) mask in [0, 1] (1 = regenerated) or None.
        t_start: training timestep of x_{t0} (0..T-1), or T for pure noise (t0 = 1), or 0 with no
            steps (t0 = 0: the samples are the drawing).
        timesteps: the reverse chain's timesteps (descending).
        seconds: wall time.
        guide_class: the class guidance steered toward, or None.
    """

    samples: torch.Tensor
    x_t0: torch.Tensor
    y: torch.Tensor
    mask: torch.Tensor | None
    t_start: int
    timesteps: list = field(default_factory=list)
    seconds: float = 0.0
    guide_class: int | None = None


def edit_samplers(model) -> tuple:
    """The samplers ``sdedit`` runs on ``model``: ``SDEDIT_SAMPLERS`` for a diffusion model, ("ddgan",) for a
    denoising diffusion GAN (its traits' sampler kind; ``ddgan_edit``)."""
    from . import completion
    from .ddgan_edit import EDIT_SAMPLERS, supports
    if completion.supports(model):  # autoregressive / RBM: clamped completion (``completion.canvas_fill``)
        return completion.fill_samplers(model)
    if supports(model):
        return EDIT_SAMPLERS
    from .samplers.schedulers import BY_NAME  # every diffusers scheduler too (``sdedit_schedulers``)
    return SDEDIT_SAMPLERS + tuple(BY_NAME)


def t0_to_timestep(t0: float, T: int) -> int:
    """Fraction t0 in [0, 1] -> training timestep round(t0·T) − 1 clipped to −1..T−1 (−1: no noise).

    Raises:
        ValueError: t0 not a finite number in [0, 1].
    """
    try:
        t0 = float(t0)
    except (TypeError, ValueError):
        raise ValueError(f"t0 must be a number in [0, 1], got {t0!r}") from None
    if not (0.0 <= t0 <= 1.0) or math.isnan(t0):
        raise ValueError(f"t0 must be a fraction of T in [0, 1], got {t0}")
    return int(min(T - 1, max(-1, round(t0 * T) - 1)))


def sdedit(model, strokes, *, t0: float = DEFAULT_T0, n: int = 4, steps: int = 25, sampler: str = "ddim",
           seed: int = 0, mask=None, eta: float = 0.0, repeats: int = 1, ilvr: int = 0,
           ilvr_stop: float = DEFAULT_ILVR_STOP, ilvr_mode: str = "xt", guidance: float = 0.0, guide_classifier=None,
           guide_class: int | None = None, guide_stop: float = DEFAULT_GUIDE_STOP, clip_sample: bool = True,
           callback: Callable[[int, int, torch.Tensor, torch.Tensor | None], bool | None] | None = None,
           invert: bool | str = "auto") -> SDEditResult:
    """SDEdit from a drawing, optionally masked and ILVR-guided; K = ``n`` candidates.

    Args:
        model: a ``DiffusionModel`` on images (genviz or diffusers checkpoint; any prediction type), or a
            denoising diffusion GAN (``sampler="ddgan"``: ``ddgan_edit.ddgan_sdedit``, k = round(t0·T) steps).
        strokes: the drawing y: a (C, H, W) tensor already in model space, or any image accepted by
            ``image_to_model`` (path, PIL image, uint8/float array of any size).
        t0: start level as a fraction of T in [0, 1]; x_{t0} uses training timestep round(t0·T) − 1.
            t0 = 0 returns the drawing unchanged (no noise, no steps); t0 = 1 starts from pure noise
            x_T ~ N(0, I) (ordinary sampling: the result does not depend on the drawing, except
            through a mask or ILVR).
        n: K, number of candidates (>= 1).
        steps: reverse-chain steps from t0 down to 0 (>= 1; fewer when t0·T is smaller).
        sampler: ``"ddim"`` (η = ``eta``) or ``"ddpm"``.
        seed: fixes ε and every noise draw of the chain (CPU generator): results replay exactly.
        mask: None, or a mask image / (1, H, W) tensor in [0, 1] (1 = regenerate, 0 = keep); see
            ``mask_to_model``. With a mask, unmasked pixels of the output equal the drawing.
        eta: DDIM η >= 0.
        repeats: SDEdit's K repeats of noise-then-denoise (>= 1).
        ilvr: ILVR down-sampling factor N (0 or 1 = off; e.g. 4 keeps the 7 x 7 layout of a 28 px image).
        ilvr_stop: ILVR acts while the chain's next timestep >= ilvr_stop·T.
        ilvr_mode: ``"xt"`` (Choi et al. 2021: x_{t'} ← x_{t'} − φ(x_{t'}) + φ(y_{t'}), y_{t'} the drawing
            noised afresh) or ``"x0"`` (no fresh noise: the step's x̂_0 gets the drawing's low
            frequencies, x_{t'} ← x_{t'} + √ᾱ_{t'} (φ(y) − φ(x̂_0))).
        guidance: classifier-guidance scale s >= 0 (0 = off); needs ``guide_classifier``.
        guide_classifier: a ``ClassifierModel`` on the model's images (e.g. ``mnist-guide``).
        guide_class: the class to steer toward; None = the guide classifier's class of the drawing.
        guide_stop: guidance acts while the chain's next timestep >= guide_stop·T.
        clip_sample: clip x̂_0 to the data range in each step.
        callback: ``callback(i, total, x, x0_hat)`` after each step (i counts over all repeats);
            return False to cancel (raises ``InterruptedError``).
        invert: passed to ``image_to_model`` for image inputs.
    Returns:
        ``SDEditResult`` (samples (K, C, H, W) in model space, on the CPU).
    Raises:
        ValueError: not a diffusion image model, bad t0/n/steps/sampler/eta/repeats/ilvr, strokes or
            mask of the wrong shape or unreadable. InterruptedError: the callback cancelled.
    """
    import time
    start = time.perf_counter()
    from . import ddgan_edit  # a denoising diffusion GAN: its own T-step chain (ddgan_edit.ddgan_sdedit)
    gan = ddgan_edit.supports(model)
    from . import completion  # an autoregressive model or an RBM: clamped completion instead of noising
    fill = completion.supports(model)
    if not (gan or fill) and (getattr(model, "family", None) != "diffusion" or len(getattr(model, "data_shape", ())) != 3):
        raise ValueError(f"SDEdit needs a diffusion model on images, got {getattr(model, 'name', model)!r}")
    if sampler not in edit_samplers(model):
        raise ValueError(f"sampler must be one of {', '.join(edit_samplers(model))}, got {sampler!r}")
    n, steps, repeats, ilvr = int(n), int(steps), int(repeats), int(ilvr)
    if n < 1:
        raise ValueError(f"n (candidates) must be >= 1, got {n}")
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    if ilvr < 0:
        raise ValueError(f"ilvr factor must be >= 0, got {ilvr}")
    if ilvr_mode not in ("xt", "x0"):
        raise ValueError(f"ilvr_mode must be 'xt' or 'x0', got {ilvr_mode!r}")
    if eta < 0:
        raise ValueError(f"eta must be >= 0, got {eta}")
    if guidance < 0 or (guidance > 0 and (guide_classifier is None or gan)):
        raise ValueError("guidance must be >= 0 and needs a guide_classifier (and a diffusion model)")
    T = 1 if fill else model.num_train_timesteps  # fill: t0 is the fraction of the raster order redrawn
    t_start = t0_to_timestep(t0, T)
    shape = tuple(model.data_shape)
    if torch.is_tensor(strokes) and tuple(strokes.shape) == shape:
        y = strokes.detach().float().cpu()
    elif torch.is_tensor(strokes) and strokes.dim() == 4 and tuple(strokes.shape[1:]) == shape and strokes.shape[0] == 1:
        y = strokes[0].detach().float().cpu()
    else:
        y = image_to_model(strokes, model, invert=invert)
    m = None
    if mask is not None:
        if torch.is_tensor(mask) and tuple(mask.shape) == (1, *shape[1:]):
            m = mask.detach().float().cpu().clamp(0, 1)
        else:
            m = mask_to_model(mask, model)
    if fill:
        return completion.canvas_fill(model, y, t0=t0, n=n, seed=seed, mask=m, steps=steps, callback=callback)
    if gan:
        return ddgan_edit.ddgan_sdedit(model, y, t0=t0, n=n, seed=seed, mask=m, ilvr=ilvr, ilvr_stop=ilvr_stop,
                                       callback=callback)
    dev = model.device
    g = torch.Generator().manual_seed(int(seed))
    yb = y.unsqueeze(0).expand(n, *shape).contiguous()
    if t_start < 0:  # t0 = 0: nothing to do
        out = yb.clone()
        return SDEditResult(out, out.clone(), y, m, 0, [], time.perf_counter() - start)
    if sampler not in SDEDIT_SAMPLERS:  # a diffusers scheduler: its own img2img loop
        if ilvr > 1 or guidance > 0 or repeats > 1:
            raise ValueError(f"{sampler}: ILVR, guidance and repeats run with the ddim and ddpm samplers only")
        from .sdedit_schedulers import scheduler_sdedit
        return scheduler_sdedit(model, y, sampler=sampler, t0=t0, n=n, steps=steps, seed=seed, mask=m,
                                callback=callback, start=start)

    spec = get_sampler(sampler)
    kw: dict[str, bool | float] = {"clip_sample": bool(clip_sample)}
    if sampler == "ddim":
        kw["eta"] = float(eta)
    ts = make_timesteps(T, steps, t_start=t_start)
    pure_noise = float(t0) >= 1.0
    y_dev = yb.to(dev)
    m_dev = m.to(dev) if m is not None else None
    total = len(ts) * repeats
    done = 0
    x = y_dev
    x_first = None
    acp = model._acp_cpu

    def noised(level_t: int) -> torch.Tensor:
        if level_t < 0:
            return y_dev
        a = float(acp[level_t])
        z = torch.randn((n, *shape), generator=g).to(dev)
        return math.sqrt(a) * y_dev + math.sqrt(1 - a) * z

    cls = None
    if guidance > 0:
        if guide_class is None:
            cls = int(guide_classifier.probs(y[None].to(guide_classifier.device)).argmax(1)[0])
        else:
            cls = int(guide_class)
        if not 0 <= cls < len(guide_classifier.classes):
            raise ValueError(f"guide_class must be in 0..{len(guide_classifier.classes) - 1}, got {cls}")

    def class_grad(x0: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode(False), torch.enable_grad():
            xg = x0.detach().clone().to(guide_classifier.device).requires_grad_(True)
            logp = torch.log_softmax(guide_classifier.net(xg), dim=1)[:, cls].sum()
            (grad,) = torch.autograd.grad(logp, xg)
        return grad.detach().to(dev)

    with torch.inference_mode():
        for r in range(repeats):
            eps = torch.randn((n, *shape), generator=g).to(dev)
            if pure_noise and r == 0:
                x = eps
            else:
                a0 = float(acp[t_start])
                x = math.sqrt(a0) * x + math.sqrt(1 - a0) * eps
            if x_first is None:
                x_first = x.detach().float().cpu().clone()
            for i, t in enumerate(ts):
                # one step of the registered sampler (its generator is dropped after the step)
                # registered samplers are generator functions (``SamplerSpec.fn``), hence ``close``
                it = cast(Generator[ChainStep, None, None], spec.fn(model, x, ts[i:], generator=g, **kw))
                next(it)
                rec = next(it)
                it.close()
                x = rec.x
                x0_hat = rec.x0_hat
                assert x0_hat is not None  # every record after the initial one carries the step's x̂_0
                t_next = ts[i + 1] if i + 1 < len(ts) else -1
                if cls is not None and t_next >= guide_stop * T - 1 and t_next >= 0:
                    x = x + guidance * math.sqrt(float(acp[t_next])) * class_grad(x0_hat)
                if ilvr > 1 and t_next >= ilvr_stop * T - 1:
                    if ilvr_mode == "x0":  # move x̂_0's low frequencies to the drawing's, keep ε̂'s
                        a_next = float(acp[t_next]) if t_next >= 0 else 1.0
                        x = x + math.sqrt(a_next) * (lowpass(y_dev, ilvr) - lowpass(x0_hat, ilvr))
                    else:
                        x = x - lowpass(x, ilvr) + lowpass(noised(t_next), ilvr)
                if m_dev is not None:
                    x = m_dev * x + (1 - m_dev) * noised(t_next)
                done += 1
                if callback is not None and callback(done, total, x, x0_hat) is False:
                    raise InterruptedError("SDEdit cancelled")
    assert x_first is not None  # repeats >= 1: the loop ran and set it
    samples = x.detach().float().cpu()
    if m is not None:  # exact: unmasked pixels are the drawing, bit for bit
        samples = m * samples + (1 - m) * y
        samples = torch.where(m == 0, y.expand_as(samples), samples)
    return SDEditResult(samples, x_first, y, m, T if pure_noise else t_start, list(ts), time.perf_counter() - start,
                        cls)
