"""Latent interpolation: paths between latents, the latent spaces models expose, and real images as endpoints.

Paths (``path``, ``grid``) act on latents of any shape (the first axis of a result indexes frames):

- ``lerp``: z(t) = (1 − t) z1 + t z2.
- ``slerp``: spherical linear interpolation (Shoemake 1985; White 2016, "Sampling generative networks"):
  the direction moves along the great circle, sin((1−t)Ω)/sin Ω · ẑ1 + sin(tΩ)/sin Ω · ẑ2 with
  cos Ω = ẑ1·ẑ2, and the norm goes linearly from ‖z1‖ to ‖z2‖ (exactly Shoemake's slerp of z1, z2 when
  their norms are equal); falls back to lerp when the two latents are nearly parallel
  (|cos Ω| > ``dot_threshold``).
- ``rho``: the variance-preserving path z_ρ = ρ z1 + √(1−ρ²) z2 (Nijkamp et al. 2019; Xiao 2022, Fig. 5.2),
  ρ = cos(π t / 2), so that frames are equally spaced in angle; ρ = 1 gives z1, ρ = 0 gives z2. For two
  independent N(0, I) latents z_ρ is again N(0, I).
- 2-D grids between four latents: ``rho`` uses Real-NVP's formula (Dinh et al. 2017, Sec. 4.2)
  z = cos φ (z1 cos φ' + z2 sin φ') + sin φ (z3 cos φ' + z4 sin φ'), φ (rows), φ' (columns) in [0, π/2];
  ``lerp`` is bilinear; ``slerp`` slerps the two edge paths' frames.

Why the path matters: in d dimensions a N(0, I) latent has norm ≈ √d, and the midpoint of lerp between
two independent latents has norm ≈ √(d/2) — a code the decoder almost never saw; slerp and z_ρ keep
the norm near √d (``latent_norms`` shows it).

Latent spaces (``latent_space(model)``): a VAE or GAN's own latent (decoder / generator), or the DDIM
latent x_T of a diffusion model decoded by deterministic DDIM (η = 0; Song et al. 2021), into which
real images enter by DDIM inversion (``genviz.backend.inversion``). Any model with ``decode(z)``
(and, for real images, ``encode(x)``) and ``latent_shape`` plugs in the same way (e.g. a normalising flow).
Seed s always maps to z_s = ``torch.randn(latent_shape, generator=torch.Generator().manual_seed(s))``: the
latent that ``genviz sample CKPT --n 1 --seed s`` decodes.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np
import torch

METHODS = ("lerp", "slerp", "rho")


def _check_pair(z1: torch.Tensor, z2: torch.Tensor) -> None:
    if z1.shape != z2.shape:
        raise ValueError(f"latents have different shapes {tuple(z1.shape)} and {tuple(z2.shape)}")


def lerp(z1: torch.Tensor, z2: torch.Tensor, t: float) -> torch.Tensor:
    """(1 − t) z1 + t z2; z1, z2 of the same shape, t in [0, 1] (t = 0 gives z1 exactly, t = 1 z2)."""
    _check_pair(z1, z2)
    if t == 0:
        return z1.clone()
    if t == 1:
        return z2.clone()
    return (1 - t) * z1 + t * z2


def slerp(z1: torch.Tensor, z2: torch.Tensor, t: float, dot_threshold: float = 0.9995) -> torch.Tensor:
    """Spherical linear interpolation (Shoemake 1985; White 2016, "Sampling generative networks").

    The direction follows the great circle, sin((1−t)Ω)/sin Ω · ẑ1 + sin(tΩ)/sin Ω · ẑ2 with
    cos Ω = ẑ1·ẑ2 (ẑ = z/‖z‖, over the flattened latents), and the norm goes linearly from ‖z1‖ to ‖z2‖.
    For latents of equal norm this is exactly Shoemake's slerp of z1 and z2; for unequal norms it keeps
    ‖z(t)‖ between ‖z1‖ and ‖z2‖ (Shoemake's formula applied to unnormalised vectors can dip below both
    when cos Ω < 0). Falls back to ``lerp`` when |cos Ω| > ``dot_threshold`` (nearly parallel or
    antiparallel, where sin Ω → 0) or when either latent is zero. t = 0 and t = 1 give z1 and z2 exactly.
    """
    _check_pair(z1, z2)
    if t == 0:
        return z1.clone()
    if t == 1:
        return z2.clone()
    a, b = z1.flatten().double(), z2.flatten().double()
    na, nb = a.norm(), b.norm()
    if na == 0 or nb == 0:
        return lerp(z1, z2, t)
    dot = float((a @ b) / (na * nb))
    if abs(dot) > dot_threshold:
        return lerp(z1, z2, t)
    omega = math.acos(max(-1.0, min(1.0, dot)))
    so = math.sin(omega)
    direction = (math.sin((1 - t) * omega) / so) * (a / na) + (math.sin(t * omega) / so) * (b / nb)
    direction = direction / direction.norm()
    return (((1 - t) * na + t * nb) * direction).to(z1.dtype).reshape(z1.shape)


def rho_mix(z1: torch.Tensor, z2: torch.Tensor, rho: float) -> torch.Tensor:
    """z_ρ = ρ z1 + √(1 − ρ²) z2, ρ in [0, 1] (Nijkamp et al. 2019; Xiao 2022, Fig. 5.2).

    ρ = 1 returns z1 and ρ = 0 returns z2 exactly. Raises ValueError for ρ outside [0, 1].
    """
    _check_pair(z1, z2)
    if not 0.0 <= rho <= 1.0:
        raise ValueError(f"rho must be in [0, 1], got {rho}")
    if rho == 1:
        return z1.clone()
    if rho == 0:
        return z2.clone()
    return rho * z1 + math.sqrt(1.0 - rho * rho) * z2


def four_corner(z1, z2, z3, z4, phi: float, phi_p: float) -> torch.Tensor:
    """Real-NVP's 2-D latent grid point (Dinh et al. 2017, Sec. 4.2):
    z = cos φ (z1 cos φ' + z2 sin φ') + sin φ (z3 cos φ' + z4 sin φ'), φ, φ' in [0, π/2] (radians).

    (φ, φ') = (0, 0), (0, π/2), (π/2, 0), (π/2, π/2) give z1, z2, z3, z4 (exactly: cos and sin are snapped
    to 0/1 there).
    """
    for z in (z2, z3, z4):
        _check_pair(z1, z)

    def cs(a):
        c, s = math.cos(a), math.sin(a)
        if abs(a) < 1e-12:
            return 1.0, 0.0
        if abs(a - math.pi / 2) < 1e-12:
            return 0.0, 1.0
        return c, s

    c, s = cs(phi)
    cp, sp = cs(phi_p)
    terms = [(c * cp, z1), (c * sp, z2), (s * cp, z3), (s * sp, z4)]
    nz = [(w, z) for w, z in terms if w != 0.0]
    if len(nz) == 1 and nz[0][0] == 1.0:
        return nz[0][1].clone()
    out = torch.zeros_like(z1)
    for w, z in nz:
        out = out + w * z
    return out


def path_params(frames: int) -> np.ndarray:
    """The path parameter t of ``frames`` frames: linspace(0, 1, frames). Raises ValueError for frames < 2."""
    if int(frames) < 2:
        raise ValueError(f"frames must be >= 2, got {frames}")
    return np.linspace(0.0, 1.0, int(frames))


def point(z1: torch.Tensor, z2: torch.Tensor, method: str, t: float) -> torch.Tensor:
    """The latent at path parameter t in [0, 1] for ``method`` (lerp, slerp, rho with ρ = cos(πt/2))."""
    if method == "lerp":
        return lerp(z1, z2, t)
    if method == "slerp":
        return slerp(z1, z2, t)
    if method == "rho":
        rho = 0.0 if t >= 1 else (1.0 if t <= 0 else math.cos(math.pi * t / 2))
        return rho_mix(z1, z2, rho)
    raise ValueError(f"unknown interpolation method {method!r}; expected one of {', '.join(METHODS)}")


def path(z1: torch.Tensor, z2: torch.Tensor, method: str = "slerp", frames: int = 8) -> torch.Tensor:
    """Latents along a path: (frames, *z1.shape); frame 0 is z1 and frame ``frames − 1`` is z2 exactly.

    Raises ValueError: unknown method, frames < 2, or latents of different shapes.
    """
    return torch.stack([point(z1, z2, method, float(t)) for t in path_params(frames)])


def grid(z1, z2, z3, z4, method: str = "rho", rows: int = 5, cols: int = 5) -> torch.Tensor:
    """A (rows, cols, *z1.shape) grid between four corner latents: z1 top-left, z2 top-right, z3
    bottom-left, z4 bottom-right.

    ``rho``: Real-NVP's formula (``four_corner``) with φ = (π/2) i/(rows−1), φ' = (π/2) j/(cols−1);
    ``lerp``: bilinear; ``slerp``: row i is the slerp between slerp(z1, z3, u_i) and slerp(z2, z4, u_i).
    Raises ValueError: unknown method, rows or cols < 2, latents of different shapes.
    """
    us, vs = path_params(rows), path_params(cols)
    out = []
    for u in us:
        row = []
        for v in vs:
            if method == "rho":
                row.append(four_corner(z1, z2, z3, z4, math.pi / 2 * u, math.pi / 2 * v))
            elif method in ("lerp", "slerp"):
                left, right = point(z1, z3, method, float(u)), point(z2, z4, method, float(u))
                row.append(point(left, right, method, float(v)))
            else:
                raise ValueError(f"unknown interpolation method {method!r}; expected one of {', '.join(METHODS)}")
        out.append(torch.stack(row))
    return torch.stack(out)


def latent_norms(zs: torch.Tensor) -> np.ndarray:
    """‖z‖ of each frame of (N, *latent_shape) -> (N,) float64."""
    return zs.flatten(1).double().norm(dim=1).numpy()


def frame_steps(frames: torch.Tensor) -> np.ndarray:
    """RMS change between consecutive frames of (N, ...) -> (N − 1,) float64 (for smoothness checks)."""
    f = frames.flatten(1).double()
    return (f[1:] - f[:-1]).pow(2).mean(1).sqrt().numpy()


# ---- latent spaces ----------------------------------------------------------------------------------------


class LatentSpace:
    """A model seen through a latent: ``decode`` latents to images, ``encode`` real images to latents.

    Attributes:
        model: the family object.
        kind: ``"decoder"`` (VAE, GAN, flow) or ``"ddim"`` (diffusion x_T).
        latent_shape: per-sample latent shape.
        can_encode: whether real images can become latents.
    """

    kind = "latent"
    can_encode = False

    def __init__(self, model):
        self.model = model
        self.latent_shape: tuple = ()

    def seed_latent(self, seed: int) -> torch.Tensor:
        """z_s = torch.randn(latent_shape, generator=torch.Generator().manual_seed(s)), CPU float32."""
        return torch.randn(self.latent_shape, generator=torch.Generator().manual_seed(int(seed)))

    def decode(self, z: torch.Tensor, progress: Callable[[int, int], None] | None = None,
               should_stop: Callable[[], bool] | None = None) -> torch.Tensor:
        """(N, *latent_shape) -> (N, *data_shape) in model space, CPU float32.

        Frames are decoded one at a time (batch 1), so that each equals ``genviz sample --n 1`` of its
        latent bit for bit. ``progress(i, N)`` is called after each frame; ``should_stop()`` aborts
        (raising ``InterruptedError``) between frames.
        """
        out = []
        for i in range(z.shape[0]):
            if should_stop is not None and should_stop():
                raise InterruptedError("decoding cancelled")
            out.append(self._decode_one(z[i:i + 1]).float().cpu())
            if progress is not None:
                progress(i + 1, z.shape[0])
        return torch.cat(out)

    def _decode_one(self, z: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(N, *data_shape) model space -> (N, *latent_shape). Raises ValueError where impossible."""
        raise ValueError(f"{self.model.name}: real images cannot be mapped to this model's latent")

    def describe(self) -> str:
        return f"{self.kind} latent {tuple(self.latent_shape)}"


class DecoderLatent(LatentSpace):
    """The latent of a model with ``decode(z)`` (VAE decoder mean, GAN generator, flow inverse).

    ``encode`` uses the model's ``encode``: a VAE's posterior mean μ(x), a flow's z = f(x); a GAN raises.
    """

    kind = "decoder"

    def __init__(self, model):
        super().__init__(model)
        self.latent_shape = tuple(getattr(model, "latent_shape", model.data_shape))
        self.can_encode = model.traits.encoder

    def _decode_one(self, z):
        return self.model.decode(z)

    def encode(self, x):
        if not self.can_encode:
            if callable(getattr(self.model, "encode", None)):
                self.model.encode(x)  # raises the model's own reason (a GAN has no encoder)
            return super().encode(x)
        out = self.model.encode(x)
        z = out[0] if isinstance(out, tuple) else out
        return z.float().cpu()

    def describe(self) -> str:
        what = {"vae": "VAE latent (decoder mean)", "gan": "GAN latent (generator)"}.get(
            self.model.family, f"{self.model.family} latent")
        return f"{what}, z ∈ R^{'x'.join(map(str, self.latent_shape))}"


class DDIMLatent(LatentSpace):
    """The DDIM latent x_T of a diffusion model (Song et al. 2021, Sec. 4.3 and 5.3).

    ``decode``: deterministic DDIM (η = 0) from x_T over ``steps`` timesteps (default: the checkpoint's
    default step count), without clipping x̂_0 (``clip_sample=False``, so that decoding is the exact
    inverse of ``encode``'s steps; on mnist-ddpm clipping changes DDIM-50 samples very little but costs
    several dB of inversion PSNR: 3.8 dB with the first-stage weights), with ``timestep_spacing`` as given
    (default: the DDIM sampler's own, "leading" — not the checkpoint's default sampler's, see ``__init__``),
    through ``genviz.backend.sample`` — the same chain as
    ``genviz sample CKPT --sampler ddim --eta 0 --param clip_sample=false --steps S --n 1 --seed s``.
    ``encode``: DDIM inversion over the same timesteps (``genviz.backend.inversion.ddim_invert``).
    """

    kind = "ddim"
    can_encode = True

    def __init__(self, model, steps: int | None = None, clip_sample: bool = False,
                 timestep_spacing: str | None = None):
        super().__init__(model)
        d = dict(getattr(model, "default_sampler", {}))
        self.steps = int(steps if steps is not None else (d.get("steps", 50) if d.get("name") == "ddim" else 50))
        if self.steps < 1:
            raise ValueError(f"steps must be >= 1, got {self.steps}")
        self.params: dict[str, Any] = {"eta": 0.0, "clip_sample": bool(clip_sample)}
        # not the checkpoint's spacing: mnist-ddpm samples with "trailing" timesteps, which start at t = T-1
        # where ᾱ ≈ 2e-9 on its cosine schedule, and unclipped decoding then blows up (x̂_0 error × 1/√ᾱ)
        if timestep_spacing is not None:
            self.params["timestep_spacing"] = timestep_spacing
        self.latent_shape = tuple(model.data_shape)

    def timesteps(self) -> list[int]:
        from .samplers import make_timesteps
        return make_timesteps(self.model.num_train_timesteps, self.steps, self.params.get("timestep_spacing", "leading"))

    def _decode_one(self, z):
        from .api import sample
        return sample(self.model, "ddim", steps=self.steps, x_init=z, **self.params)

    def encode(self, x):
        from .inversion import ddim_invert
        return ddim_invert(self.model, x, self.timesteps()).float().cpu()

    def describe(self) -> str:
        return f"DDIM latent x_T (η = 0, {self.steps} steps)"


def latent_space(model, steps: int | None = None) -> LatentSpace:
    """The latent space interpolation walks for ``model``.

    Diffusion models: ``DDIMLatent`` (``steps`` DDIM steps, default the checkpoint's); VAE, GAN and any
    model with ``decode``: ``DecoderLatent``. Raises ValueError for models without a latent (EBMs,
    score models, classifiers).
    """
    if model.traits.eps:
        return DDIMLatent(model, steps=steps)
    if callable(getattr(model, "latent_space", None)):  # a family with its own spaces (GLF: noise ε or latent z)
        return model.latent_space()
    if callable(getattr(model, "decode", None)):
        return DecoderLatent(model)
    raise ValueError(f"{model.name}: a {model.family} model has no latent to interpolate in "
                     "(use a VAE, GAN, flow or diffusion model)")


def load_image(spec: str, data_shape: Sequence[int], data_range=(-1.0, 1.0), model=None) -> torch.Tensor:
    """A real image as a (1, *data_shape) model-space tensor.

    ``spec``: a PNG/JPEG path, or ``mnist:K`` — digit K (0..999) of the 1,000 held-out MNIST digits of
    resources/mnist10k.npz (white ink on black, as the bundled models). With ``model`` given, a file goes
    through ``conditioning.image_to_model`` (alpha, square padding, antialiased resize, and inversion to the
    model's ink convention: a black-on-white PNG becomes white-on-black for MNIST models), as on the canvas;
    without it, it is converted to grey or RGB to match C and resized to H x W with Lanczos, as it is.
    Raises ValueError: unreadable file, bad index, or a data shape that is not an image.
    """
    if model is not None and not spec.startswith("mnist:"):
        import os

        from .conditioning import image_to_model
        if not os.path.exists(spec):
            raise ValueError(f"{spec}: no such image file")
        return image_to_model(spec, model)[None]
    if len(data_shape) != 3 or data_shape[0] not in (1, 3):
        raise ValueError(f"real images need an image model (data shape (C, H, W), C in 1 or 3), got {tuple(data_shape)}")
    c, h, w = (int(s) for s in data_shape)
    lo, hi = data_range
    if spec.startswith("mnist:"):
        from .data import load_mnist
        try:
            k = int(spec.split(":", 1)[1])
        except ValueError:
            raise ValueError(f"{spec!r}: expected mnist:K with K in 0..999") from None
        imgs, _ = load_mnist("test")
        if not 0 <= k < len(imgs):
            raise ValueError(f"{spec!r}: K must be in 0..{len(imgs) - 1}")
        arr = imgs[k].astype(np.float32) / 255.0
        if (h, w) != arr.shape:
            from PIL import Image
            arr = np.asarray(Image.fromarray(imgs[k]).resize((w, h), Image.Resampling.LANCZOS), np.float32) / 255.0
        u = np.repeat(arr[None], c, axis=0)
    else:
        from PIL import Image

        from .safe_io import open_image
        im = open_image(spec).convert("L" if c == 1 else "RGB").resize((w, h), Image.Resampling.LANCZOS)
        arr = np.asarray(im, np.float32) / 255.0
        u = arr[None] if c == 1 else arr.transpose(2, 0, 1)
    x = torch.from_numpy(np.ascontiguousarray(u)).float()[None]
    return x * (hi - lo) + lo


# ---- one call for the CLI and the app ---------------------------------------------------------------------


def endpoint_latent(space: LatentSpace, seed: int | None = None, image: torch.Tensor | None = None) -> torch.Tensor:
    """The latent of one endpoint: z_seed, or the encoding of a real image (1, *data_shape) in model space.

    Returns (*latent_shape) CPU float32. Raises ValueError: neither or both given; the model cannot encode.
    """
    if (seed is None) == (image is None):
        raise ValueError("an endpoint needs exactly one of a seed or an image")
    if seed is not None:
        return space.seed_latent(seed)
    assert image is not None
    if image.dim() == len(space.model.data_shape):
        image = image[None]
    return space.encode(image)[0].float().cpu()


def interpolate(space: LatentSpace, corners: Sequence[torch.Tensor], method: str = "slerp", frames: int = 8,
                progress=None, should_stop=None) -> dict:
    """Walk a path (2 corners) or a grid (4 corners) and decode every frame.

    Args:
        space: a ``LatentSpace`` (``latent_space(model)``).
        corners: 2 latents (a strip of ``frames``) or 4 (a ``frames`` x ``frames`` grid), each (*latent_shape).
        method: ``lerp``, ``slerp`` or ``rho`` (for grids: bilinear, nested slerp, Real-NVP's formula).
        frames: frames along the path (or along each side of the grid), >= 2.
        progress, should_stop: passed to ``space.decode``.
    Returns:
        dict with ``latents`` (N, *latent_shape), ``images`` (N, *data_shape) model space, ``unit``
        (N, *data_shape) float32 numpy: images in [0, 1], vectors (2-D toys) in data units, ``norms`` (N,) ‖z‖, ``t`` (N,) path parameters
        (for grids: (N, 2), row and column), ``grid_shape`` (rows, cols) or None, and ``method``.
    Raises:
        ValueError: wrong number of corners, unknown method, frames < 2, shape mismatch.
    """
    frames = int(frames)
    if len(corners) == 2:
        zs = path(corners[0], corners[1], method, frames)
        ts = path_params(frames)
        gshape = None
    elif len(corners) == 4:
        zs = grid(corners[0], corners[1], corners[2], corners[3], method=method, rows=frames, cols=frames).flatten(0, 1)
        u = path_params(frames)
        ts = np.stack(np.meshgrid(u, u, indexing="ij"), -1).reshape(-1, 2)
        gshape = (frames, frames)
    else:
        raise ValueError(f"expected 2 corners (a path) or 4 (a grid), got {len(corners)}")
    for c in corners:
        if tuple(c.shape) != tuple(space.latent_shape):
            raise ValueError(f"a corner latent has shape {tuple(c.shape)}, expected {tuple(space.latent_shape)}")
    images = space.decode(zs, progress=progress, should_stop=should_stop)
    if space.model.is_image:
        unit = space.model.to_unit(images).numpy().astype(np.float32)
    else:  # vectors (2-D toys) stay in data units, as ``genviz sample`` writes them
        unit = images.numpy().astype(np.float32)
    return {"latents": zs, "images": images, "unit": unit, "norms": latent_norms(zs), "t": ts,
            "grid_shape": gshape, "method": method}


def norm_profiles(z1: torch.Tensor, z2: torch.Tensor, frames: int = 65) -> dict:
    """‖z(t)‖ along each method's path (no decoding): {method: (frames,) norms}, plus ``t``."""
    out = {m: latent_norms(path(z1, z2, m, frames)) for m in METHODS}
    out["t"] = path_params(frames)
    return out
