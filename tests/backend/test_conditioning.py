"""SDEdit, masked editing, ILVR and image conversion on tiny random models (no bundled training)."""
import math

import numpy as np
import pytest
import torch
from tinymodels import denoiser_model, tiny_model

from genviz.backend.conditioning import image_to_model, mask_to_model, sdedit, t0_to_timestep
from genviz.backend.samplers import make_timesteps


def _drawing(shape=(8, 8), seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand((1, *shape), generator=g) > 0.6).float() * 2 - 1


def test_t0_zero_returns_the_drawing_after_resolution_change():
    m = tiny_model("squaredcos_cap_v2")
    canvas = np.zeros((80, 80), np.uint8)
    canvas[10:70, 30:50] = 255  # a bar, 10x the model's resolution
    res = sdedit(m, canvas, t0=0.0, n=3)
    y = image_to_model(canvas, m)
    assert res.samples.shape == (3, 1, 8, 8)
    assert torch.equal(res.samples, y.expand(3, 1, 8, 8))
    # the 80 px bar covers columns 3..4 fully at 8 px: +1 there, -1 in the background
    assert torch.allclose(y[0, 2:6, 3:5], torch.ones(4, 2))
    assert torch.allclose(y[0, :, 0], -torch.ones(8))
    # a small t0 changes little (cosine schedule: ᾱ ≈ 1 there)
    small = sdedit(m, canvas, t0=0.003, n=2, steps=3).samples
    assert (small - y).abs().max() < 0.1


def test_t0_one_does_not_depend_on_the_drawing():
    m = tiny_model("linear")
    a = sdedit(m, _drawing(seed=1), t0=1.0, n=2, steps=4, seed=7).samples
    b = sdedit(m, _drawing(seed=2), t0=1.0, n=2, steps=4, seed=7).samples
    assert torch.equal(a, b)
    # ...while below 1 they do
    c = sdedit(m, _drawing(seed=1), t0=0.5, n=2, steps=4, seed=7).samples
    d = sdedit(m, _drawing(seed=2), t0=0.5, n=2, steps=4, seed=7).samples
    assert (c - d).abs().max() > 1e-2


def test_sdedit_matches_the_equation_with_one_ddim_step():
    """x_{t0} = √ᾱ y + √(1−ᾱ) ε, then one DDIM step to 0: x̂_0 = (x − √(1−ᾱ) ε̂)/√ᾱ (clipped)."""
    m = tiny_model("linear")
    y = _drawing()
    t = t0_to_timestep(0.4, 1000)
    assert t == 399
    res = sdedit(m, y, t0=0.4, n=2, steps=1, seed=3)
    g = torch.Generator().manual_seed(3)
    eps = torch.randn((2, 1, 8, 8), generator=g)
    a = float(m.alphas_cumprod[t])
    x = math.sqrt(a) * y + math.sqrt(1 - a) * eps
    assert torch.allclose(res.x_t0, x, atol=1e-6)
    e = m.predict_eps(x, t)
    x0 = ((x - math.sqrt(1 - a) * e) / math.sqrt(a)).clamp(-1, 1)
    assert torch.allclose(res.samples, x0, atol=1e-5)
    assert res.timesteps == [399]


def test_seed_replays_and_candidates_differ():
    m = denoiser_model("linear")
    y = _drawing()
    a = sdedit(m, y, t0=0.6, n=3, steps=5, seed=11, sampler="ddpm").samples
    b = sdedit(m, y, t0=0.6, n=3, steps=5, seed=11, sampler="ddpm").samples
    assert torch.equal(a, b)
    assert (a[0] - a[1]).abs().max() > 1e-3


@pytest.mark.parametrize("sampler", ["ddim", "ddpm"])
def test_masked_editing_keeps_unmasked_pixels(sampler):
    m = tiny_model("squaredcos_cap_v2")
    y = _drawing()
    mask = torch.zeros(1, 8, 8)
    mask[:, 2:6, 3:7] = 1.0
    res = sdedit(m, y, t0=0.8, n=3, steps=6, sampler=sampler, mask=mask, seed=2)
    keep = (mask == 0).expand(3, 1, 8, 8)
    assert torch.equal(res.samples[keep], y.expand(3, 1, 8, 8)[keep])
    assert (res.samples[~keep] - y.expand(3, 1, 8, 8)[~keep]).abs().max() > 1e-2


def test_masked_editing_renoises_the_known_region_every_step():
    """The known region at each step is the drawing at the chain's noise level (its std matches)."""
    m = tiny_model("linear")
    y = torch.zeros(1, 8, 8)
    mask = torch.zeros(1, 8, 8)
    mask[:, :, 4:] = 1
    seen = []
    sdedit(m, y, t0=0.9, n=64, steps=5, mask=mask, seed=0,
           callback=lambda i, tot, x, x0: seen.append(x[:, :, :, :4].std().item()))
    ts = make_timesteps(1000, 5, t_start=899)
    expect = [math.sqrt(1 - float(m.alphas_cumprod[t])) for t in ts[1:]] + [0.0]
    assert np.allclose(seen, expect, atol=0.08)


def test_mask_from_an_image_of_another_size():
    m = tiny_model()
    img = np.zeros((40, 40), np.uint8)
    img[:, 20:] = 255
    mk = mask_to_model(img, m)
    assert mk.shape == (1, 8, 8)
    assert torch.equal(mk[0, :, 4:], torch.ones(8, 4)) and torch.equal(mk[0, :, :4], torch.zeros(8, 4))


def test_ilvr_keeps_the_low_frequencies_of_the_drawing():
    m = tiny_model("linear")
    y = _drawing()
    res = sdedit(m, y, t0=1.0, n=2, steps=5, ilvr=2, ilvr_stop=0.0, seed=0)
    plain = sdedit(m, y, t0=1.0, n=2, steps=5, seed=0).samples
    down = lambda v: torch.nn.functional.avg_pool2d(v, 2)  # noqa: E731
    err_ilvr = (down(res.samples) - down(y[None])).abs().mean()
    err_plain = (down(plain) - down(y[None])).abs().mean()
    assert err_ilvr < 0.1 and err_plain > 0.3


def test_image_conversion_follows_the_convention():
    meta_model = tiny_model()
    meta_model.metadata["data"]["convention"] = "white ink on black"
    black_on_white = np.full((64, 48), 255, np.uint8)  # not square: padded with the border colour
    black_on_white[16:48, 16:32] = 0  # columns 24..40 once padded to 64 x 64: model columns 3, 4
    x = image_to_model(black_on_white, meta_model)
    assert x.shape == (1, 8, 8) and x.min() >= -1 and x.max() <= 1
    assert float(x[0, 0, 0]) == -1.0  # background became black
    assert float(x[0, 4, 3:5].mean()) > 0.5  # ink became white
    rgba = np.zeros((32, 32, 4), np.uint8)
    rgba[8:24, 12:20] = (0, 0, 0, 255)  # black ink on a transparent background
    x2 = image_to_model(rgba, meta_model)
    assert float(x2[0, 0, 0]) == -1.0 and float(x2[0, 4, 3:5].mean()) > 0.5
    assert image_to_model(np.zeros((8, 8), np.float32), meta_model).eq(-1).all()
    assert torch.equal(image_to_model(black_on_white, meta_model, invert=False)[0, 0, 0], torch.tensor(1.0))


def test_errors():
    m = tiny_model()
    y = _drawing()
    for bad in (-0.1, 1.5, float("nan"), "x"):
        with pytest.raises(ValueError, match="t0"):
            sdedit(m, y, t0=bad)
    with pytest.raises(ValueError, match="sampler"):
        sdedit(m, y, sampler="ode-euler")
    with pytest.raises(ValueError, match="n"):
        sdedit(m, y, n=0)
    with pytest.raises(ValueError, match="no such image"):
        sdedit(m, "/nonexistent/drawing.png")
    with pytest.raises(ValueError, match="image array"):
        sdedit(m, np.zeros((2, 3, 4, 5)))
    with pytest.raises(InterruptedError):
        sdedit(m, y, t0=0.5, steps=3, callback=lambda *a: False)


def _tiny_classifier(seed=0):
    from genviz.backend import ClassifierModel
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10))
    meta = {"name": "tiny-clf", "family": "classifier", "data": {"shape": [1, 8, 8], "range": [-1, 1]},
            "classes": [str(i) for i in range(10)]}
    return ClassifierModel(net, meta, "cpu")


def test_classifier_guidance_raises_the_target_class_probability():
    m = denoiser_model("linear")
    clf = _tiny_classifier()
    y = _drawing()
    plain = sdedit(m, y, t0=0.8, n=8, steps=6, seed=0)
    guided = sdedit(m, y, t0=0.8, n=8, steps=6, seed=0, guidance=30.0, guide_classifier=clf, guide_class=3,
                    guide_stop=0.0)
    assert guided.guide_class == 3 and plain.guide_class is None
    p_plain = clf.probs(plain.samples)[:, 3].mean()
    p_guided = clf.probs(guided.samples)[:, 3].mean()
    assert p_guided > p_plain + 0.05
    auto = sdedit(m, y, t0=0.8, n=2, steps=3, guidance=1.0, guide_classifier=clf)
    assert auto.guide_class == int(clf.probs(y[None]).argmax())
    zero = sdedit(m, y, t0=0.8, n=8, steps=6, seed=0, guidance=0.0, guide_classifier=clf)
    assert torch.equal(zero.samples, plain.samples)
    with pytest.raises(ValueError, match="guide_classifier"):
        sdedit(m, y, guidance=1.0)


def test_sdedit_on_a_diffusers_folder(diffusers_folder):
    from genviz.backend import load_checkpoint
    folder, _ = diffusers_folder
    m = load_checkpoint(folder, device="cpu")
    rgb = np.zeros((32, 32, 3), np.uint8)  # an RGB drawing for a 1-channel model: converted to grey
    rgb[8:24, 12:20] = 255
    mask = np.zeros((8, 8), np.uint8)
    mask[:, 4:] = 255
    res = sdedit(m, rgb, t0=0.7, n=2, steps=3, mask=mask, ilvr=2, seed=0)
    assert res.samples.shape == (2, 1, 8, 8) and torch.isfinite(res.samples).all()
    assert torch.equal(res.samples[:, :, :, :4], res.y[None, :, :, :4].expand(2, 1, 8, 4))
    assert res.y.shape == (1, 8, 8) and float(res.y[0, 4, 3]) == 1.0
