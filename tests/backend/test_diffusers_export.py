"""``genviz export --format diffusers``: diffusers loads the folder and samples genviz's images; genviz reopens it."""
import json

import pytest
import torch

from genviz.backend import chain, load_checkpoint
from genviz.backend.checkpoints import CheckpointError

diffusers = pytest.importorskip("diffusers")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    from genviz.cli import main
    out = tmp_path_factory.mktemp("export") / "mnist-ddpm-diffusers"
    assert main(["export", "mnist-ddpm", str(out), "--format", "diffusers"]) == 0
    return out


def test_diffusers_ddim_from_the_export_gives_genvizs_images(exported):
    import genviz.backend.nets.diffusers_unet  # noqa: F401  (what a diffusers user imports first)
    pipe = diffusers.DDPMPipeline.from_pretrained(str(exported))
    model = load_checkpoint("mnist-ddpm", device="cpu")
    x_T = torch.randn((2, *model.data_shape), generator=torch.Generator().manual_seed(4))
    ours = list(chain(model, "ddim", steps=8, x_init=x_T, eta=0.0, clip_sample=True))[-1].x
    sched = diffusers.DDIMScheduler.from_config(pipe.scheduler.config)
    sched.set_timesteps(8)
    x = x_T
    with torch.inference_mode():
        for t in sched.timesteps:
            x = sched.step(pipe.unet(x, t).sample, t, x, eta=0.0).prev_sample
    assert float((x - ours).abs().max()) <= 1e-4
    assert (ours - x_T).abs().max() > 0.5


def test_genviz_reopens_its_export_and_samples_identically(exported):
    a = load_checkpoint("mnist-ddpm", device="cpu")
    b = load_checkpoint(str(exported), device="cpu")
    assert b.dataset == "mnist" and type(b.net) is type(a.net)
    assert all(torch.equal(v, b.net.state_dict()[k]) for k, v in a.net.state_dict().items())
    xa = list(chain(a, "dpmpp-2m", steps=3, n=2, seed=2))[-1].x
    xb = list(chain(b, "dpmpp-2m", steps=3, n=2, seed=2))[-1].x
    assert torch.equal(xa, xb)
    index = json.loads((exported / "model_index.json").read_text())
    assert index["unet"] == ["genviz.backend.nets.diffusers_unet", "GenvizUNet2DModel"]


def test_export_refusals(exported, capsys):
    from genviz.cli import main
    assert main(["export", "mnist-ddpm", str(exported)]) == 1
    assert "not an empty folder" in capsys.readouterr().err
    assert main(["export", "mnist-vae", str(exported.parent / "vae")]) == 1
    assert "only genviz U-Net diffusion models" in capsys.readouterr().err
    broken = exported.parent / "broken"
    (broken / "unet").mkdir(parents=True)
    cfg = json.loads((exported / "unet" / "config.json").read_text())
    del cfg["genviz_metadata"]
    (broken / "unet" / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="genviz_metadata"):
        load_checkpoint(str(broken))
