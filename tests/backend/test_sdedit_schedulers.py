"""SDEdit with diffusers schedulers (``genviz.backend.sdedit_schedulers``): the canvas lists them, t0 = 1 without a mask
is the scheduler's own chain from the same noise, a mask keeps the drawing's pixels exactly, seeds replay."""
import pytest
import torch
from tinymodels import tiny_model

from genviz.backend.api import chain
from genviz.backend.conditioning import edit_samplers, sdedit


@pytest.fixture(scope="module")
def model():
    return tiny_model(schedule="squaredcos_cap_v2")


def test_every_scheduler_is_an_edit_sampler(model):
    names = edit_samplers(model)
    assert {"ddim", "ddpm", "euler", "dpmpp-2m", "unipc", "heun"} <= set(names)


@pytest.mark.parametrize("sampler", ["euler", "dpmpp-2m"])
def test_t0_one_is_the_schedulers_own_chain_from_the_same_noise(model, sampler):
    y = torch.zeros(tuple(model.data_shape))
    res = sdedit(model, y, t0=1.0, n=2, steps=5, sampler=sampler, seed=3)
    eps = torch.randn((2, *model.data_shape), generator=torch.Generator().manual_seed(3))
    last = None
    for last in chain(model, sampler, steps=5, n=2, seed=0, x_init=eps):
        pass
    assert res.t_start == model.num_train_timesteps and len(res.timesteps) == 5
    torch.testing.assert_close(res.samples, last.x.cpu(), atol=1e-5, rtol=0)


@pytest.mark.parametrize("sampler", ["euler-a", "dpmpp-2m", "heun"])
def test_mask_keeps_the_drawing_and_seeds_replay(model, sampler):
    shape = tuple(model.data_shape)
    y = torch.rand(shape) * 2 - 1
    m = torch.zeros((1, *shape[1:]))
    m[..., : shape[1] // 2, :] = 1.0  # regenerate the top half
    a = sdedit(model, y, t0=0.6, n=3, steps=4, sampler=sampler, seed=1, mask=m, ilvr=0)
    b = sdedit(model, y, t0=0.6, n=3, steps=4, sampler=sampler, seed=1, mask=m, ilvr=0)
    keep = (m < 0.5).expand(3, *shape)
    assert torch.equal(a.samples[keep], y.expand(3, *shape)[keep])
    assert torch.equal(a.samples, b.samples) and torch.isfinite(a.samples).all()
    assert 0 < a.t_start < model.num_train_timesteps and not torch.equal(a.samples[~keep], y.expand(3, *shape)[~keep])


def test_ilvr_with_a_scheduler_is_refused_in_one_line(model):
    y = torch.zeros(tuple(model.data_shape))
    with pytest.raises(ValueError, match="ddim and ddpm samplers only"):
        sdedit(model, y, t0=0.5, n=1, steps=3, sampler="euler", ilvr=4)
