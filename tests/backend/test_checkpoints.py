"""Checkpoints: genviz .safetensors round trip, the bundled-checkpoint listing, diffusers folders and .pt files."""
import copy
import json
import math

import pytest
import torch
from tinymodels import SHAPE, save_tiny, tiny_metadata, tiny_unet

from genviz.backend import (
    CheckpointInfo,
    DiffusionModel,
    checkpoints,
    list_checkpoints,
    load_checkpoint,
    read_metadata,
    sample,
    save_checkpoint,
)
from genviz.backend.checkpoints import FORMAT, FORMAT_VERSION

X = torch.randn(3, *SHAPE, generator=torch.Generator().manual_seed(0))
T = torch.tensor([0, 417, 999])



def cl(net):
    """A loaded image model keeps its conv weights channels-last on the CPU (``BaseModel.to``); the raw network
    gives bit-identical outputs in the same layout."""
    return net.to(memory_format=torch.channels_last)

def test_safetensors_round_trip(tmp_path):
    path, sd, meta = save_tiny(tmp_path / "sub" / "tiny.safetensors", schedule="squaredcos_cap_v2")
    assert path.exists() and not list(tmp_path.rglob("*.tmp"))      # written atomically, no temp file left
    m = load_checkpoint(path, device="cpu")
    assert isinstance(m, DiffusionModel) and m.family == "diffusion"
    assert m.path == str(path)
    loaded = m.net.state_dict()
    assert loaded.keys() == sd.keys()
    assert all(torch.equal(loaded[k], sd[k]) for k in sd)
    assert m.metadata == {"format": FORMAT, "format_version": FORMAT_VERSION, **meta}
    assert read_metadata(path) == m.metadata
    assert m.name == "tiny" and m.dataset == "testset" and m.data_shape == SHAPE and m.data_range == (-1.0, 1.0)
    assert m.default_sampler == meta["sampler"]
    ref = DiffusionModel(tiny_unet(0), meta, "cpu")
    assert torch.equal(m.predict_eps(X, T), ref.predict_eps(X, T))
    conv_w = [p for p in m.net.parameters() if p.dim() == 4]
    assert conv_w and all(p.is_contiguous(memory_format=torch.channels_last) for p in conv_w)
    assert torch.equal(m.predict_eps(X, T), cl(tiny_unet(0))(X, T))
    assert torch.allclose(m.predict_eps(X, T), tiny_unet(0)(X, T), atol=1e-5)  # = NCHW up to float32 rounding
    assert torch.equal(m.alphas_cumprod, ref.alphas_cumprod)
    assert m.predict_eps(X, T).abs().max() > 0.1


def test_save_checkpoint_moves_tensors_to_cpu_and_makes_them_contiguous(tmp_path):
    net = tiny_unet(1)
    sd = {k: (v.t() if v.dim() == 2 else v) for k, v in net.state_dict().items()}   # non-contiguous views
    p = save_checkpoint(tmp_path / "x.safetensors", sd, {"family": "diffusion"})
    from safetensors.torch import load_file
    back = load_file(str(p))
    assert all(torch.equal(back[k], sd[k]) for k in sd)


@pytest.fixture
def bundled(tmp_path, monkeypatch, diffusers_folder):
    """A CHECKPOINT_DIR with a tiny genviz checkpoint, a diffusers folder, a broken file and a stray file."""
    import shutil
    d = tmp_path / "ckpts"
    save_tiny(d / "tiny-a.safetensors")
    save_tiny(d / "tiny-b.safetensors", schedule="squaredcos_cap_v2", seed=1,
              data={"shape": [1, 8, 8], "range": [-1.0, 1.0], "dataset": "other"})
    shutil.copytree(diffusers_folder[0], d / "diff-unet")
    (d / "broken.safetensors").write_bytes(b"\x00" * 50)
    (d / "notes.txt").write_text("not a checkpoint")
    monkeypatch.setattr(checkpoints, "CHECKPOINT_DIR", d)
    return d


def test_list_checkpoints(bundled):
    everything = list_checkpoints()
    assert [i.name for i in everything if i.error] == ["broken"]  # listed with its reason; stray files skipped
    infos = [i for i in everything if not i.error]
    assert [i.name for i in infos] == ["diff-unet", "tiny-a", "tiny-b"]      # sorted
    a = infos[1]
    assert isinstance(a, CheckpointInfo)
    assert (a.family, a.dataset, a.data_shape) == ("diffusion", "testset", (1, 8, 8))
    assert a.size_bytes == (bundled / "tiny-a.safetensors").stat().st_size > 1000
    assert a.path == str(bundled / "tiny-a.safetensors")
    assert a.description == "tiny random UNet for tests"
    assert infos[2].dataset == "other"
    d = infos[0]
    assert (d.family, d.data_shape) == ("diffusion", (1, 8, 8))
    assert d.size_bytes == sum(f.stat().st_size for f in (bundled / "diff-unet").rglob("*") if f.is_file())
    assert a.to_dict()["data_shape"] == [1, 8, 8]


def test_load_bundled_by_name(bundled):
    m = load_checkpoint("tiny-b", device="cpu")
    assert m.path == str(bundled / "tiny-b.safetensors")
    assert torch.equal(m.predict_eps(X, T), cl(tiny_unet(1))(X, T))
    assert m.metadata["schedule"]["beta_schedule"] == "squaredcos_cap_v2"


def test_list_checkpoints_without_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoints, "CHECKPOINT_DIR", tmp_path / "missing")
    assert list_checkpoints() == []


# ---- .pt state dicts -------------------------------------------------------------------------------------

@pytest.mark.parametrize("sidecar", ["model.json", "model.pt.json"])
@pytest.mark.parametrize("wrapped", [False, True])
def test_pt_state_dict_with_sidecar_loads(tmp_path, sidecar, wrapped):
    net = tiny_unet(2)
    torch.save({"state_dict": net.state_dict()} if wrapped else net.state_dict(), tmp_path / "model.pt")
    (tmp_path / sidecar).write_text(json.dumps(tiny_metadata()))
    m = load_checkpoint(tmp_path / "model.pt", device="cpu")
    assert torch.equal(m.predict_eps(X, T), cl(net)(X, T))
    assert read_metadata(tmp_path / "model.pt") == tiny_metadata()


# ---- diffusers folders -----------------------------------------------------------------------------------

def test_diffusers_unet_folder(diffusers_folder):
    folder, unet = diffusers_folder
    m = load_checkpoint(folder, device="cpu")
    assert m.family == "diffusion" and m.data_shape == (1, 8, 8) and m.prediction_type == "epsilon"
    assert m.name == folder.name and m.path == str(folder)
    with torch.no_grad():
        ref = unet(X, T).sample
    assert torch.allclose(m.predict_eps(X, T), ref, atol=1e-6)
    assert ref.abs().max() > 0.05
    x = sample(m, "ddim", steps=3, n=2, seed=0)
    assert x.shape == (2, 1, 8, 8) and torch.isfinite(x).all()
    x = sample(m, steps=2, n=2)                                   # the synthesised default sampler
    assert x.shape == (2, 1, 8, 8) and torch.isfinite(x).all()
    assert read_metadata(folder)["network"]["class"] == "diffusers.UNet2DModel"


def save_diffusers(folder, unet, pipeline=False, **sched_kw):
    from diffusers import DDPMScheduler
    unet_dir = folder / "unet" if pipeline else folder
    unet.save_pretrained(unet_dir, safe_serialization=True)
    sched = DDPMScheduler(num_train_timesteps=1000, **sched_kw)
    sched.save_pretrained(folder / "scheduler")
    if pipeline:
        (folder / "model_index.json").write_text(json.dumps({"_class_name": "DDPMPipeline", "unet": ["diffusers", "UNet2DModel"],
                                                             "scheduler": ["diffusers", "DDPMScheduler"]}))
    return sched


def test_diffusers_pipeline_folder_and_its_schedule(tmp_path, diffusers_folder):
    unet = diffusers_folder[1]
    sched = save_diffusers(tmp_path / "pipe", unet, pipeline=True, beta_schedule="squaredcos_cap_v2")
    import logging
    records = []

    class Catch(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())
    handler = Catch(level=logging.WARNING)
    logging.getLogger("diffusers").addHandler(handler)
    try:
        m = load_checkpoint(tmp_path / "pipe", device="cpu")
    finally:
        logging.getLogger("diffusers").removeHandler(handler)
    assert not [r for r in records if "accelerate" in r]  # diffusers' accelerate warning is not the user's business
    assert m.metadata["description"].startswith("diffusers pipeline folder")
    assert torch.allclose(m.alphas_cumprod, sched.alphas_cumprod, atol=1e-7)
    assert m.metadata["schedule"]["beta_schedule"] == "squaredcos_cap_v2"
    with torch.no_grad():
        assert torch.allclose(m.predict_eps(X, T), unet(X, T).sample, atol=1e-6)
    x = sample(m, "ddpm", steps=3, n=2)
    assert x.shape == (2, 1, 8, 8) and torch.isfinite(x).all()


@pytest.mark.parametrize("prediction_type", ["v_prediction", "sample"])
def test_diffusers_prediction_types_convert_to_eps(tmp_path, diffusers_folder, prediction_type):
    unet = diffusers_folder[1]
    sched = save_diffusers(tmp_path / "f", unet, prediction_type=prediction_type)
    m = load_checkpoint(tmp_path / "f", device="cpu")
    assert m.prediction_type == prediction_type
    a = sched.alphas_cumprod[T].view(-1, 1, 1, 1)
    with torch.no_grad():
        out = cl(copy.deepcopy(unet))(X, T).sample  # the loaded copy runs channels-last, as this one now
    if prediction_type == "v_prediction":       # v = √ᾱ ε − √(1−ᾱ) x0  =>  ε = √ᾱ v + √(1−ᾱ) x_t
        eps = a.sqrt() * out + (1 - a).sqrt() * X
    else:                                       # x_t = √ᾱ x0 + √(1−ᾱ) ε  =>  ε = (x_t − √ᾱ x0)/√(1−ᾱ)
        eps = (X - a.sqrt() * out) / (1 - a).sqrt()
    got = m.predict_eps(X, T)
    assert torch.allclose(got, eps, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(got, out, atol=1e-2)
    # and the x0 the sampler derives from ε̂ is the one diffusers derives from the raw output
    x0 = (X - (1 - a).sqrt() * got) / a.sqrt()
    x0_ref = out if prediction_type == "sample" else a.sqrt() * X - (1 - a).sqrt() * out
    assert torch.allclose(x0[1:], x0_ref[1:], atol=1e-4)     # (t = 0: 1/√ᾱ_0 amplifies rounding; skip)
    assert math.isfinite(m.score(X, T).abs().max().item())


def test_diffusers_folder_without_sample_size(tmp_path):
    """UNet2DModel's default config has "sample_size": null (was a TypeError); genviz falls back to 32x32."""
    from diffusers import UNet2DModel
    from tinymodels import DIFFUSERS_UNET
    cfg = {k: v for k, v in DIFFUSERS_UNET.items() if k != "sample_size"}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        UNet2DModel(**cfg).save_pretrained(tmp_path / "nosize")
    assert json.loads((tmp_path / "nosize" / "config.json").read_text())["sample_size"] is None
    m = load_checkpoint(tmp_path / "nosize", device="cpu")
    assert m.data_shape == (1, 32, 32)
    x = sample(m, "ddim", steps=2, n=1)
    assert x.shape == (1, 1, 32, 32) and torch.isfinite(x).all()
