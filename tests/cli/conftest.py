import pytest

TINY_META = {
    "name": "tiny-ddpm", "family": "diffusion",
    "network": {"class": "UNet", "config": {"in_channels": 1, "base": 8, "mults": [1, 2], "blocks": 1,
                                            "attn_lowest": False, "dropout": 0.0}},
    "data": {"shape": [1, 28, 28], "range": [-1.0, 1.0], "dataset": "mnist", "kind": "image"},
    "schedule": {"beta_schedule": "squaredcos_cap_v2", "num_train_timesteps": 1000, "prediction_type": "epsilon"},
    "sampler": {"name": "ddim", "steps": 5, "eta": 0.0},
    "training": {"recipe": "tests (random weights)", "data_source": "none"},
}


@pytest.fixture(scope="session")
def ckpt_dir(tmp_path_factory):
    """A checkpoints folder holding one tiny random diffusion model, ``tiny-ddpm``."""
    import torch

    from genviz.backend import save_checkpoint
    from genviz.backend.nets.unet import UNet
    torch.manual_seed(0)
    net = UNet(**TINY_META["network"]["config"])
    torch.nn.init.normal_(net.conv_out.weight, std=0.05)
    d = tmp_path_factory.mktemp("ckpts")
    save_checkpoint(d / "tiny-ddpm.safetensors", net.state_dict(), TINY_META)
    return d


@pytest.fixture
def bundled(ckpt_dir, monkeypatch):
    """Point genviz's bundled-checkpoint folder at ``ckpt_dir`` (in-process and for subprocesses)."""
    from genviz.backend import checkpoints
    monkeypatch.setattr(checkpoints, "CHECKPOINT_DIR", ckpt_dir)
    monkeypatch.setenv("GENVIZ_CHECKPOINTS", str(ckpt_dir))
    return ckpt_dir
