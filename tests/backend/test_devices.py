"""Devices: resolve_device, model.to() and chains that continue across a move."""
import pytest
import torch
from tinymodels import save_tiny, tiny_model

from genviz.backend import chain, load_checkpoint, resolve_device

HAS_CUDA = torch.cuda.is_available()
HAS_MPS = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())


def test_auto():
    expected = "cuda" if HAS_CUDA else "mps" if HAS_MPS else "cpu"
    assert resolve_device("auto").type == expected
    assert resolve_device(None).type == expected
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")


@pytest.mark.skipif(HAS_CUDA, reason="CUDA is available here")
def test_cuda_unavailable_raises():
    with pytest.raises(ValueError, match="CUDA is not available"):
        resolve_device("cuda")
    with pytest.raises(ValueError, match="CUDA is not available"):
        resolve_device("cuda:1")
    with pytest.raises(ValueError, match="CUDA is not available"):
        tiny_model().to("cuda")


@pytest.mark.skipif(HAS_MPS, reason="MPS is available here")
def test_mps_unavailable_raises():
    with pytest.raises(ValueError, match="MPS is not available"):
        resolve_device("mps")


def test_unknown_device_raises():
    with pytest.raises(ValueError, match="unknown device 'gpu0'"):
        resolve_device("gpu0")


def test_load_checkpoint_bad_device(tmp_path):
    p, _, _ = save_tiny(tmp_path / "t.safetensors")
    with pytest.raises(ValueError, match="unknown device"):
        load_checkpoint(p, device="tpu-please")
    m = load_checkpoint(p)                          # "auto"
    assert m.device == resolve_device("auto")
    assert next(m.net.parameters()).device.type == m.device.type


def test_to_cpu_keeps_everything_consistent():
    m = tiny_model()
    assert m.to("cpu") is m
    assert m.device == torch.device("cpu")
    assert m.alphas_cumprod.device.type == m.betas.device.type == "cpu"
    assert next(m.net.parameters()).device.type == "cpu"


def _move_midway(m, device, **kw):
    recs = []
    for rec in chain(m, **kw):
        recs.append(rec)
        if rec.index == 2:
            m.to(device)
    return recs


@pytest.mark.parametrize("sampler,params", [("ddpm", {}), ("ddim", {"eta": 0.5}), ("ode-heun", {})])
def test_chain_continues_after_to_cpu(sampler, params):
    ref = list(chain(tiny_model(), sampler, steps=6, n=2, seed=3, **params))
    got = _move_midway(tiny_model(), "cpu", sampler=sampler, steps=6, n=2, seed=3, **params)
    assert len(got) == 7
    for a, b in zip(got, ref):
        assert torch.equal(a.x, b.x)


@pytest.mark.skipif(not HAS_CUDA, reason="needs CUDA")
@pytest.mark.parametrize("sampler,params", [("ddpm", {}), ("ddim", {"eta": 0.5})])
def test_chain_moves_to_cuda_midway(sampler, params):
    """The state x follows the model to the GPU; the CPU generator keeps the noise (and so the chain) the same."""
    ref = list(chain(tiny_model(), sampler, steps=6, n=2, seed=3, **params))
    got = _move_midway(tiny_model(), "cuda", sampler=sampler, steps=6, n=2, seed=3, **params)
    assert got[2].x.device.type == "cpu" and got[3].x.device.type == "cuda"
    for a, b in zip(got, ref):
        assert torch.allclose(a.x.cpu(), b.x, atol=1e-4)
    back = _move_midway(tiny_model().to("cuda"), "cpu", sampler=sampler, steps=6, n=2, seed=3, **params)
    assert back[-1].x.device.type == "cpu"
    assert torch.allclose(back[-1].x, ref[-1].x, atol=1e-4)
