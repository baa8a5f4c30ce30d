"""VAE/GAN families, the decode sampler, latent spaces (decoder and DDIM), DDIM inversion and real images."""
import numpy as np
import pytest
import torch
from latenttiny import save_latent_ckpts, tiny_gan, tiny_vae
from tinymodels import tiny_model

from genviz.backend import chain, load_checkpoint, sample
from genviz.backend.interpolation import (
    DDIMLatent,
    DecoderLatent,
    endpoint_latent,
    frame_steps,
    interpolate,
    latent_space,
    load_image,
)
from genviz.backend.inversion import ddim_invert
from genviz.backend.samplers import make_timesteps


@pytest.fixture(scope="module")
def ckpts(tmp_path_factory):
    return save_latent_ckpts(tmp_path_factory.mktemp("latent"))


@pytest.mark.parametrize("name", ["tiny-vae", "tiny-gan"])
def test_checkpoint_round_trip_and_decode_sampler(ckpts, name):
    m = load_checkpoint(ckpts[name])
    assert m.family == name.split("-")[1]
    assert m.default_sampler["name"] == "decode"
    from genviz.panels import get_panel
    assert get_panel("interpolation").supports(m) and not get_panel("chain").supports(m)
    x = sample(m, n=5, seed=3)
    assert x.shape == (5, 1, 28, 28) and x.min() >= -1 and x.max() <= 1
    # seed s -> z_s = randn(latent_shape, generator seeded s); n samples decode one (n, *latent_shape) draw
    z_s = torch.randn(m.latent_shape, generator=torch.Generator().manual_seed(3))
    assert torch.equal(m.decode(z_s[None]), sample(m, n=1, seed=3))
    z = torch.randn((5, *m.latent_shape), generator=torch.Generator().manual_seed(3))
    assert torch.allclose(m.decode(z), x, atol=1e-6)
    recs = list(chain(m, "decode", steps=1, n=2, seed=0))
    assert len(recs) == 2 and torch.equal(recs[1].stats["z"], m.prior_latent(2, 0))
    with pytest.raises(ValueError, match="exactly 1 step"):
        sample(m, "decode", steps=3, n=1)


def test_decode_sampler_refuses_diffusion_models():
    with pytest.raises(ValueError, match="does not apply"):
        sample(tiny_model(), "decode", steps=1, n=1)


def test_gan_output_does_not_depend_on_batch():
    m = tiny_gan()
    z = m.prior_latent(6, 1)
    assert torch.allclose(m.generate(z)[2:3], m.generate(z[2:3]), atol=1e-6)
    with pytest.raises(ValueError, match="no encoder"):
        latent_space(m).encode(torch.zeros(1, 1, 28, 28))
    assert not latent_space(m).can_encode


def test_vae_encoder_gives_posterior_mean():
    m = tiny_vae()
    x = load_image("mnist:7", m.data_shape)
    assert x.shape == (1, 1, 28, 28) and x.min() >= -1 and x.max() <= 1
    mu, logvar = m.encode(x)
    space = latent_space(m)
    assert isinstance(space, DecoderLatent) and space.can_encode
    assert torch.equal(endpoint_latent(space, image=x), mu[0])
    with pytest.raises(ValueError, match="shape"):
        m.encode(torch.zeros(1, 1, 8, 8))
    with pytest.raises(ValueError, match="latent has shape"):
        m.decode(torch.zeros(1, 3))


@pytest.mark.parametrize("make", [tiny_vae, tiny_gan])
@pytest.mark.parametrize("method", ["lerp", "slerp", "rho"])
def test_endpoint_frames_equal_seed_samples_exactly(make, method):
    m = make()
    space = latent_space(m)
    res = interpolate(space, [space.seed_latent(11), space.seed_latent(12)], method, 6)
    assert res["images"].shape == (6, 1, 28, 28) and res["unit"].shape == (6, 1, 28, 28)
    assert torch.equal(res["images"][0:1], sample(m, n=1, seed=11))
    assert torch.equal(res["images"][-1:], sample(m, n=1, seed=12))


@pytest.mark.parametrize("method", ["lerp", "slerp", "rho"])
def test_consecutive_frames_change_smoothly(method):
    m = tiny_vae()
    space = latent_space(m)
    res = interpolate(space, [space.seed_latent(1), space.seed_latent(2)], method, 16)
    steps = frame_steps(res["images"])
    assert steps.max() > 0
    assert steps.max() < 3 * np.median(steps)  # no frame jumps far more than the others


def test_ddim_latent_endpoint_equals_sample():
    m = tiny_model()
    space = latent_space(m, steps=4)
    assert isinstance(space, DDIMLatent) and space.latent_shape == m.data_shape
    res = interpolate(space, [space.seed_latent(5), space.seed_latent(6)], "slerp", 3)
    assert torch.equal(res["images"][0:1], sample(m, "ddim", steps=4, n=1, seed=5, eta=0.0, clip_sample=False))
    assert torch.equal(res["images"][2:3], sample(m, "ddim", steps=4, n=1, seed=6, eta=0.0, clip_sample=False))


def _gaussian_denoiser(s2=0.25, shape=(1, 8, 8)):
    """A tiny diffusion model whose ε̂ is the exact ε-prediction for data ~ N(0, s2 I):
    ε*(x_t, t) = √(1−ᾱ_t) x_t / (ᾱ_t s2 + 1 − ᾱ_t)."""
    from tinymodels import fn_model
    m = fn_model(lambda x, t: x, shape=shape)
    acp = m.alphas_cumprod

    def eps(x, t):
        a = acp[t].view(-1, *([1] * (x.dim() - 1)))
        return (1 - a).sqrt() * x / (a * s2 + 1 - a)
    m._forward = lambda net, x, t: eps(x, t)
    return m


def test_ddim_inversion_reconstructs():
    """DDIM inversion then DDIM (η = 0) sampling returns the image; the error is first order in the step
    (measured max |error| for 0.5-std images: 0.46 at 10 steps, 0.091 at 50, 0.046 at 100, 0.023 at 200)."""
    m = _gaussian_denoiser()
    x0 = 0.5 * torch.randn((3, *m.data_shape), generator=torch.Generator().manual_seed(0))
    errs = {}
    for steps in (25, 100):
        ts = make_timesteps(m.num_train_timesteps, steps)
        x_T = ddim_invert(m, x0, ts)
        assert x_T.shape == x0.shape
        assert 0.8 < x_T.std().item() < 1.2  # a noise-like latent (x_T ~ N(0, I) for this data), not the image
        rec = sample(m, "ddim", steps=steps, x_init=x_T, eta=0.0, clip_sample=False)
        errs[steps] = (rec - x0).abs().max().item()
    assert errs[100] < 0.06, errs
    assert errs[25] / errs[100] > 3, errs  # ~ 1/steps
    # through the latent space (real image -> x_T -> decode), frame by frame
    space = DDIMLatent(m, steps=100, clip_sample=False)
    rec = space.decode(space.encode(x0[:1]))
    assert (rec - x0[:1]).abs().max() < 0.06


def test_ddim_inversion_errors():
    with pytest.raises(ValueError, match="diffusion"):
        ddim_invert(tiny_vae(), torch.zeros(1, 1, 28, 28), [10, 0])
    m = tiny_model()
    with pytest.raises(ValueError, match="descending"):
        ddim_invert(m, torch.zeros(1, *m.data_shape), [0, 10])


def test_latent_space_refuses_models_without_latent():
    from genviz.backend import EnergyModel
    e = EnergyModel.from_function(lambda x: (x ** 2).sum(1), (2,))
    with pytest.raises(ValueError, match="no latent"):
        latent_space(e)


def test_flow_like_model_plugs_in():
    """Any model whose traits declare a latent and an encoder (decode/encode/latent_shape, e.g. a normalising
    flow) is a DecoderLatent."""
    from genviz.backend.registry import traits as make_traits

    class Flow:
        name, family, data_shape, latent_shape = "flow", "flow", (1, 2, 2), (1, 2, 2)
        traits = make_traits("flow", latent=True, encoder=True)
        def decode(self, z): return 2 * z
        def encode(self, x): return x / 2
        def to_unit(self, x): return x.clamp(0, 1)
    space = latent_space(Flow())
    assert space.can_encode
    x = torch.ones(1, 1, 2, 2)
    assert torch.equal(space.decode(space.encode(x)), x)


def test_load_image_errors(tmp_path):
    with pytest.raises(ValueError, match="no such image"):
        load_image(str(tmp_path / "none.png"), (1, 28, 28))
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    with pytest.raises(ValueError, match="not a readable image"):
        load_image(str(bad), (1, 28, 28))
    with pytest.raises(ValueError, match="0..999"):
        load_image("mnist:1000", (1, 28, 28))
    with pytest.raises(ValueError, match="mnist:K"):
        load_image("mnist:x", (1, 28, 28))
    with pytest.raises(ValueError, match="image model"):
        load_image("mnist:1", (2,))
    from PIL import Image
    p = tmp_path / "big.png"
    Image.fromarray(np.full((56, 40, 3), 255, np.uint8)).save(p)
    x = load_image(str(p), (1, 28, 28))
    assert x.shape == (1, 1, 28, 28) and torch.allclose(x, torch.ones_like(x))


def test_interpolate_grid():
    m = tiny_gan()
    space = latent_space(m)
    cs = [space.seed_latent(s) for s in range(4)]
    res = interpolate(space, cs, "rho", 3)
    assert res["grid_shape"] == (3, 3) and res["images"].shape == (9, 1, 28, 28)
    assert torch.equal(res["images"][8:9], sample(m, n=1, seed=3))
    with pytest.raises(ValueError, match="2 corners"):
        interpolate(space, cs[:3], "rho", 3)


def test_ddim_latent_does_not_take_the_checkpoints_trailing_spacing():
    """A checkpoint may sample with "trailing" timesteps (mnist-ddpm does): they start at t = T-1, where a cosine
    schedule's ᾱ is ~1e-9 and unclipped DDIM decoding diverges. The DDIM latent keeps the sampler's own spacing
    unless told, so its decode is the documented `genviz sample --sampler ddim --eta 0 --param clip_sample=false`."""
    from tinymodels import tiny_model

    from genviz.backend.interpolation import DDIMLatent
    model = tiny_model(schedule="squaredcos_cap_v2")
    model.metadata["sampler"] = {"name": "ddim", "steps": 10, "eta": 1.0, "timestep_spacing": "trailing"}
    space = DDIMLatent(model)
    assert space.steps == 10 and space.params == {"eta": 0.0, "clip_sample": False}
    assert space.timesteps()[0] == 900  # leading: 0, 100, ..., 900
    assert DDIMLatent(model, timestep_spacing="trailing").timesteps()[0] == 999


def test_load_image_with_a_model_follows_its_ink_convention(tmp_path):
    """A black-on-white drawing given for an MNIST model is inverted to white-on-black, as on the canvas."""
    from PIL import Image

    from genviz.backend import load_checkpoint
    m = load_checkpoint("mnist-vae", device="cpu")
    a = np.full((56, 56), 255, np.uint8)
    a[10:46, 24:32] = 0  # a dark vertical stroke on white paper
    Image.fromarray(a).save(tmp_path / "one.png")
    x = load_image(str(tmp_path / "one.png"), m.data_shape, m.data_range, model=m)
    assert x.shape == (1, 1, 28, 28)
    assert float(x[0, 0, 0, 0]) == pytest.approx(-1.0, abs=0.05)      # paper -> black background
    assert float(x[0, 0, 14, 14]) > 0.5                                # stroke -> white ink
    plain = load_image(str(tmp_path / "one.png"), m.data_shape, m.data_range)
    assert float(plain[0, 0, 0, 0]) == pytest.approx(1.0, abs=0.05)    # without the model: taken as it is
    with pytest.raises(ValueError, match="no such image file"):
        load_image(str(tmp_path / "none.png"), m.data_shape, m.data_range, model=m)
